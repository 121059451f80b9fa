"""The market's order book as the local exchange sees it (levels from the recording or generator).

Owns: price -> quantity per side with the sorted price keys kept by ``bisect``; absolute-quantity
updates (0 deletes a level); best levels, top-N and the depth snapshot the REST answer is built
from. This is the exchange-side twin of a client book (same semantics as hedge.feeds' book), kept
small so it can be swapped for it.

Must never: hold client orders (the matching engine keeps those), or do I/O.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable


class BookSide:
    __slots__ = ("ascending", "keys", "levels")

    def __init__(self, ascending: bool) -> None:
        self.ascending = ascending  # asks: best is keys[0]; bids: best is keys[-1]
        self.levels: dict[float, float] = {}
        self.keys: list[float] = []

    def clear(self) -> None:
        self.levels.clear()
        self.keys.clear()

    def set(self, px: float, qty: float) -> None:
        if qty <= 0.0:
            if self.levels.pop(px, None) is not None:
                del self.keys[bisect_left(self.keys, px)]
            return
        if px not in self.levels:
            insort(self.keys, px)
        self.levels[px] = qty

    def best(self) -> tuple[float, float] | None:
        if not self.keys:
            return None
        px = self.keys[0] if self.ascending else self.keys[-1]
        return px, self.levels[px]

    def top(self, n: int) -> list[tuple[float, float]]:
        keys = self.keys[:n] if self.ascending else self.keys[: -n - 1 : -1]
        return [(k, self.levels[k]) for k in keys]

    def walk(self) -> Iterable[float]:
        """Prices from best to worst."""
        return iter(self.keys) if self.ascending else reversed(self.keys)

    def qty(self, px: float) -> float:
        return self.levels.get(px, 0.0)


class MarketBook:
    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids = BookSide(ascending=False)
        self.asks = BookSide(ascending=True)

    def apply_snapshot(self, bids: Iterable[tuple[float, float]], asks: Iterable[tuple[float, float]]) -> None:
        self.bids.clear()
        self.asks.clear()
        self.apply(bids, asks)

    def apply(self, bids: Iterable[tuple[float, float]], asks: Iterable[tuple[float, float]]) -> None:
        for px, qty in bids:
            self.bids.set(px, qty)
        for px, qty in asks:
            self.asks.set(px, qty)

    def best_bid(self) -> tuple[float, float] | None:
        return self.bids.best()

    def best_ask(self) -> tuple[float, float] | None:
        return self.asks.best()

    def mid(self) -> float | None:
        b, a = self.bids.best(), self.asks.best()
        if b is None or a is None:
            return None
        return (b[0] + a[0]) / 2.0
