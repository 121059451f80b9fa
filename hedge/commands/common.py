"""Options and helpers shared by several commands (config directory, config errors).

Owns: the ``--config DIR`` option and loading it with errors printed to stderr (and the root
log level set from ``runtime.log_level``), and the exit code of an interrupted command
(``EXIT_INTERRUPTED``).

Must never: exit the process or decide an exit code (the caller does), or hold anything used by
a single command only.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hedge.config import Config


EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT) stopped a long command: 128 + the signal's number, as shells do


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="DIR",
        default=None,
        help="configuration directory (default: ./configs; built-in defaults where a file is missing)",
    )


def load_config_or_report(directory: str | None) -> Config | None:
    """Load the configuration; on errors print each (file: key: expected) to stderr and return None.

    The human log's level becomes ``runtime.log_level`` (which ``HEDGE_LOG_LEVEL`` overrides)."""
    import logging

    from hedge.config import ConfigErrors, load_config

    try:
        cfg = load_config(directory)
    except ConfigErrors as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        return None
    logging.getLogger().setLevel(cfg.runtime.log_level)
    return cfg
