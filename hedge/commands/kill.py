"""``hedge kill``: engage the kill switch — write the flag file the daemon watches (the absolute
path its ``<log_dir>/daemon.json`` names, else ``risk.kill_switch.flag_file`` in the log dir,
``<log_dir>/KILL``; it halts and cancels every open order within ~0.25 s); with ``--cancel``
also cancel directly through the exchange's REST API, for when the daemon itself is stuck.
``--clear`` removes the flag instead (a running daemon stays HALTED until it is restarted).

The log dir is ``--log-dir`` or ``runtime.log_dir``, never the working directory's: a log dir that
does not exist is an error (a typo would write a flag no daemon reads), unless the flag is named
by an absolute path (``--flag-file``, or an absolute ``risk.kill_switch.flag_file``).

``--cancel`` goes through the configured venue (``hedge.daemon.cancel.direct_cancel_all``): Binance /
testnet with the keys from the environment, or the local exchange of the running daemon (its
URL from ``<log_dir>/daemon.json``).

Exit codes: 0 done; 1 the flag could not be written (or removed) or the direct cancel failed
(the flag, when written, still halts the daemon); 2 configuration error or no such log dir; 3
``--cancel`` asked but the venue cannot be reached (no keys, no running local exchange; the flag
was written).

Owns: the ``hedge kill`` arguments, which flag file to write (or clear), what it prints and its
exit code.

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
    what = p.add_mutually_exclusive_group()
    what.add_argument("--cancel", action="store_true", help="also cancel every open order directly via REST")
    what.add_argument("--clear", action="store_true",
                      help="remove the flag (a running daemon stays HALTED until restarted; a new one starts ACTIVE)")
    p.add_argument("--log-dir", metavar="DIR",
                   help="the daemon's log dir (default: runtime.log_dir; the flag is <DIR>/KILL, or what its "
                   "daemon.json names; daemon.json also names its local exchange)")


def main(args: argparse.Namespace, cancel_all: CancelAllFn | None = None) -> int:
    """``cancel_all`` cancels every open order through the exchange (default: the configured venue's)."""
    import asyncio

    from hedge.commands.common import load_config_or_report
    from hedge.daemon.lock import watched_kill_flag  # light: no engine, no ccxt (the flag comes first)
    from hedge.model.clock import LiveClock
    from hedge.risk.kill_switch import clear_flag, kill_flag_path, write_flag

    cfg = None
    if args.flag_file is None or (args.cancel and cancel_all is None):
        cfg = load_config_or_report(args.config)
        if cfg is None:
            return 2
    flag_file = args.flag_file
    if flag_file is None:
        assert cfg is not None
        log_dir = args.log_dir or cfg.runtime.log_dir
        in_log_dir = not Path(cfg.risk.kill_switch.flag_file).is_absolute()
        if in_log_dir and not Path(log_dir).is_dir():
            print(f"hedge kill: no log dir {log_dir}: no daemon has run there (check --log-dir; to halt a daemon "
                  "before its first start, create the directory first)", file=sys.stderr)
            return 2
        flag_file = watched_kill_flag(log_dir) or str(kill_flag_path(cfg.risk.kill_switch.flag_file, log_dir))
    if args.clear:
        try:
            removed = clear_flag(flag_file)
        except OSError as exc:
            print(f"hedge kill: cannot remove the flag file {flag_file}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        if removed is None:
            print(f"no kill flag at {flag_file}: nothing to clear")
        else:
            print(f"kill flag {flag_file} removed (it said: {removed.reason}); a running daemon stays HALTED "
                  "until it is restarted, a new one starts ACTIVE")
        return 0
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
