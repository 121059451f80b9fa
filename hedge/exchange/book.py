"""The local exchange's L2 order book: the market's price levels, best first, for matching.

Owns: ``Book`` — the levels of one symbol's market (absolute quantities; 0 deletes a level,
deleting an absent level is normal), the best bid/ask, the levels of a side from the best
outwards (what a taker walks and what a resting order's queue is measured against) and the
quantity at one price; and ``BookView``, the interface the matching engine reads and updates a
book through (replay's simulated venue hands it the engine's own synced book, which has the same
interface, so a diff is never applied twice).

Design: a dict price -> quantity per side plus the keys ``sign * price`` kept ascending with
``bisect`` (bids +price, asks -price), so the best level of both sides is the last key and
changes near the touch move few list items. Prices are the floats decoded from the wire's
decimal strings: the same string always gives the same float, so lookups are exact.

Must never: know update ids or synchronisation (the player and the streams do), or import the
engine's book (``hedge.feeds``): the exchange checks the engine and shares no code with it.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator
from typing import Protocol

from hedge.exchange.marketdata import Level

_FIRST = 16  # levels read in one slice before the rest of a side is listed


class BookView(Protocol):
    """What the matching engine needs of a book."""

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level]) -> None: ...

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None: ...

    def best_bid(self) -> Level | None: ...

    def best_ask(self) -> Level | None: ...

    def bids(self, n: int) -> list[Level]: ...

    def asks(self, n: int) -> list[Level]: ...

    def bid_qty(self, px: float) -> float: ...

    def ask_qty(self, px: float) -> float: ...


class _Levels:
    """One side: quantity by price, and the keys ``sign * price`` ascending (best last)."""

    __slots__ = ("keys", "qty", "sign")

    def __init__(self, sign: float) -> None:
        self.sign = sign
        self.qty: dict[float, float] = {}
        self.keys: list[float] = []

    def replace(self, levels: Iterable[Level]) -> None:
        qty: dict[float, float] = {}
        for px, q in levels:  # in order: a repeated price's last quantity wins
            if q > 0.0:
                qty[px] = q
            else:
                qty.pop(px, None)
        self.qty = qty
        self.keys = sorted(self.sign * px for px in qty)

    def update(self, levels: Iterable[Level]) -> None:
        qty, keys, sign = self.qty, self.keys, self.sign
        for px, q in levels:
            if q > 0.0:
                if px not in qty:
                    insort(keys, sign * px)
                qty[px] = q
            elif qty.pop(px, None) is not None:
                del keys[bisect_left(keys, sign * px)]

    def best(self) -> Level | None:
        if not self.keys:
            return None
        px = self.sign * self.keys[-1]
        return (px, self.qty[px])

    def top(self, n: int) -> list[Level]:
        sign, qty = self.sign, self.qty
        return [(sign * k, qty[sign * k]) for k in reversed(self.keys[-n:])] if n > 0 else []


class Book:
    """One symbol's market levels (see the module docstring); satisfies ``BookView``."""

    __slots__ = ("_asks", "_bids")

    def __init__(self) -> None:
        self._bids = _Levels(1.0)
        self._asks = _Levels(-1.0)

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace every level (levels with quantity 0 are ignored)."""
        self._bids.replace(bids)
        self._asks.replace(asks)

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Set absolute quantities; 0 removes the level."""
        self._bids.update(bids)
        self._asks.update(asks)

    def best_bid(self) -> Level | None:
        return self._bids.best()

    def best_ask(self) -> Level | None:
        return self._asks.best()

    def bids(self, n: int) -> list[Level]:
        """The best ``n`` bids, highest first."""
        return self._bids.top(n)

    def asks(self, n: int) -> list[Level]:
        """The best ``n`` asks, lowest first."""
        return self._asks.top(n)

    def bid_qty(self, px: float) -> float:
        return self._bids.qty.get(px, 0.0)

    def ask_qty(self, px: float) -> float:
        return self._asks.qty.get(px, 0.0)

    def depth(self) -> tuple[int, int]:
        """Number of (bid, ask) levels."""
        return len(self._bids.keys), len(self._asks.keys)


def from_best(book: BookView, asks: bool) -> Iterator[Level]:
    """Levels of one side from the best outwards (the first few cheaply, the rest only if needed)."""
    top = book.asks if asks else book.bids
    first = top(_FIRST)
    yield from first
    if len(first) == _FIRST:
        yield from top(1 << 30)[_FIRST:]


def mid_price(book: BookView) -> float | None:
    b, a = book.best_bid(), book.best_ask()
    return None if b is None or a is None else (b[0] + a[0]) / 2.0
