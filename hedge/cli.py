"""The command line: ``python -m hedge <command>`` (also installed as ``hedge``).

Owns: argument parsing, reading ``./.env`` into the environment before any command (python-dotenv;
a variable already in the process environment wins; ``.env.example`` lists every variable),
logging set-up, event-loop choice (uvloop when available) and exit codes.
Each command lives in its own module under ``hedge/commands`` exposing ``add_arguments(parser)``
and ``main(args) -> int``. Command modules import only argparse-level things at the top and
the engine inside ``main``, so ``hedge --help`` stays fast and a broken optional dependency
cannot take down every command.

Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error, 130 interrupted by Ctrl-C
(SIGINT; a long command stops cleanly and says what it did so far; SIGTERM is an orderly stop, 0).
A command may document more.

Must never: print from engine code (commands print their own user-facing output here and in
``hedge/commands``), or log a secret.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from hedge import __version__
from hedge.commands.common import EXIT_INTERRUPTED

EXIT_USAGE = 2

# name -> (module under hedge.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run", "run the trading daemon (default venue: the built-in local exchange)"),
    "replay": ("replay", "run the pipeline over recorded ticks with the simulated venue"),
    "record": ("record", "record Binance USD-M market data (gzip, or rolling Parquet files)"),
    "convert": ("convert", "convert recordings (hftbacktest gz, cryptofeed) to typed Parquet tapes"),
    "exchange": ("exchange", "run the local Binance-compatible exchange on loopback"),
    "check-config": ("check_config", "validate the configuration directory"),
    "doctor": ("doctor", "check the machine, configuration, key and account before a run"),
    "status": ("status", "show the state files in the terminal"),
    "dashboard": ("dashboard", "serve the operator dashboard (Streamlit) on 127.0.0.1"),
    "gate": ("gate", "serve the pre-trade gate over HTTP on 127.0.0.1 (check_order for other runners)"),
    "kill": ("kill", "engage the kill switch: halt, cancel all open orders"),
    "calibrate": ("calibrate", "fit the TP-before-SL calibrator from recordings"),
    "sync": ("sync", "publish the state files to Firestore, one way (nav, positions, leaderboard)"),
    "calibrate-fills": ("calibrate_fills", "fit the fill-probability model (router.mode auto) from recordings"),
    "tca": ("tca", "transaction-cost table, tca.json and charts of one or more runs' log directories"),
    "sweep": ("sweep", "replay many settings and walk-forward windows as Ray tasks; a table and a report"),
    "report": ("report", "charts of one run's log directory (equity, drawdown, fills, vetoes) as PNG and HTML"),
    "version": ("version", "print the version"),
}


def setup_logging(level: str | None = None) -> None:
    lvl = (level or os.environ.get("HEDGE_LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, lvl, logging.INFO),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        force=True,
    )


class CommandParser(argparse.ArgumentParser):
    """One command's parser: an unknown argument is reported with the command's own usage
    (argparse's default hands it up to ``hedge``'s parser, which prints the top-level usage)."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        ns, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return ns, extras


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hedge",
        description="Event-driven trading engine for Binance USD-M perpetual futures.",
    )
    parser.add_argument("--version", action="version", version=f"hedge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(f"hedge.commands.{module}").add_arguments(p)
    return parser


def load_dotenv_file(path: str = ".env") -> bool:
    """Read ``path`` (relative to the working directory) into ``os.environ`` without overriding a
    variable already set; False when there is no such file."""
    from dotenv import load_dotenv

    return os.path.isfile(path) and load_dotenv(path, override=False)


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv_file()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    setup_logging(getattr(args, "log_level", None))
    mod = importlib.import_module(f"hedge.commands.{COMMANDS[args.command][0]}")
    try:
        rc: int = mod.main(args)
    except KeyboardInterrupt:  # a command without a Ctrl-C handler of its own
        print(f"hedge {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return rc
