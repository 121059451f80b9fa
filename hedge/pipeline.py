"""The pipeline builder: every decision stage of one engine, built and attached to its bus in one call.

Owns: which decision stages exist, the order in which they subscribe, and the glue between them
that no stage may own (it would have to import another stage):
- the exchange filters, loaded from the venue, go to the router (its order filters) and to the
  risk stage (each symbol's MIN_NOTIONAL and quantity step), at start and every ``router.filters_refresh_s``;
- the fill journal (``logs/fills.jsonl``): every ``Fill`` on the bus and every fill the
  portfolio's reconciliation fetches, once each by trade id, before the ledger books it;
- (``CancelAll``, the kill switch's request, is the router's own: it halts and cancels through
  the venue it already holds.)

The daemon (``hedge run``: the ccxt venue, the local exchange or the dry-run venue) and
``hedge replay`` (the in-process simulated venue) build the SAME pipeline with ``build_pipeline``;
only the venue and the clock differ (replay's ``EventClock`` drives every timer and every timestamp
the stages make from the recording's event time; the daemon's is a ``LiveClock``).

Subscription order on the bus: the fill journal, risk, then the router, then signals, then the portfolio (its exit
scanner sees a tick after the strategies; its exits, like every intent, go through risk). The bus delivers an event to
every subscriber before anything published from a handler, so an intent is always decided on a
risk context that has already seen the tick that caused it. A venue's own market and user-stream
subscriptions (the simulated venue's matching) are made before the pipeline is built, so fills
caused by a tick are published before the stages act on that tick, as on an exchange.

Must never: be imported by a stage (import-linter), hold market data or account state itself, or
send an order (only the router does, through the venue).
"""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path
from typing import Protocol

from hedge.backoff import backoff_delays
from hedge.bus import Bus
from hedge.config import Config
from hedge.events import Fill, TradingState
from hedge.model.clock import Clock
from hedge.model.instrument import SymbolFilters
from hedge.portfolio.stage import PortfolioStage
from hedge.portfolio.store import LEDGER_FILE
from hedge.reach import level_for
from hedge.risk.dead_man import CountdownFn, DeadManSwitch
from hedge.risk.kill_switch import KillSwitchService, kill_flag_path
from hedge.risk.persisted import RISK_STATE_FILE
from hedge.risk.stage import VETO_JOURNAL, RiskStage
from hedge.router.pending import PendingOrders
from hedge.router.stage import RouterStage
from hedge.signals.stage import SignalStage
from hedge.state.fill_journal import FILLS_JOURNAL, FillJournal
from hedge.state.journal import Journals
from hedge.venue.base import Venue
from hedge.venue.errors import VenueError

log = logging.getLogger(__name__)

PENDING_FILE = "state/pending_orders.jsonl"


class Service(Protocol):
    name: str

    async def run(self) -> None: ...


class EngineLike(Protocol):
    """What ``attach_pipeline`` needs of ``hedge.app.Engine``."""

    cfg: Config
    bus: Bus
    clock: Clock
    journals: Journals
    log_dir: Path

    def add_service(self, svc: Service) -> None: ...


class Pipeline:
    """The decision stages of one engine and their glue (a service: ``run`` loads and refreshes filters)."""

    name = "pipeline"

    def __init__(
        self, cfg: Config, bus: Bus, venue: Venue, risk: RiskStage, router: RouterStage, signals: SignalStage,
        portfolio: PortfolioStage,
    ) -> None:
        self.cfg = cfg
        self.bus = bus
        self.venue = venue
        self.risk = risk
        self.router = router
        self.signals = signals
        self.portfolio = portfolio
        self.filters: dict[str, SymbolFilters] = {}

    # ------------------------------------------------------------------ exchange filters

    async def load_filters(self) -> dict[str, SymbolFilters]:
        """Load the venue's filters into the router and the risk stage's MIN_NOTIONAL and step."""
        filters = await self.venue.load_filters()
        self.router.set_filters(filters)
        for sym, f in filters.items():
            self.risk.min_notional[sym] = float(f.min_notional)
            self.risk.step_size[sym] = float(f.step_size)
        self.filters = filters
        return filters

    async def start(self) -> None:
        """Filters first (no order can be priced without them), then the orders a previous run left pending."""
        filters = await self.load_filters()
        missing = [s for s in self.cfg.strategy.universe if s not in filters]
        if missing:
            log.error("pipeline: the venue has no filters for %s: their intents will be denied", ", ".join(missing))
        n = self.router.recover()
        log.info("pipeline: ready (venue %s, %d symbols, %d pending orders recovered)", self.venue.name,
                 len(filters), n)

    async def run(self) -> None:
        """The daemon service: ``start``, then reload the filters every ``router.filters_refresh_s``."""
        await self.start()
        while True:
            await asyncio.sleep(self.cfg.runtime.router.filters_refresh_s)
            try:
                await self.load_filters()
            except VenueError as exc:
                log.log(level_for(exc), "pipeline: filter refresh failed (%s); keeping the previous filters", exc)

    @property
    def in_flight(self) -> int:
        """Venue calls of the pipeline (the router's) started and not finished."""
        return self.router.in_flight

    async def idle(self) -> None:
        """Wait until no venue call of the pipeline is in flight."""
        while self.router.in_flight:
            await self.router.idle()


