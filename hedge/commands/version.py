"""``hedge version``: print the version and the build mode.

Owns: the one output line ``hedge <version> (<mode>)``: ``compiled: N modules`` or ``pure (why)``
(``hedge.native.status()``).

Must never: load the configuration or import anything beyond ``hedge.__version__`` and ``hedge.native``.
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    del p


def main(args: argparse.Namespace) -> int:
    from hedge import __version__, native

    print(f"hedge {__version__} ({native.status()})")
    return 0
