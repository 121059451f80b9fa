"""``hedge status [--log-dir DIR] [--watch [SECONDS]]``: the state files as one terminal screen.

Owns: the one-shot and ``--watch`` modes, the notice of a kill flag in the log dir (the one its
daemon.json names, else ``<log_dir>/KILL``: the daemon is HALTED, and how to clear it) and the
exit code (1 when there are no state files or the view found problems).

Must never: write a file, signal or talk to the daemon: it only reads the state directory
(rendering is ``hedge.state.status_view``'s).
"""

from __future__ import annotations

import argparse
import sys
import time

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
    while True:
        print(CLEAR + view.render(clock.now_ns()), flush=True)
        time.sleep(args.watch)
