"""The market player of the local exchange: plays market sources in (scaled) real time.

Owns: ``MarketPlayer`` — pacing each source's events to their play time (``speed`` x real time,
yielding to the event loop every ``PLAY_BATCH`` events when behind schedule), and playing one
event: the matching engine first, then the trade history (``TradeHistory``: what the trade,
kline and ticker endpoints answer), then the streams in Binance's wire format (depth diffs through
``DepthStreams``, ``@trade`` / ``@aggTrade``, ``@bookTicker``); the last update id per symbol
(what ``/fapi/v1/depth`` answers) and the count of events played.

Clock: paced on ``time.monotonic_ns()``: the local exchange plays its market in real time on its own
clock, apart from the engine's (tests/unit/model/test_clock_usage.py).

Must never: build a market event (the sources do) or change an account other than through the
matching engine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import orjson

from hedge.exchange.depthstream import DepthStreams
from hedge.exchange.marketdata import BookDiff, MarketTrade, PlayEvent, TopOfBook
from hedge.exchange.matching import MatchingEngine
from hedge.exchange.streams import Hub
from hedge.exchange.symbols import SymbolSpec
from hedge.exchange.trades import TradeHistory

PLAY_BATCH = 512  # events played between two yields to the event loop when behind schedule


class MarketPlayer:
    def __init__(
        self,
        engine: MatchingEngine,
        hub: Hub,
        depth: DepthStreams,
        specs: dict[str, SymbolSpec],
        clock: Callable[[], int],
        speed: float,
        trades: TradeHistory,
    ) -> None:
        self.engine = engine
        self.trades = trades
        self.hub = hub
        self.depth = depth
        self.specs = specs
        self.clock = clock
        self.speed = speed
        self.last_update_id: dict[str, int] = {}
        self.events_played = 0

    async def play(self, source: Iterable[tuple[int, PlayEvent]]) -> None:
        start = time.monotonic_ns()
        since_yield = 0
        for t, ev in source:
            due = start + int(t / self.speed)
            delay = due - time.monotonic_ns()
            if delay > 0:
                await asyncio.sleep(delay / 1e9)
                since_yield = 0
            else:
                since_yield += 1
                if since_yield >= PLAY_BATCH:
                    await asyncio.sleep(0)
                    since_yield = 0
            self.apply(ev)

    def apply(self, ev: PlayEvent) -> None:
        """Play one market event: matching engine first, then the streams (Binance wire format)."""
        self.events_played += 1
        sym = ev.symbol
        if isinstance(ev, BookDiff):
            self.engine.on_depth(sym, ev.bids, ev.asks)
            self.last_update_id[sym] = ev.final_id
            self.depth.on_diff(ev)
        elif isinstance(ev, MarketTrade):
            self.engine.on_trade(sym, ev.price, ev.qty, ev.buyer_maker)
            now = self.clock()
            self.trades.record(ev, now)
            self._trade_frames(ev, now)
        elif isinstance(ev, TopOfBook):
            self._ticker_frame(ev)
        else:
            self.engine.on_snapshot(sym, ev.bids, ev.asks)
            self.last_update_id[sym] = ev.last_update_id

    def _trade_frames(self, ev: MarketTrade, now: int) -> None:
        sym = ev.symbol
        low = sym.lower()
        trade, agg = self.hub.has(low + "@trade"), self.hub.has(low + "@aggTrade")
        if not (trade or agg):
            return
        px, qty = self.specs[sym].fmt_price(ev.price), self.specs[sym].fmt_qty(ev.qty)
        if trade:
            self.hub.publish(
                low + "@trade",
                orjson.dumps(
                    {"e": "trade", "E": now, "T": now, "s": sym, "t": ev.trade_id, "p": px, "q": qty, "X": "MARKET",
                     "m": ev.buyer_maker}
                ),
            )
        if agg:
            self.hub.publish(
                low + "@aggTrade",
                orjson.dumps(
                    {"e": "aggTrade", "E": now, "s": sym, "a": ev.trade_id, "p": px, "q": qty, "nq": qty,
                     "f": ev.trade_id, "l": ev.trade_id, "T": now, "m": ev.buyer_maker}
                ),
            )

    def _ticker_frame(self, ev: TopOfBook) -> None:
        sym = ev.symbol
        low = sym.lower()
        if not self.hub.has(low + "@bookTicker"):
            return
        now = self.clock()
        fp, fq = self.specs[sym].fmt_price, self.specs[sym].fmt_qty
        self.hub.publish(
            low + "@bookTicker",
            orjson.dumps(
                {"e": "bookTicker", "u": ev.update_id, "s": sym, "b": fp(ev.bid_px), "B": fq(ev.bid_qty),
                 "a": fp(ev.ask_px), "A": fq(ev.ask_qty), "T": now, "E": now}
            ),
        )
