"""Candles of the local exchange: Binance's kline intervals and OHLCV bars built from prices.

Owns: the kline intervals (``INTERVALS``, 1m ... 1M, aligned as Binance aligns them: to the epoch
in UTC, weeks on Mondays, months on the calendar) and their arithmetic (``open_of``, ``shift``);
``Candle`` (one bar: OHLC, volume and quote volume, taker-buy volumes, trade count, first and last
trade id); ``aggregate`` (bars into a larger interval); and ``Bars``, one series' bounded store of
bars of one interval, built price by price, with the window query the klines endpoints answer
(gaps between bars filled with flat bars at the previous close, up to the current bar), and a store
put after a history of larger bars (``after``: the klines' synthetic past).

Must never: read the clock or do I/O (times are given), or hold more than ``MAX_BARS`` bars.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS
WEEK_ANCHOR_MS = 4 * DAY_MS  # 1970-01-05, the first Monday: weeks open on Mondays at 00:00 UTC
MONTH = "1M"
_MINUTES = {
    "1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360,
    "8h": 480, "12h": 720, "1d": 1440, "3d": 4320, "1w": 10080,
}
INTERVALS: tuple[str, ...] = (*_MINUTES, MONTH)
MAX_BARS = 43_200  # 30 days of 1-minute bars per series
TRIM = 1_000  # bars dropped at once when the store is full (amortized)


def _month_index(t_ms: int) -> int:
    d = datetime.fromtimestamp(t_ms // 1000, tz=UTC)
    return d.year * 12 + d.month - 1


def _month_start(index: int) -> int:
    year, month = divmod(index, 12)
    return int(datetime(year, month + 1, 1, tzinfo=UTC).timestamp()) * 1000


def open_of(t_ms: int, interval: str) -> int:
    """The open time of the ``interval`` bar holding ``t_ms`` (a time after the epoch)."""
    if interval == MONTH:
        return _month_start(_month_index(t_ms))
    length = _MINUTES[interval] * MINUTE_MS
    anchor = WEEK_ANCHOR_MS if interval == "1w" else 0
    return (t_ms - anchor) // length * length + anchor


def shift(open_ms: int, interval: str, n: int) -> int:
    """The open time ``n`` bars after (``n`` < 0: before) the bar opening at ``open_ms``."""
    if interval == MONTH:
        return _month_start(_month_index(open_ms) + n)
    return open_ms + n * _MINUTES[interval] * MINUTE_MS


def steps(lo: int, hi: int, interval: str) -> int:
    """How many bars the bar opening at ``hi`` is after the bar opening at ``lo``."""
    if interval == MONTH:
        return _month_index(hi) - _month_index(lo)
    return (hi - lo) // (_MINUTES[interval] * MINUTE_MS)


class Candle(msgspec.Struct, gc=False):
    """One bar. A bar with no trade (count 0) is flat at the previous close; its ids are -1."""

    open_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    quote_volume: float = 0.0
    taker_buy_volume: float = 0.0
    taker_buy_quote: float = 0.0
    count: int = 0
    first_id: int = -1
    last_id: int = -1

    def add(self, trade_id: int, price: float, qty: float, buyer_maker: bool) -> None:
        """One more trade (or price sample) in this bar."""
        if price > self.high:
            self.high = price
        if price < self.low:
            self.low = price
        self.close = price
        self.volume += qty
        self.quote_volume += price * qty
        if not buyer_maker:  # the taker bought
            self.taker_buy_volume += qty
            self.taker_buy_quote += price * qty
        if self.count == 0:
            self.first_id = trade_id
        self.count += 1
        self.last_id = trade_id

    def merge(self, later: Candle) -> None:
        """Extend this bar by ``later``, the bar that follows it in time."""
        if later.count == 0:
            return
        if later.high > self.high:
            self.high = later.high
        if later.low < self.low:
            self.low = later.low
        self.close = later.close
        self.volume += later.volume
        self.quote_volume += later.quote_volume
        self.taker_buy_volume += later.taker_buy_volume
        self.taker_buy_quote += later.taker_buy_quote
        if self.count == 0:
            self.first_id = later.first_id
        self.count += later.count
        self.last_id = later.last_id


def flat(open_ms: int, price: float) -> Candle:
    return Candle(open_ms, price, price, price, price)


def aggregate(bars: Iterable[Candle], interval: str) -> list[Candle]:
    """``bars`` (in time order, each within one ``interval`` bar) merged into ``interval`` bars."""
    out: list[Candle] = []
    for bar in bars:
        start = open_of(bar.open_ms, interval)
        if out and out[-1].open_ms == start:
            out[-1].merge(bar)
        else:
            out.append(msgspec.structs.replace(bar, open_ms=start))
    return out


class Bars:
    """One series' bars of ``interval``, in time order (a time earlier than the last is taken as the last)."""

    def __init__(self, interval: str = "1m", max_bars: int = MAX_BARS) -> None:
        self.interval = interval
        self.max_bars = max_bars
        self.bars: list[Candle] = []
        self._last_ms = 0

    def add(self, time_ms: int, trade_id: int, price: float, qty: float, buyer_maker: bool) -> None:
        time_ms = self._last_ms = max(time_ms, self._last_ms)
        start = open_of(time_ms, self.interval)
        bars = self.bars
        if not bars or bars[-1].open_ms != start:
            if len(bars) >= self.max_bars + TRIM:
                del bars[:TRIM]
            bars.append(flat(start, price))
        bars[-1].add(trade_id, price, qty, buyer_maker)

    def after(self, history: list[Candle], interval: str) -> Bars:
        """A new store of ``interval`` bars: ``history`` (bars of ``interval`` ending before this store's
        first bar) followed by this store's bars merged into ``interval`` bars."""
        out = Bars(interval, max_bars=len(history) + len(self.bars) + 1)
        out.bars = [*history, *aggregate(self.bars, interval)]
        out._last_ms = self._last_ms
        return out

    def since(self, start_ms: int) -> Candle | None:
        """The bars opening at or after ``open_of(start_ms)`` merged into one (None: no trade since)."""
        i = bisect.bisect_left(self.bars, open_of(start_ms, self.interval), key=lambda c: c.open_ms)
        if i == len(self.bars):
            return None
        out = msgspec.structs.replace(self.bars[i])
        for bar in self.bars[i + 1:]:
            out.merge(bar)
        return out

    def window(self, interval: str, start: int | None, end: int | None, limit: int, now_ms: int) -> list[Candle]:
        """Binance's klines: the ``interval`` bars opening in [start, end] — the first ``limit`` from
        ``start`` when it is given, else the last ``limit`` up to ``end`` (or the current bar) — from
        the first bar with a trade, with no gap (a bar with no trade is flat at the previous close).
        ``interval`` must be a multiple of this store's interval."""
        if not self.bars:
            return []
        first = open_of(self.bars[0].open_ms, interval)
        last = open_of(max(now_ms, self._last_ms), interval)
        lo, hi = first, last
        if start is not None:
            if start > last:
                return []
            if start > first:
                lo = open_of(start, interval)
                lo = lo if lo >= start else shift(lo, interval, 1)
        if end is not None:
            if end < first:
                return []
            hi = last if end >= last else open_of(end, interval)
        if lo > hi:
            return []
        if start is None:
            lo = shift(hi, interval, -min(limit - 1, steps(lo, hi, interval)))
        opens = [lo]
        while len(opens) < limit and (nxt := shift(opens[-1], interval, 1)) <= hi:
            opens.append(nxt)
        key = lambda c: c.open_ms  # noqa: E731
        i = bisect.bisect_left(self.bars, opens[0], key=key)
        j = bisect.bisect_left(self.bars, shift(opens[-1], interval, 1), key=key)
        merged = {c.open_ms: c for c in aggregate(self.bars[i:j], interval)}
        prev = self.bars[i - 1].close if i > 0 else None
        out: list[Candle] = []
        for t in opens:
            bar = merged.get(t)
            if bar is None and prev is not None:
                bar = flat(t, prev)
            if bar is not None:
                out.append(bar)
                prev = bar.close
        return out