def build_pipeline(
    cfg: Config,
    bus: Bus,
    journals: Journals,
    venue: Venue,
    *,
    clock: Clock,
    log_dir: str | Path | None = None,
    rng: random.Random | None = None,
    persist_ledger: bool = True,
    persist_risk: bool = True,
) -> Pipeline:
    """Build risk, router, signals and the portfolio on ``bus`` around ``venue`` (see the module docstring).

    ``log_dir`` holds the router's pending-orders record, the portfolio's ledger and the risk
    gate's memory (``state/risk_state.json``; default ``runtime.log_dir``); ``clock`` (the engine's
    one clock: ``LiveClock`` in the daemon, replay's ``EventClock``) drives every stage's timers and
    every timestamp the stages make; ``rng`` seeds the retry jitter;
    ``persist_ledger`` False keeps the ledger in memory, ``persist_risk`` False the risk gate's
    memory (replay: nothing read, nothing written, deterministic).
    The portfolio's service (``pipe.portfolio.run``: reconciliation, then the risk stage lets
    orders through) is the caller's to run; replay opens its fresh account with ``start_flat``.
    """
    rt = cfg.runtime
    directory = Path(log_dir if log_dir is not None else rt.log_dir)
    fills = FillJournal(journals.writer(FILLS_JOURNAL))
    bus.subscribe(Fill, fills.on_fill)  # first: a fill is journaled before any stage acts on it
    risk = RiskStage(bus, cfg, journals.writer(VETO_JOURNAL), clock=clock,
                     state_file=directory / "state" / RISK_STATE_FILE if persist_risk else None)
    risk.attach()
    router = RouterStage(
        bus,
        venue,
        journals,
        cfg,
        backoff=backoff_delays(rt.http.backoff_initial_s, rt.http.backoff_max_s, rng),
        clock=clock,
        pending=PendingOrders(directory / PENDING_FILE),
    )
    signals = SignalStage(bus, cfg, clock=clock)
    signals.attach()
    portfolio = PortfolioStage(bus, venue, cfg, path=directory / "state" / LEDGER_FILE,
                               clock=clock, persist=persist_ledger, fill_journal=fills)
    portfolio.attach()
    return Pipeline(cfg, bus, venue, risk, router, signals, portfolio)


def attach_pipeline(
    engine: EngineLike, venue: Venue, *, countdown_cancel_all: CountdownFn | None = None, persist_risk: bool = True,
    persist_ledger: bool = True,
) -> Pipeline:
    """The daemon's wiring: ``build_pipeline`` on the engine's bus and journals, and its services —
    the risk gate's memory writer (unless ``persist_risk`` is False: an account that is new at
    every start; ``persist_ledger`` False likewise keeps the portfolio's ledger in memory), the
    pipeline itself (filters, pending-order recovery), the portfolio
    (reconciliation: no order before the first), the kill switch, and the dead man's switch when
    the venue offers ``countdown_cancel_all`` and ``features.dead_man_switch`` is on."""
    cfg = engine.cfg
    pipe = build_pipeline(cfg, engine.bus, engine.journals, venue, clock=engine.clock, log_dir=engine.log_dir,
                          persist_risk=persist_risk, persist_ledger=persist_ledger)
    if pipe.risk.store is not None:
        engine.add_service(pipe.risk.store)
    engine.add_service(pipe)
    engine.add_service(pipe.portfolio)
    ks = cfg.risk.kill_switch
    engine.add_service(KillSwitchService(kill_flag_path(ks.flag_file, engine.log_dir), pipe.risk.halt, poll_s=ks.poll_s,
                                         publish=engine.bus.publish, clock=engine.clock))
    if countdown_cancel_all is not None and cfg.runtime.features.dead_man_switch:
        dm = cfg.risk.dead_man
        engine.add_service(DeadManSwitch(
            cfg.strategy.universe, countdown_cancel_all, countdown_ms=dm.countdown_ms, heartbeat_s=dm.heartbeat_s,
            halted=lambda: pipe.risk.machine.state is TradingState.HALTED,
        ))
    return pipe
