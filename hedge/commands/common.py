"""Options and helpers shared by several commands (config directory, config errors, recordings).

Owns: the ``--config DIR`` option and loading it with errors printed to stderr (and the root
log level set from ``runtime.log_level``), the exit code of an interrupted command
(``EXIT_INTERRUPTED``) and ``SignalStop``, the SIGINT/SIGTERM stop of the commands that serve or
record until stopped; the check of the recordings a command is given (``check_recordings``:
missing files, no market data) and the report of what their read said (``report_read``); writing a
machine-written config file atomically (``write_config_file``: calibrator.yaml, fillprob.yaml).

Must never: exit the process or decide an exit code (the caller does), or hold anything used by
a single command only.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from hedge.config import Config
    from hedge.feeds.dispatch import FeedStats
    from hedge.feeds.recording import ReplayStats


EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT) stopped a long command: 128 + the signal's number, as shells do


class SignalStop:
    """A stop request set by SIGINT or SIGTERM on the running loop, remembering which signal.

    ``exit_code``: ``EXIT_INTERRUPTED`` after Ctrl-C (SIGINT), 0 after SIGTERM (an orderly stop)
    or no signal. Build it inside the loop; ``close()`` removes the handlers."""

    def __init__(self) -> None:
        import asyncio
        import signal

        self.event = asyncio.Event()
        self.signal = ""  # the name of the signal that stopped the command
        self._loop = asyncio.get_running_loop()
        self._signals = (signal.SIGINT, signal.SIGTERM)
        for sig in self._signals:
            self._loop.add_signal_handler(sig, self._on_signal, sig.name)

    def _on_signal(self, name: str) -> None:
        self.signal = self.signal or name
        self.event.set()

    @property
    def interrupted(self) -> bool:
        return self.signal == "SIGINT"

    @property
    def exit_code(self) -> int:
        return EXIT_INTERRUPTED if self.interrupted else 0

    def close(self) -> None:
        for sig in self._signals:
            self._loop.remove_signal_handler(sig)


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


def check_recordings(prog: str, files: Sequence[str | Path]) -> bool:
    """Do ``files`` all exist and hold market data? Each problem is printed to stderr (``prog: ...``):
    a missing file, or one that is empty, damaged before its first line or of an unknown format."""
    from pathlib import Path

    from hedge.feeds.recording import probe

    missing = [str(f) for f in files if not Path(f).exists()]
    if missing:
        print(f"{prog}: no such file: {', '.join(missing)}", file=sys.stderr)
        return False
    problems = [(f, why) for f in files if (why := probe(f))]
    for f, why in problems:
        print(f"{prog}: no market data in {f}: {why}", file=sys.stderr)
    return not problems


def report_read(prog: str, files: Sequence[str | Path], rs: ReplayStats, fs: FeedStats) -> bool:
    """After a read of ``files``: print what is wrong with the input to stderr (``WARNING``: mostly
    bad lines, a book with diffs but no snapshot, with the ``prog`` command that fixes it); False
    when nothing usable was read (no event)."""
    from hedge.feeds.input_report import input_problems

    for problem in input_problems(files, rs, fs, prog):
        print(f"{prog}: WARNING: {problem}", file=sys.stderr)
    if sum(fs.messages.values()):
        return True
    bad = rs.bad_lines + sum(fs.parse_errors.values())
    print(f"{prog}: no market data in {', '.join(map(str, files))}: no market event decoded ({bad:,} bad lines)",
          file=sys.stderr)
    return False


def write_config_file(command: str, out: Path, text: str) -> int:
    """Write ``text`` to ``out`` atomically (its directory made): 0, or 1 with the reason on stderr."""
    from hedge.state.atomic import atomic_write

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, text.encode())
    except OSError as exc:
        print(f"{command}: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0
