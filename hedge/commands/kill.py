"""``hedge kill``: engage the kill switch — write the flag file the daemon watches (it halts and
cancels every open order within ~0.25 s); with ``--cancel`` also cancel directly through the
exchange's REST API, for when the daemon itself is stuck.

Exit codes: 0 done; 1 the flag could not be written or the direct cancel failed (the flag, when
written, still halts the daemon); 2 configuration error; 3 ``--cancel`` asked but no venue adapter
is available to cancel through (the flag was written).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from hedge.commands.common import add_config_arg

if TYPE_CHECKING:
    from hedge.risk.kill_switch import CancelAllFn


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arg(p)
    p.add_argument("--flag-file", metavar="PATH", help="override risk.kill_switch.flag_file")
    p.add_argument("--reason", default="operator: hedge kill", help="recorded in the flag and the state change")
    p.add_argument("--cancel", action="store_true", help="also cancel every open order directly via REST")


def main(args: argparse.Namespace, cancel_all: CancelAllFn | None = None) -> int:
    """``cancel_all`` is the venue adapter's coroutine that cancels every open order (injected)."""
    import asyncio

    from hedge.commands.common import load_config_or_report
    from hedge.risk.kill_switch import write_flag

    flag_file = args.flag_file
    if flag_file is None:
        cfg = load_config_or_report(args.config)
        if cfg is None:
            return 2
        flag_file = cfg.risk.kill_switch.flag_file
    try:
        write_flag(flag_file, args.reason)
    except OSError as exc:
        print(f"hedge kill: cannot write the flag file {flag_file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"kill switch engaged: {flag_file} ({args.reason})")
    if not args.cancel:
        return 0
    if cancel_all is None:
        print(
            "hedge kill --cancel: no venue adapter to cancel through directly; "
            "the running daemon cancels every open order when it sees the flag",
            file=sys.stderr,
        )
        return 3
    try:
        asyncio.run(cancel_all())
    except Exception as exc:
        print(f"hedge kill: the direct cancel failed ({exc}); the flag still halts the daemon", file=sys.stderr)
        return 1
    print("all open orders cancelled through the exchange")
    return 0
