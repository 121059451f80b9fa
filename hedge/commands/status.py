"""``hedge status [--log-dir DIR] [--watch [SECONDS]]``: the state files as one terminal screen.

Owns: the one-shot and ``--watch`` modes (``--watch`` installs its own SIGINT/SIGTERM handlers:
a shell starts a background job with SIGINT ignored, and Python then has no KeyboardInterrupt
to raise; Ctrl-C exits 130, SIGTERM 0), the notice of a kill flag in the log dir (the one its
daemon.json names, else ``<log_dir>/KILL``: the daemon is HALTED, and how to clear it) and the
exit code (1 when there are no state files or the view found problems).

Must never: write a file, signal or talk to the daemon: it only reads the state directory
(rendering is ``hedge.state.status_view``'s).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

CLEAR = "\x1b[H\x1b[2J"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-dir", metavar="DIR", default="logs", help="the engine's log directory (default: logs)")
    p.add_argument(
        "--watch",
        metavar="SECONDS",
        nargs="?",
        type=float,
        const=2.0,
        default=None,
        help="refresh every SECONDS (default 2) until interrupted",
    )


def kill_notices(log_dir: str, now_ns: int) -> list[str]:
    """The kill flag of ``log_dir``'s daemon, if present: it is HALTED, why, and how to clear it."""
    from pathlib import Path

    from hedge.config.risk import KillSwitchConfig
    from hedge.daemon.lock import watched_kill_flag
    from hedge.risk.kill_switch import halted_notice, kill_flag_path, read_flag

    path = Path(watched_kill_flag(log_dir) or kill_flag_path(KillSwitchConfig().flag_file, log_dir))
    flag = read_flag(path)
    return [] if flag is None else [halted_notice(flag, path, log_dir, now_ns)]


class _Stopped(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise _Stopped(signum)


def watch(render: Callable[[], str], interval_s: float) -> int:
    """Redraw every ``interval_s`` until SIGINT (130) or SIGTERM (0), whatever this process inherited for them."""
    from hedge.commands.common import EXIT_INTERRUPTED

    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _stop) for sig in signals}  # also over an inherited SIG_IGN
    try:
        while True:
            print(CLEAR + render(), flush=True)
            time.sleep(interval_s)
    except _Stopped as stopped:
        return EXIT_INTERRUPTED if stopped.signum == signal.SIGINT else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(args: argparse.Namespace) -> int:
    from hedge.model.clock import LiveClock
    from hedge.state.manifest import state_dir
    from hedge.state.status_view import StatusView

    clock = LiveClock()
    view = StatusView(state_dir(args.log_dir), notices=lambda: kill_notices(args.log_dir, clock.now_ns()))
    if args.watch is None:
        text = view.render(clock.now_ns())
        print(text)
        return 0 if not text.startswith("no state files") and not view.problems else 1
    if args.watch <= 0:
        print("hedge status: --watch needs a positive interval", file=sys.stderr)
        return 2
    return watch(lambda: view.render(clock.now_ns()), args.watch)
