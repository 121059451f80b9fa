"""``hedge kill``: engage the kill switch — write the flag file the daemon watches (the absolute
path its ``<log_dir>/daemon.json`` names, else ``risk.kill_switch.flag_file``; it halts and
cancels every open order within ~0.25 s); with ``--cancel`` also cancel directly through the
exchange's REST API, for when the daemon itself is stuck.

``--cancel`` goes through the configured venue (``hedge.daemon.cancel.direct_cancel_all``): Binance /
testnet with the keys from the environment, or the local exchange of the running daemon (its
URL from ``<log_dir>/daemon.json``).

Exit codes: 0 done; 1 the flag could not be written or the direct cancel failed (the flag, when
written, still halts the daemon); 2 configuration error; 3 ``--cancel`` asked but the venue cannot
be reached (no keys, no running local exchange; the flag was written).

Owns: the ``hedge kill`` arguments, which flag file to write, what it prints and its exit code.

Must never: import the engine or a venue before the flag is written (the flag comes first; only
``--cancel`` loads the venue), or decide anything the running daemon decides.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hedge.commands.common import add_config_arg

if TYPE_CHECKING:
    from hedge.risk.kill_switch import CancelAllFn


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arg(p)
    p.add_argument("--flag-file", metavar="PATH", help="override risk.kill_switch.flag_file")
    p.add_argument("--reason", default="operator: hedge kill", help="recorded in the flag and the state change")
    p.add_argument("--cancel", action="store_true", help="also cancel every open order directly via REST")
    p.add_argument("--log-dir", metavar="DIR",
                   help="the daemon's log dir (its daemon.json names the flag it watches and its local exchange)")


def _watched_flag(log_dir: str | None) -> str:
    """The kill flag the daemon of ``log_dir`` watches (absolute, from its daemon.json), or ""."""
    import msgspec

    from hedge.daemon.lock import RUNTIME_FILE  # light: no engine, no ccxt (the flag comes first)

    try:
        flag = msgspec.json.decode(Path(log_dir or ".", RUNTIME_FILE).read_bytes()).get("kill_flag", "")
    except (OSError, msgspec.DecodeError, AttributeError):
        return ""
    return flag if isinstance(flag, str) else ""


def main(args: argparse.Namespace, cancel_all: CancelAllFn | None = None) -> int:
    """``cancel_all`` cancels every open order through the exchange (default: the configured venue's)."""
    import asyncio

    from hedge.commands.common import load_config_or_report
    from hedge.model.clock import LiveClock
    from hedge.risk.kill_switch import write_flag

    cfg = None
    if args.flag_file is None or (args.cancel and cancel_all is None):
        cfg = load_config_or_report(args.config)
        if cfg is None:
            return 2
    flag_file = args.flag_file or (
        _watched_flag(args.log_dir or cfg.runtime.log_dir) or cfg.risk.kill_switch.flag_file if cfg is not None else ""
    )
    try:
        write_flag(flag_file, args.reason, ts_ns=LiveClock().now_ns())
    except OSError as exc:
        print(f"hedge kill: cannot write the flag file {flag_file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"kill switch engaged: {flag_file} ({args.reason})")
    if not args.cancel:
        return 0
    from hedge.daemon.cancel import direct_cancel_all
    from hedge.daemon.errors import SetupError

    cancel: Callable[[], Coroutine[Any, Any, object]]
    try:
        if cancel_all is not None:
            cancel = cancel_all
        else:
            import msgspec

            assert cfg is not None
            if args.log_dir:
                cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(cfg.runtime, log_dir=args.log_dir))
            cancel = direct_cancel_all(cfg)
        # The venue itself is built inside the loop: missing keys surface here as a SetupError too.
        result = asyncio.run(cancel())
    except SetupError as exc:
        print(f"hedge kill --cancel: {exc}; the running daemon cancels every open order when it sees the flag",
              file=sys.stderr)
        return 3
    except Exception as exc:
        print(f"hedge kill: the direct cancel failed ({exc}); the flag still halts the daemon", file=sys.stderr)
        return 1
    count = f"{result} " if isinstance(result, int) else ""
    print(f"all {count}open orders cancelled through the exchange")
    return 0
