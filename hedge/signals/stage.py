"""The signals stage: bus events in, Features / Signal / SymbolScore / OrderIntent out.

Owns the wiring: synchronous bus subscriptions (plain calls on the hot path, no awaits, no
per-tick logging) for BookUpdate, Trade and MarkPrice of the universe's symbols, Fill for
realized outcomes and Nav for sizing. One book tick runs: features -> every enabled strategy ->
(only past a strategy's threshold) the screener -> publish Signal + OrderIntent. Features and
SymbolScore are published per symbol at most every ``signals.publish_every_ms`` of event time,
and a SymbolScore at once whenever a round trip closes.

Must never: block, await, or publish an intent from an invalid book.
"""

from __future__ import annotations

import logging

from hedge.bus import Bus
from hedge.config import Config
from hedge.events import BookUpdate, Fill, MarkPrice, Nav, Trade
from hedge.signals.calibrator import Calibrator
from hedge.signals.features import FeatureEngine
from hedge.signals.round_trips import RoundTripTracker
from hedge.signals.scores import ScoreBoard
from hedge.signals.screener import Screener
from hedge.signals.sizing import Sizer
from hedge.signals.sprt import SprtDecision
from hedge.signals.strategies import build_strategies
from hedge.signals.strategies.base import Strategy

log = logging.getLogger(__name__)


class SignalStage:
    name = "signals"

    def __init__(self, bus: Bus, cfg: Config, strategies: list[Strategy] | None = None) -> None:
        st = cfg.strategy
        self.bus = bus
        self.universe = tuple(st.universe)
        self.features = FeatureEngine(st.signals)
        self.strategies = build_strategies(st) if strategies is None else strategies
        self._gates = tuple((s, s.params.entry_threshold) for s in self.strategies)
        self.scores = ScoreBoard(st.scores)
        self.round_trips = RoundTripTracker()
        calibrator = Calibrator(st.calibrator, st.exits.tp_pct * 1e4, st.exits.sl_pct * 1e4)
        self.screener = Screener(cfg, calibrator, Sizer(st.sizing, st.per_trade_nav_pct), self.scores)
        self._every_ms = st.signals.publish_every_ms
        self._last_pub: dict[str, int] = {}
        self.intents = 0

    def attach(self) -> None:
        bus = self.bus
        for sym in self.universe:
            bus.subscribe(BookUpdate, self.on_book, symbol=sym)
            bus.subscribe(Trade, self.on_trade, symbol=sym)
            bus.subscribe(MarkPrice, self.on_mark, symbol=sym)
        bus.subscribe(Fill, self.on_fill)
        bus.subscribe(Nav, self.on_nav)

    # ------------------------------------------------------------------ hot path

    def on_book(self, u: BookUpdate) -> None:
        f = self.features.on_book(u)
        if not f.valid:
            return
        publish = self.bus.publish
        strongest = 0.0
        for strat, threshold in self._gates:
            s = strat.score(f)
            a = s if s >= 0.0 else -s
            if a > strongest:
                strongest = a
            if a >= threshold and a > 0.0:
                out = self.screener.screen(strat, f, s)
                if out is not None:
                    self.intents += 1
                    publish(out[0])
                    publish(out[1])
        last = self._last_pub.get(f.symbol)
        if last is None or f.ts_ms - last >= self._every_ms:
            self._last_pub[f.symbol] = f.ts_ms
            self.scores.stats(f.symbol).signal = strongest
            publish(f.snapshot())
            publish(self.scores.snapshot(f.symbol, f.spread_bps, f.ts_ms, f.recv_ns))

    def on_trade(self, t: Trade) -> None:
        self.features.on_trade(t)

    def on_mark(self, m: MarkPrice) -> None:
        self.features.on_mark(m)

    # ------------------------------------------------------------------ outcomes and NAV

    def on_fill(self, fill: Fill) -> None:
        trip = self.round_trips.on_fill(fill)
        if trip is None:
            return
        was_enabled = self.scores.stats(trip.symbol).sprt.enabled
        decision = self.scores.on_round_trip(trip)
        if was_enabled and decision is SprtDecision.NO_EDGE:
            log.warning("signals: SPRT switched %s off (edge gone)", trip.symbol)
        f = self.features.state(trip.symbol)
        self.bus.publish(self.scores.snapshot(trip.symbol, f.spread_bps, fill.ts_ms, fill.recv_ns))

    def on_nav(self, n: Nav) -> None:
        self.screener.nav = n.nav
