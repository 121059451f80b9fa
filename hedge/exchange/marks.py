"""Mark prices and funding of the local exchange.

Owns: ``MarkLoop`` — every ``MARK_INTERVAL_S`` the mark of each played symbol (its mid, or the
override set by the control API) is given to the matching engine (which liquidates the accounts
it puts at or below maintenance margin) and published on ``<s>@markPrice@1s`` (and every third
tick on ``<s>@markPrice``) and sampled into the symbol's 1-minute mark bars (``bars``: what
``markPriceKlines`` / ``indexPriceKlines`` answer; the index is the mark here); funding is settled
once per 8-hour boundary crossed; the next funding time.

Must never: change an account other than through the matching engine, or block the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson

from hedge.exchange.book import mid_price
from hedge.exchange.candles import Bars
from hedge.exchange.matching import MatchingEngine
from hedge.exchange.streams import Hub
from hedge.exchange.symbols import SymbolSpec

FUNDING_INTERVAL_MS = 8 * 3600 * 1000
MARK_INTERVAL_S = 1.0


def next_funding_ms(now_ms: int) -> int:
    return (now_ms // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS


class MarkLoop:
    def __init__(
        self,
        engine: MatchingEngine,
        hub: Hub,
        specs: dict[str, SymbolSpec],
        clock: Callable[[], int],
        played: dict[str, int],
    ) -> None:
        self.engine = engine
        self.hub = hub
        self.specs = specs
        self.clock = clock
        self.played = played  # symbols with a market (their last update id)
        self.overrides: dict[str, float] = {}  # symbol -> mark set by POST /_hedge/actions/mark
        self.bars: dict[str, Bars] = {}  # symbol -> 1-minute bars of the mark, one sample per tick

    async def run(self) -> None:
        """Mark price (= mid, or the override) every second; funding settled once per 8-hour boundary crossed."""
        tick = 0
        next_funding = next_funding_ms(self.clock())
        while True:
            await asyncio.sleep(MARK_INTERVAL_S)
            tick += 1
            now = self.clock()
            settle = now >= next_funding
            if settle:
                next_funding = next_funding_ms(now)
            for sym in list(self.played):
                mid = self.overrides.get(sym) or mid_price(self.engine.book(sym))
                if mid is None:
                    continue
                self.engine.on_mark(sym, mid)
                self.bars.setdefault(sym, Bars()).add(now, tick, mid, 0.0, True)
                if settle:
                    self.engine.settle_funding(sym)
                spec = self.specs[sym]
                data = orjson.dumps(
                    {
                        "e": "markPriceUpdate",
                        "E": now,
                        "s": sym,
                        "p": spec.fmt_price(mid),
                        "ap": spec.fmt_price(mid),
                        "i": spec.fmt_price(mid),
                        "P": spec.fmt_price(mid),
                        "r": f"{self.engine.funding_rate(sym):.8f}",
                        "T": next_funding,
                    }
                )
                low = sym.lower()
                self.hub.publish(low + "@markPrice@1s", data)
                if tick % 3 == 0:
                    self.hub.publish(low + "@markPrice", data)
