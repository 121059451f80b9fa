"""The signals stage: bus events in, Features / Signal / SymbolScore / StrategyScore / OrderIntent out.

Owns: the wiring. Synchronous bus subscriptions (plain calls on the hot path, no awaits, no
per-tick logging) for BookUpdate, Trade and MarkPrice of the universe's symbols, Fill for
realized outcomes and Nav for sizing. One book tick runs: features -> every enabled strategy ->
the factor diagnostics (``hedge.signals.factor_diagnostics``, when on) -> (only past a strategy's
threshold) the screener -> publish Signal + OrderIntent. Every strategy scores the tick before any
is screened, so the factors and conviction see the whole tick. Features,
SymbolScore and every strategy's current Signal (its view, whether or not it trades) are
published per symbol at most every ``signals.publish_every_ms`` of event time. Whenever a round
trip closes: SymbolScore (the symbol's whole record) and, for a trip a strategy opened,
StrategyScore (that strategy's record on the symbol, with its feedback-allocator budget when
``features.feedback_allocator`` is on: the trip's evidence sets the budget that scales the stream's
next intents, ``hedge.signals.allocator``). A ``FactorReport`` goes out with the
throttled publish at most every ``factor_diagnostics.publish_every_ms``; conviction (when on) reads
``RiskSnapshot``. ``views`` False (a shadow pipeline: nobody reads its views) skips the throttled
publish of Features / SymbolScore / Signal / FactorReport; no decision reads them.
Fills are attributed to strategies through the router's OrderRequest (client order id ->
intent id, whose prefix names the strategy); the map keeps the newest ``_ORDER_MAP_SIZE`` orders.
Cost per tick (docs/signals.md): scorers and thresholds bound once, the factor diagnostics entered
only when their ``wake`` time for the symbol has come, the screen and the views in their own methods.
Compiled (setup.py HOT_MODULES), ``stage.pxd`` makes ``SignalStage`` a cdef class whose tick body reads
the typed feature state's C fields and compares the scores as C doubles (every attribute stays public:
the shadow pipeline swaps ``features`` and turns ``views`` off after building it).

Must never: block, await, or publish an intent from an invalid book.
"""

from __future__ import annotations

import logging
from collections import deque

from hedge.bus import Bus
from hedge.config import Config
from hedge.config.calibration_check import applied
from hedge.events import BookUpdate, Fill, MarkPrice, Nav, OrderIntent, OrderRequest, RiskSnapshot, Signal, Trade
from hedge.model.clock import Clock
from hedge.model.sprt import SprtDecision
from hedge.signals.adaptive_weights import AdaptiveWeights
from hedge.signals.allocator import FeedbackAllocator
from hedge.signals.calibrator import Calibrator
from hedge.signals.conviction import Conviction
from hedge.signals.factor_diagnostics import FactorDiagnostics
from hedge.signals.features import FeatureEngine, SymbolFeatures
from hedge.signals.round_trips import RoundTripTracker
from hedge.signals.scores import ScoreBoard
from hedge.signals.screener import Screener
from hedge.signals.sizing import Sizer
from hedge.signals.strategies import build_strategies
from hedge.signals.strategies.base import Strategy

log = logging.getLogger(__name__)

_ORDER_MAP_SIZE = 8192


