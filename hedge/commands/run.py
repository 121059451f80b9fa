"""``hedge run``: the trading daemon (wiring in ``hedge.daemon.wiring``; this module parses, prints, exits).

Exit codes: 0 stopped cleanly (SIGTERM, ``--once`` completed, ``--minutes`` elapsed), 1 ``--once``
did not complete a cycle, 2 configuration error, a venue that cannot be built (e.g. testnet keys
missing) or a ``--preflight`` doctor check that FAILED, 130 stopped cleanly by Ctrl-C (SIGINT).

Owns: the ``hedge run`` arguments (overrides of runtime.yaml), ``--preflight`` (``hedge doctor``
first; refuse on a FAIL), what it prints (the preflight checks, the ``--once`` summary, the
``--minutes`` run report, setup and config errors) and its exit code.

Must never: wire the engine itself (``hedge.daemon.wiring.Daemon`` does), or trade.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from hedge.commands.common import add_config_arg

if TYPE_CHECKING:
    from hedge.config import Config


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arg(p)
    p.add_argument("--once", action="store_true", help="run one full cycle and exit (also EXECUTOR_ONCE=1)")
    p.add_argument("--venue", choices=["local", "binance-testnet", "binance"], help="override runtime.venue")
    p.add_argument("--dry-run", action="store_true", help="no order leaves the process (also DRY_RUN=1)")
    p.add_argument("--log-dir", metavar="DIR", help="override runtime.log_dir")
    p.add_argument("--minutes", type=positive_minutes, default=0.0, metavar="N",
                   help="trade N minutes, stop cleanly, print and write a run report (<log dir>/run_report.json)")
    p.add_argument("--preflight", action="store_true", help="run `hedge doctor` first and refuse to start on a FAIL")


def positive_minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of minutes, got {text!r}")
    return value


def preflight(cfg: Config) -> bool:
    """``hedge doctor`` on ``cfg``: its lines printed; False on a FAIL."""
    import asyncio
    import os

    from hedge.doctor.result import exit_code
    from hedge.doctor.run import doctor
    from hedge.model.clock import LiveClock

    checks = asyncio.run(doctor(cfg, now_ms=LiveClock().now_ms(), env=dict(os.environ)))
    for c in checks:
        print(f"preflight: {c.line()}")
    if exit_code(checks) == 2:
        print("hedge run: refusing to start: a preflight check FAILED (see above)", file=sys.stderr)
        return False
    return True


def main(args: argparse.Namespace) -> int:
    import msgspec

    from hedge.app import run_async
    from hedge.commands.common import EXIT_INTERRUPTED, load_config_or_report
    from hedge.config import ConfigErrors
    from hedge.daemon.errors import SetupError
    from hedge.daemon.wiring import Daemon
    from hedge.replay.summary import DecisionRecorder

    cfg = load_config_or_report(args.config)
    if cfg is None:
        return 2
    overrides: dict[str, object] = {}
    if args.venue:
        overrides["venue"] = args.venue
    if args.dry_run:
        overrides["dry_run"] = True
    if args.once:
        overrides["once"] = True
    if args.log_dir:
        overrides["log_dir"] = args.log_dir
    if overrides:
        cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(cfg.runtime, **overrides))
    if args.preflight and not preflight(cfg):
        return 2
    daemon = Daemon(cfg, minutes=0.0 if cfg.runtime.once else args.minutes, recorder=DecisionRecorder)
    try:
        rc = run_async(daemon.run())
    except SetupError as exc:
        print(f"hedge run: {exc}", file=sys.stderr)
        return 2
    except ConfigErrors as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        return 2
    if rc == 0 and daemon.engine is not None and daemon.engine.stop_reason == "SIGINT":
        rc = EXIT_INTERRUPTED
    if daemon.once is not None:
        s = daemon.once.summary
        status = "ok" if s.ok else f"INCOMPLETE ({s.problem})"
        print(f"hedge run --once: {status} in {s.elapsed_s:.2f}s on {s.venue}")
        print(f"  books synced: {', '.join(s.books_synced) or 'none'}; filters: {s.filters} symbols; "
              f"NAV: {s.nav:,.2f} USDT")
        print(f"  reconciled: {s.reconciled or 'no'}")
        print(f"  round of decisions: {s.features} feature updates, {s.decisions} risk decisions "
              f"({s.approved} approved), {s.orders_sent} orders sent")
        why = f" ({s.state_reason})" if s.state_reason and s.trading_state != "ACTIVE" else ""
        print(f"  trading: {s.trading_state}{why}")
    if daemon.bounded is not None and daemon.engine is not None:
        for line in daemon.bounded.finish().lines():
            print(line)
    return rc
