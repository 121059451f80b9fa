"""The shadow pipeline: the daemon's own decision pipeline with a candidate configuration, on the live ticks.

Owns: ``ShadowPipeline`` — a second ``build_pipeline`` (signals -> risk -> router) on a bus of its
own, around its own ``SimVenue`` (the local exchange's matching engine on the live, shared, read-only
books: its fills and PnL are hypothetical), its own journals under ``<log dir>/shadow/`` and an
in-memory ledger and risk memory (nothing read, nothing written: separate instances from the live
ones). It subscribes to the live bus's market data AFTER the live pipeline and forwards each event
to its bus; its intents, decisions, orders and fills go to ``shadow_decisions.jsonl`` in the live
log directory; every ``runtime.shadow.report_interval_s`` of the one clock's time it publishes a
``ShadowReport`` (``hedge.shadow.compare``) on the live bus (``state/shadow_state.json``), with its
cost per tick against the live pipeline's (``hedge.shadow.cost``, sampled).

Lean (only what its purpose needs: intents, decisions, hypothetical fills and PnL, the comparison):
its signals publish no views (Features, SymbolScore, Signal, FactorReport: nobody reads them), the
factor diagnostics run only when the candidate's adaptive overlay needs them, and when the
candidate's feature parameters equal the live ones its signals read the live pipeline's features
(``hedge.shadow.features``) instead of deriving them again. Its market subscriptions are per symbol
(the live and the candidate universe: the feed carries no other), so it handles a tick after every
live stage did, the live features included.

Isolation: the shadow's bus counts a handler's exception (the bus never lets it reach the
publisher); a forward that raises anyway is counted and logged, and the live handler returns. The
report's ``errors`` is their sum with the shadow router's failed venue tasks.

Must never: send an order anywhere but its own simulated account, publish a decision on the live
bus, read or write the live ledger or risk state, or let an exception reach the live pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from functools import partial
from pathlib import Path

import msgspec

from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    BookStatus,
    BookUpdate,
    DepthDiff,
    Event,
    FeedStatus,
    Fill,
    MarkPrice,
    Nav,
    OrderIntent,
    OrderRequest,
    RiskDecision,
    ShadowReport,
    Trade,
)
from hedge.feeds.book import OrderBook
from hedge.model.clock import Clock
from hedge.pipeline import PENDING_FILE, Pipeline, build_pipeline
from hedge.shadow.compare import Comparison
from hedge.shadow.cost import ShadowCost
from hedge.shadow.features import SharedFeatures, shareable
from hedge.signals.features import FeatureEngine
from hedge.state.journal import Journals, JournalWriter
from hedge.venue.sim import SimVenue

log = logging.getLogger(__name__)

SHADOW_DIR = "shadow"
SHADOW_JOURNAL = "shadow_decisions"
_MARKET = (DepthDiff, BookUpdate, BookStatus, Trade, MarkPrice)  # what the pipeline and the sim venue read


class ShadowPipeline:
    """A candidate pipeline beside the live one (see the module docstring). ``await start()``, then ``finish()``."""

    name = "shadow"

    def __init__(
        self,
        live_cfg: Config,
        candidate: Config,
        live_bus: Bus,
        journals: Journals,
        *,
        clock: Clock,
        log_dir: str | Path,
        book_of: Callable[[str], OrderBook],
        candidate_name: str = "",
        live_features: FeatureEngine | None = None,
    ) -> None:
        """``live_features``: the live pipeline's feature engine, read instead of a second one when ``shareable``."""
        self.live_bus = live_bus
        self.clock = clock
        self.cfg = candidate
        sh = live_cfg.runtime.shadow
        self.interval_s = sh.report_interval_s
        self.dir = Path(log_dir) / SHADOW_DIR
        self.bus = Bus()
        ex, rp = candidate.runtime.local_exchange, candidate.runtime.replay
        self.venue = SimVenue(
            self.bus, candidate.strategy.universe, clock=clock, book_of=book_of, balance=ex.starting_balance,
            maker_fee=ex.maker_fee, taker_fee=ex.taker_fee, latency_s=rp.latency_ms / 1000.0,
            account_interval_s=rp.account_interval_s, user_stream=candidate.risk.user_stream,
        )
        self.venue.attach()  # before the pipeline, as in replay: matching first
        self.journals = Journals(self.dir, names=(), clock=clock, durable=(), fsync=False)
        (self.dir / PENDING_FILE).unlink(missing_ok=True)  # a fresh simulated account: nothing is pending
        self.pipeline: Pipeline = build_pipeline(
            lean(candidate), self.bus, self.journals, self.venue, clock=clock, log_dir=self.dir,
            rng=random.Random(0), persist_ledger=False, persist_risk=False,
        )
        signals = self.pipeline.signals
        signals.views = False
        self.shares_features = live_features is not None and shareable(live_cfg, candidate)
        if live_features is not None and self.shares_features:
            signals.features = SharedFeatures(live_features)
        self._symbols = tuple(dict.fromkeys((*live_cfg.strategy.universe, *candidate.strategy.universe)))
        self.compare = Comparison(candidate_name or "live configuration", sh.differences_kept)
        self._journal: JournalWriter = journals.writer(SHADOW_JOURNAL)
        self.ticks = 0
        self.forward_errors = 0
        self.cost = ShadowCost(live_bus)
        self._user_stream = live_cfg.risk.user_stream
        self._listen()

    def _listen(self) -> None:
        c, live, own = self.compare, self.live_bus, self.bus
        for sym in self._symbols:  # per symbol: after the live stages' own (per symbol) handlers
            for etype in _MARKET:
                live.subscribe(etype, self.forward, symbol=sym)
        live.subscribe(FeedStatus, self.on_feed_status)
        for side, bus in ((0, live), (1, own)):
            bus.subscribe(OrderIntent, partial(c.on_intent, side))
            bus.subscribe(RiskDecision, partial(c.on_decision, side))
            bus.subscribe(OrderRequest, partial(c.on_order, side))
            bus.subscribe(Fill, partial(c.on_fill, side))
            bus.subscribe(Nav, partial(c.on_nav, side))
        write = self._journal.write
        own.subscribe(OrderIntent, partial(write, "intent"))
        own.subscribe(RiskDecision, partial(write, "decision"))
        own.subscribe(OrderRequest, partial(write, "order"))
        own.subscribe(Fill, partial(write, "fill"))

    # ------------------------------------------------------------------ live bus handlers

    def forward(self, ev: Event) -> None:
        """A live market event, decided on by the shadow too (never raises into the live bus)."""
        self.ticks += 1
        try:
            if self.live_bus.timing:  # a sampled tick (hedge.shadow.cost)
                self.cost.forward(self.bus.publish, ev)
            else:
                self.bus.publish(ev)
        except Exception:  # the shadow must never hurt the live pipeline
            self.forward_errors += 1
            log.exception("shadow: forwarding %s failed (%d so far)", type(ev).__name__, self.forward_errors)

    def on_feed_status(self, ev: FeedStatus) -> None:
        if ev.connection != self._user_stream:  # the market's; the user stream is the shadow venue's own
            self.forward(ev)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Filters, a flat simulated account, the user stream up, then the periodic report."""
        await self.pipeline.start()
        self.pipeline.portfolio.start_flat("shadow")
        self.venue.start()
        self.clock.call_later(self.interval_s, self._periodic)
        log.info("shadow: started (candidate: %s; journals in %s; %s)", self.compare.candidate, self.dir,
                 "the live features shared" if self.shares_features else "its own features")

    @property
    def errors(self) -> int:
        return self.forward_errors + sum(self.bus.handler_errors.values()) + self.pipeline.router.task_errors

    @property
    def in_flight(self) -> int:
        """Shadow venue calls started and not finished nor held by the simulated latency."""
        return self.pipeline.in_flight - self.venue.waiting

    def report(self) -> ShadowReport:
        now = self.clock.now_ns()
        return self.compare.report(ticks=self.ticks, errors=self.errors, cost=self.cost, ts_ms=now // 1_000_000,
                                   recv_ns=now)

    def _periodic(self) -> None:
        self.publish_report()
        self.clock.call_later(self.interval_s, self._periodic)

    def publish_report(self) -> ShadowReport:
        r = self.report()
        self.live_bus.publish(r)
        return r

    def finish(self) -> ShadowReport:
        """The account as it ends and the last report (published), then the shadow's journals and pending
        record closed."""
        self.venue.publish_account(self.venue.symbols)
        r = self.publish_report()
        self.pipeline.router.pending.close()
        self.journals.close()
        self._journal.flush()
        return r

    async def run(self) -> None:
        """The daemon service: start, then live on the bus's events until cancelled."""
        await self.start()
        try:
            await asyncio.get_running_loop().create_future()  # until cancelled
        finally:
            self.finish()


def lean(candidate: Config) -> Config:
    """``candidate`` as the shadow builds it: factor diagnostics only for the adaptive overlay (no decision
    reads them otherwise)."""
    fd = candidate.strategy.factor_diagnostics
    if not fd.enabled or fd.auto_weighting.adaptive:
        return candidate
    return msgspec.structs.replace(candidate, strategy=msgspec.structs.replace(
        candidate.strategy, factor_diagnostics=msgspec.structs.replace(fd, enabled=False)))