class SignalStage:
    """Features, strategies, screener, scores and SPRT of the universe, as sync bus handlers (``attach``).

    Raises ``ConfigErrors`` at construction when a strategy entry of strategy.yaml is invalid.
    """

    name = "signals"

    def __init__(
        self, bus: Bus, cfg: Config, strategies: list[Strategy] | None = None, *, clock: Clock | None = None
    ) -> None:
        """``clock`` (the engine's one clock) times the feedback allocator's budgets; the allocator runs
        only with ``features.feedback_allocator`` on and a clock given."""
        st = cfg.strategy
        self.bus = bus
        self.universe = tuple(st.universe)
        self.features = FeatureEngine(st.signals)
        where = f"{cfg.source}/strategy.yaml" if cfg.source else "strategy.yaml"
        self.strategies = build_strategies(st, where) if strategies is None else strategies
        self._scorers = tuple(s.score for s in self.strategies)  # bound once: no per-tick method lookup
        self._thresholds = tuple(s.params.entry_threshold for s in self.strategies)
        self._latest = [0.0] * len(self.strategies)  # this tick's score of each strategy (no per-tick list)
        self.scores = ScoreBoard(st.scores)
        self.round_trips = RoundTripTracker()
        calibrator = Calibrator(applied(cfg))
        self.screener = Screener(cfg, calibrator, Sizer(st.sizing, st.per_trade_nav_pct), self.scores)
        self._every_ms = st.signals.publish_every_ms
        self._last_pub: dict[str, int] = {}
        self._names = frozenset(s.name for s in self.strategies)
        self._order_strategy: dict[str, str] = {}
        self._order_fifo: deque[str] = deque()
        self.intents = 0
        self.views = True  # publish the throttled views (Features, SymbolScore, Signal, FactorReport)
        self.factors = self._factor_diagnostics(cfg)
        self.conviction: Conviction | None = None
        if cfg.runtime.features.intel or st.conviction.enabled:
            self.conviction = Conviction(st.conviction, cfg.risk.portfolio_dd_limit, cfg.risk.daily_dd_limit,
                                         self._latest)
            self.screener.conviction = self.conviction

        self.allocator: FeedbackAllocator | None = None
        self._clock = clock
        if clock is not None and cfg.runtime.features.feedback_allocator:
            self.allocator = self.screener.allocator = FeedbackAllocator(st.allocator)
            self.screener.now_ms = clock.now_ms

    def _factor_diagnostics(self, cfg: Config) -> FactorDiagnostics | None:
        fd = cfg.strategy.factor_diagnostics
        if not fd.enabled:
            return None
        scores = self.scores
        overlay = AdaptiveWeights(fd.auto_weighting, scores.weights, scores.set_weights) \
            if fd.auto_weighting.adaptive else None
        return FactorDiagnostics(fd, cfg.strategy.exits.horizon_s, [s.name for s in self.strategies], overlay,
                                 lambda symbol: scores.stats(symbol).expectancy_bps)

    def attach(self) -> None:
        bus = self.bus
        for sym in self.universe:
            bus.subscribe(BookUpdate, self.on_book, symbol=sym)
            bus.subscribe(Trade, self.on_trade, symbol=sym)
            bus.subscribe(MarkPrice, self.on_mark, symbol=sym)
        bus.subscribe(OrderRequest, self.on_order)
        bus.subscribe(Fill, self.on_fill)
        bus.subscribe(Nav, self.on_nav)
        if self.conviction is not None:
            bus.subscribe(RiskSnapshot, self.conviction.on_risk)

    # ------------------------------------------------------------------ hot path

    def on_book(self, u: BookUpdate) -> None:
        f = self.features.on_book(u)
        if not f.valid:
            return
        latest = self._latest
        for k, score in enumerate(self._scorers):
            latest[k] = score(f)
        ts, sym = f.ts_ms, f.symbol  # read once (compiled, the feature state's fields are C-level)
        factors = self.factors
        if factors is not None and ts >= factors.wake.get(sym, 0.0):
            factors.on_tick(f, latest)
        strongest = 0.0
        for k, threshold in enumerate(self._thresholds):
            s = latest[k]
            a = s if s >= 0.0 else -s
            if a > strongest:
                strongest = a
            if a >= threshold and a > 0.0:
                self._screen(k, f, s)
        if self.views:
            last = self._last_pub.get(sym)
            if last is None or ts - last >= self._every_ms:
                self._publish_views(f, strongest)

    def rehearse(self, symbol: str) -> tuple[Signal, OrderIntent] | str | None:
        """The first strategy's intent at its threshold on ``symbol``'s latest features, kept nowhere
        (cache warming: ``hedge.daemon.warm``); None before the features are valid."""
        f = self.features.states.get(symbol)
        if f is None or not f.valid or not self.strategies:
            return None
        return self.screener.rehearse(self.strategies[0], f, self._thresholds[0] or 1.0)

    def _screen(self, k: int, f: SymbolFeatures, s: float) -> None:
        """Strategy ``k``'s score ``s`` is past its threshold: screen it, publish Signal + OrderIntent."""
        out = self.screener.screen(self.strategies[k], f, s)
        if out is None:
            return
        self.intents += 1
        if self.factors is not None:
            self.factors.on_entry(f, self._latest, out[1].side.sign)
        publish = self.bus.publish
        publish(out[0])
        publish(out[1])

    def _publish_views(self, f: SymbolFeatures, strongest: float) -> None:
        """The throttled views of ``f.symbol``: FactorReport (when due), Features, SymbolScore, each Signal."""
        publish = self.bus.publish
        factors = self.factors
        self._last_pub[f.symbol] = f.ts_ms
        if factors is not None and factors.due(f.ts_ms):
            publish(factors.report(f.ts_ms, f.recv_ns, self.scores.weights))
        self.scores.stats(f.symbol).signal = strongest
        publish(f.snapshot())
        publish(self.scores.snapshot(f.symbol, f.spread_bps, f.ts_ms, f.recv_ns))
        latest = self._latest
        for k, strat in enumerate(self.strategies):
            publish(self.screener.signal(strat.name, f, latest[k]))

    def on_trade(self, t: Trade) -> None:
        self.features.on_trade(t)

    def on_mark(self, m: MarkPrice) -> None:
        self.features.on_mark(m)

    # ------------------------------------------------------------------ outcomes and NAV

    def on_order(self, req: OrderRequest) -> None:
        name = req.intent_id.partition("-")[0]
        if name not in self._names or req.client_order_id in self._order_strategy:
            return
        self._order_strategy[req.client_order_id] = name
        self._order_fifo.append(req.client_order_id)
        if len(self._order_fifo) > _ORDER_MAP_SIZE:
            self._order_strategy.pop(self._order_fifo.popleft(), None)

    def on_fill(self, fill: Fill) -> None:
        strategy = self._order_strategy.get(fill.client_order_id, "")
        sym = fill.symbol
        was = (self.scores.stats(sym).sprt.enabled, self.scores.stats(sym, strategy).sprt.enabled)
        trip = self.round_trips.on_fill(fill, strategy)
        if trip is None:
            return
        on_symbol, on_strategy = self.scores.on_round_trip(trip)
        if self.factors is not None:
            self.factors.on_round_trip(sym, trip.return_bps)
        if was[0] and on_symbol is SprtDecision.NO_EDGE:
            log.warning("signals: SPRT switched %s off (edge gone)", sym)
        if was[1] and on_strategy is SprtDecision.NO_EDGE:
            log.warning("signals: SPRT switched %s on %s off (edge gone)", trip.strategy, sym)
        spread = self.features.state(sym).spread_bps
        publish = self.bus.publish
        publish(self.scores.snapshot(sym, spread, fill.ts_ms, fill.recv_ns))
        if trip.strategy:
            budget = 1.0
            if self.allocator is not None and self._clock is not None and on_strategy is not None:
                budget = self.allocator.on_trip(sym, trip.strategy, self.scores.symbol_score(sym, trip.strategy),
                                                on_strategy, self._clock.now_ms())
            publish(self.scores.strategy_snapshot(sym, trip.strategy, spread, fill.ts_ms, fill.recv_ns, budget))

    def on_nav(self, n: Nav) -> None:
        self.screener.nav = n.nav
