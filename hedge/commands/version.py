"""``hedge version``: print the version.

Owns: the one output line ``hedge <version>``.

Must never: load the configuration or import anything beyond ``hedge.__version__``.
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    del p


def main(args: argparse.Namespace) -> int:
    from hedge import __version__

    print(f"hedge {__version__}")
    return 0
