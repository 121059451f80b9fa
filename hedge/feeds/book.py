"""One symbol's L2 order book: price levels, best bid/ask and the figures derived from the top.

Owns: the levels of one book and the arithmetic on them (best levels, top-N lists, mid,
micro-price, imbalance, spread). Quantities are absolute; a quantity of 0 deletes a level, and
deleting an absent level is normal (Binance's rule 9).

Design (docs/architecture.md): a dict price -> qty plus a sorted list of price keys kept with
``bisect``. Each side keeps its keys in ascending order of ``sign * price`` (bids +price,
asks -price), so the BEST level of both sides is the LAST key: inserts and deletes near the
touch — the common case — move few list items. Only the best ``WINDOW`` keys are kept in that
sorted list; the others (a diff's far levels: the BTCUSDT recording's span 1,000 to 69,000, ~5,000
a side) sit in an unordered set, all below the sorted ones, so inserting or deleting them is O(1)
instead of a bisect over thousands of keys. Past ``WINDOW`` the lowest half is spilled to the set;
below ``WINDOW // 16`` (or when ``top(n)`` wants more) the best of the set are moved back with
``heapq.nlargest``. Measured on the recording: apply + touch -14% (~11 us per 44-level diff on
this loaded machine; windows 16..1024 all measured, larger is faster). A SortedDict costs 2.5x,
and a tick grid needs a bounded price range that real Binance books do not have.
Prices are the floats decoded from the exchange's decimal strings: the same string always gives
the same float, so dict lookups are exact. Setting a level is one dict store; the dict's size says
whether it was new (one hash instead of ``in`` + store).

Compiled (setup.py HOT_MODULES), ``book.pyx`` beside this file is built instead: the same classes on
C data (a C hash table price -> qty per side and the same sorted near window as a C array), which
applies a ``hedge.feeds.levels.Levels`` side with a C loop (no Python object per level). This file
stays plain Python and is the reference (``HEDGE_PURE=1``); the tests run both and compare them bit
for bit (tests/unit/feeds/test_levels.py). Measured (scripts/bench_book.py, the recordings' 400k
levels, apply + touch): compiled 31 ns a level vs pure 220 (the earlier typed ``book.pxd``: 156).

Must never: know about synchronisation (update ids, gaps, snapshots' ids), the bus, or a wire
format. The local exchange reuses this class for its own market.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Iterable

from hedge.events import Level

WINDOW = 1024  # near keys kept sorted at most (a spill leaves half); see the module docstring


class _Side:
    """One side: qty by price; keys (``sign * price``) split into ``keys``, the best ones ascending
    (best last), and ``far``, an unordered set of all the others (every one below ``keys[0]``)."""

    __slots__ = ("far", "high", "keys", "low", "qty", "sign")

    def __init__(self, sign: float, window: int) -> None:
        self.sign = sign
        self.qty: dict[float, float] = {}
        self.keys: list[float] = []
        self.far: set[float] = set()
        self.high = max(2, window)
        self.low = max(1, window // 16)

    def load(self, levels: Iterable[Level]) -> None:
        qty: dict[float, float] = {}
        for px, q in levels:  # in order, as diffs are: a repeated price's last quantity wins
            if q > 0.0:
                qty[px] = q
            else:
                qty.pop(px, None)
        self.qty = qty
        sign = self.sign
        keys = sorted([sign * px for px in qty])
        cut = max(0, len(keys) - self.high // 2)
        self.far = set(keys[:cut])
        self.keys = keys[cut:]

    def apply(self, levels: Iterable[Level]) -> None:
        qty = self.qty
        keys = self.keys
        far = self.far
        sign = self.sign
        size = len(qty)
        for px, q in levels:
            if q > 0.0:
                qty[px] = q
                if len(qty) != size:  # a new level (one dict operation for both cases, not `in` + set)
                    size += 1
                    k = sign * px
                    if keys and k > keys[0]:
                        insort(keys, k)
                    else:
                        far.add(k)
            elif qty.pop(px, None) is not None:
                size -= 1
                k = sign * px
                if keys and k >= keys[0]:
                    del keys[bisect_left(keys, k)]
                else:
                    far.discard(k)
        n = len(keys)
        if n > self.high:
            cut = n - self.high // 2
            far.update(keys[:cut])
            del keys[:cut]
        elif n < self.low and far:
            self.fill(self.low)

    def fill(self, n: int) -> None:
        """Move the best far keys in front of ``keys`` until it holds ``n`` (or far is empty)."""
        far = self.far
        take = heapq.nlargest(max(n - len(self.keys), self.high // 2), far)
        take.reverse()
        far.difference_update(take)
        self.keys[:0] = take

    def best(self) -> Level | None:
        if not self.keys:
            return None
        px = self.sign * self.keys[-1]
        return (px, self.qty[px])

    def top(self, n: int) -> list[Level]:
        if n > len(self.keys) and self.far:
            self.fill(n)
        sign = self.sign
        qty = self.qty
        keys = self.keys
        out: list[Level] = []
        for k in reversed(keys[-n:]) if n > 0 else ():
            px = sign * k
            out.append((px, qty[px]))
        return out

    def volume(self, n: int) -> float:
        if n > len(self.keys) and self.far:
            self.fill(n)
        sign = self.sign
        qty = self.qty
        keys = self.keys
        v = 0.0
        for k in keys[-n:] if n > 0 else ():
            v += qty[sign * k]
        return v


class OrderBook:
    """L2 book of one symbol. See the module docstring."""

    __slots__ = ("_asks", "_bids")

    def __init__(self, window: int = WINDOW) -> None:
        self._bids = _Side(1.0, window)
        self._asks = _Side(-1.0, window)

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace every level (levels with qty 0 are ignored)."""
        self._bids.load(bids)
        self._asks.load(asks)

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Set absolute quantities; qty 0 removes the level (absent levels are fine)."""
        self._bids.apply(bids)
        self._asks.apply(asks)

    def clear(self) -> None:
        self.apply_snapshot((), ())

    def best_bid(self) -> Level | None:
        return self._bids.best()

    def best_ask(self) -> Level | None:
        return self._asks.best()

    def bids(self, n: int) -> list[Level]:
        """The best ``n`` bids, best (highest) first."""
        return self._bids.top(n)

    def asks(self, n: int) -> list[Level]:
        """The best ``n`` asks, best (lowest) first."""
        return self._asks.top(n)

    def bid_qty(self, px: float) -> float:
        """Quantity at bid price ``px`` (0.0 when there is no level)."""
        return self._bids.qty.get(px, 0.0)

    def ask_qty(self, px: float) -> float:
        """Quantity at ask price ``px`` (0.0 when there is no level)."""
        return self._asks.qty.get(px, 0.0)

    def depth(self) -> tuple[int, int]:
        """Number of (bid, ask) levels."""
        return len(self._bids.qty), len(self._asks.qty)

    def is_crossed(self) -> bool:
        """True when both sides exist and best bid >= best ask."""
        bk, ak = self._bids.keys, self._asks.keys
        return bool(bk and ak and bk[-1] >= -ak[-1])

    def imbalance(self, n: int) -> float:
        """(bid - ask) / (bid + ask) volume over the top ``n`` levels of each side, in [-1, 1]."""
        b = self._bids.volume(n)
        a = self._asks.volume(n)
        tot = b + a
        return (b - a) / tot if tot > 0.0 else 0.0

    def touch(self, n: int) -> tuple[float, float, float, float, float] | None:
        """(bid_px, bid_qty, ask_px, ask_qty, top-n imbalance) in one pass; None if a side is empty.

        The per-diff summary of the hot path: one call instead of best_bid + best_ask + imbalance.
        """
        bs, as_ = self._bids, self._asks
        if n > len(bs.keys) and bs.far:
            bs.fill(n)
        if n > len(as_.keys) and as_.far:
            as_.fill(n)
        bk, ak = bs.keys, as_.keys
        if not bk or not ak:
            return None
        bqty, aqty = bs.qty, as_.qty
        bpx = bk[-1]
        apx = -ak[-1]
        bv = 0.0
        for k in bk[-n:]:
            bv += bqty[k]
        av = 0.0
        for k in ak[-n:]:
            av += aqty[-k]
        tot = bv + av
        return (bpx, bqty[bpx], apx, aqty[apx], (bv - av) / tot if tot > 0.0 else 0.0)

    def micro_price(self) -> float:
        """Size-weighted mid: (bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty); 0 if a side is empty."""
        bb, ba = self._bids.best(), self._asks.best()
        if bb is None or ba is None:
            return 0.0
        return (bb[0] * ba[1] + ba[0] * bb[1]) / (bb[1] + ba[1])
