"""``hedge run``: the trading daemon."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from hedge.commands.common import add_config_arg

if TYPE_CHECKING:
    from hedge.app import Engine
    from hedge.venue.base import Venue


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arg(p)
    p.add_argument("--once", action="store_true", help="run one full cycle and exit (also EXECUTOR_ONCE=1)")
    p.add_argument("--venue", choices=["local", "binance-testnet", "binance"], help="override runtime.venue")
    p.add_argument("--dry-run", action="store_true", help="no order leaves the process (also DRY_RUN=1)")
    p.add_argument("--log-dir", metavar="DIR", help="override runtime.log_dir")


def main(args: argparse.Namespace) -> int:
    import msgspec

    from hedge.app import Engine, run_async
    from hedge.commands.common import load_config_or_report

    cfg = load_config_or_report(args.config)
    if cfg is None:
        return 2
    rt = cfg.runtime
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
        cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(rt, **overrides))
    engine = Engine(cfg)
    if not _wire_signals(engine):
        return 2
    _wire_risk(engine)
    problem = _wire_router(engine)
    if problem:
        print(f"hedge run: {problem}", file=sys.stderr)
        return 2
    return run_async(engine.run())


def _wire_signals(engine: Engine) -> bool:
    """The signals stage on the bus (market data, fills, NAV -> intents); False on a bad strategy config."""
    import sys

    from hedge.config import ConfigErrors
    from hedge.signals.stage import SignalStage

    try:
        SignalStage(engine.bus, engine.cfg).attach()
    except ConfigErrors as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        return False
    return True


def _wire_risk(engine: Engine) -> None:
    """The risk stage on the bus (intents -> decisions) and the kill switch watching its flag/SIGUSR1."""
    from hedge.risk.kill_switch import KillSwitchService
    from hedge.risk.stage import RiskStage

    ks = engine.cfg.risk.kill_switch
    risk = RiskStage(engine.bus, engine.cfg, engine.journals.writer("risk_vetoes"))
    risk.attach()
    engine.add_service(KillSwitchService(ks.flag_file, risk.halt, poll_s=ks.poll_s))


def _wire_router(engine: Engine) -> str:
    """The router (approved decisions -> orders) and its venue.

    DRY_RUN: the dry-run venue (nothing leaves the process) with the bundled exchangeInfo's filters.
    ``binance`` / ``binance-testnet``: the ccxt venue (keys from BINANCE_API_KEY/BINANCE_API_SECRET)
    and its user-data stream. ``local``: not wired here yet (the local exchange is not started by
    ``hedge run``), so orders are not routed. Returns a problem that must stop the start ("" = none).
    """
    import logging

    from hedge.router.pending import PendingOrders
    from hedge.router.router import Router

    cfg = engine.cfg
    rt = cfg.runtime
    venue: Venue
    if rt.dry_run:
        from hedge.venue.binance_filters import bundled_filters
        from hedge.venue.dry_run import DryRunVenue

        venue = DryRunVenue(engine.journals, bundled_filters())
    elif rt.venue in ("binance", "binance-testnet"):
        from hedge.venue.binance import BinanceVenue
        from hedge.venue.user_stream import UserStream

        prod = rt.venue == "binance"
        rest = rt.feeds.rest_url_binance if prod else rt.feeds.rest_url_testnet
        ws = rt.feeds.ws_url_binance if prod else rt.feeds.ws_url_testnet
        try:
            binance = BinanceVenue.from_env(rest, rt.http, name=rt.venue, publish=engine.bus.publish)
        except ValueError as e:
            return str(e)
        engine.add_service(UserStream(binance, ws, engine.bus.publish, paths=rt.feeds.stream_paths,
                                      connection=cfg.risk.user_stream))
        venue = binance
    else:
        logging.getLogger(__name__).warning("router: venue %r is not wired into hedge run yet; no order is routed",
                                            rt.venue)
        return ""
    pending = PendingOrders(engine.log_dir / "state" / "pending_orders.jsonl")
    engine.add_service(Router(engine.bus, venue, engine.journals, cfg, pending=pending))
    return _wire_portfolio(engine, venue)


def _wire_portfolio(engine: Engine, venue: Venue) -> str:
    """The ledger, its reconciliation with ``venue`` (risk vetoes every order until the first one)
    and the exit scanner. Returns a problem that must stop the start (an unreadable ledger file)."""
    from hedge.portfolio.stage import PortfolioStage
    from hedge.portfolio.store import LEDGER_FILE

    try:
        portfolio = PortfolioStage(engine.bus, venue, engine.cfg, path=engine.log_dir / "state" / LEDGER_FILE)
    except ValueError as e:
        return str(e)
    portfolio.attach()
    engine.add_service(portfolio)
    return ""
