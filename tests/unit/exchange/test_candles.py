"""Properties of the local exchange's candles: aggregating 1-minute bars into any Binance interval
equals building that interval from the trades directly, bars align as Binance's do, and the klines
window answers the bars asked for, with no gap."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.exchange.candles import INTERVALS, Bars, Candle, aggregate, open_of, shift
from hedge.exchange.marketdata import MarketTrade
from hedge.exchange.trades import TradeHistory

T0 = 1_719_000_000_000  # 2024-06-21
Trade = tuple[int, int, float, float, bool]  # time, id, price, qty, buyer_maker

trades_st = st.lists(
    st.tuples(
        st.integers(0, 4 * 3_600_000),  # gap to the previous trade (ms): up to 4 hours
        st.integers(600_000, 700_000),  # price in ticks of 0.1
        st.integers(1, 5_000),  # quantity in steps of 0.001
        st.booleans(),
    ),
    min_size=1,
    max_size=120,
)


def played(raw: list[tuple[int, int, int, bool]], start: int = T0) -> list[Trade]:
    out, t = [], start
    for i, (gap, ticks, steps, buyer_maker) in enumerate(raw):
        t += gap
        out.append((t, 1000 + i, ticks / 10, steps / 1000, buyer_maker))
    return out


def built(trades: list[Trade], interval: str) -> Bars:
    bars = Bars(interval)
    for t, tid, px, qty, bm in trades:
        bars.add(t, tid, px, qty, bm)
    return bars


def same(a: list[Candle], b: list[Candle]) -> None:
    assert [(c.open_ms, c.open, c.high, c.low, c.close, c.count, c.first_id, c.last_id) for c in a] == [
        (c.open_ms, c.open, c.high, c.low, c.close, c.count, c.first_id, c.last_id) for c in b
    ]
    for x, y in zip(a, b, strict=True):
        for f in ("volume", "quote_volume", "taker_buy_volume", "taker_buy_quote"):
            assert getattr(x, f) == pytest.approx(getattr(y, f), rel=1e-12, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(trades_st, st.sampled_from(INTERVALS))
def test_aggregating_minutes_equals_building_directly(raw: list[tuple[int, int, int, bool]], interval: str) -> None:
    trades = played(raw)
    minutes = built(trades, "1m")
    direct = built(trades, interval)
    same(aggregate(minutes.bars, interval), direct.bars)
    now = trades[-1][0] + 1
    for limit in (1, 7, 1500):
        same(minutes.window(interval, None, None, limit, now), direct.window(interval, None, None, limit, now))
    # the bars hold every trade: volume, count and extremes
    assert sum(c.count for c in direct.bars) == len(trades)
    assert sum(c.volume for c in direct.bars) == pytest.approx(sum(q for _, _, _, q, _ in trades))
    assert max(c.high for c in direct.bars) == max(p for _, _, p, _, _ in trades)


@settings(max_examples=300, deadline=None)
@given(trades_st, st.sampled_from(INTERVALS), st.integers(1, 40), st.integers(-3, 3), st.integers(0, 3))
def test_window_is_contiguous_and_bounded(
    raw: list[tuple[int, int, int, bool]], interval: str, limit: int, start_at: int, later: int
) -> None:
    trades = played(raw)
    bars = built(trades, "1m")
    now = trades[-1][0] + later * 3_600_000
    every = bars.window(interval, None, None, 100_000, now)
    assert every[0].open_ms == open_of(trades[0][0], interval)
    assert every[-1].open_ms == open_of(now, interval)  # up to the current bar
    for a, b in itertools.pairwise(every):
        assert b.open_ms == shift(a.open_ms, interval, 1)  # no gap
        if b.count == 0:  # a bar with no trade is flat at the previous close
            assert b.open == b.high == b.low == b.close == a.close and b.volume == 0
    for c in every:
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
    assert bars.window(interval, None, None, limit, now) == every[-limit:]
    # startTime: the first ``limit`` bars opening at or after it; endTime: the last up to it
    start = every[min(len(every) - 1, max(0, start_at))].open_ms + (1 if start_at < 0 else 0)
    from_start = bars.window(interval, start, None, limit, now)
    assert from_start == [c for c in every if c.open_ms >= start][:limit]
    end = every[len(every) // 2].open_ms
    assert bars.window(interval, None, end, limit, now) == [c for c in every if c.open_ms <= end][-limit:]
    assert bars.window(interval, start, end, limit, now) == [c for c in every if start <= c.open_ms <= end][:limit]
    assert bars.window(interval, now + 10**9, None, limit, now) == []
    assert bars.window(interval, (1 << 63) - 1, (1 << 63) - 1, limit, now) == []  # no overflow on a huge time


@given(st.integers(0, 4_000_000_000_000), st.sampled_from(INTERVALS))
def test_bars_align_as_binance(t: int, interval: str) -> None:
    start = open_of(t, interval)
    assert start <= t < shift(start, interval, 1)
    assert shift(shift(start, interval, 5), interval, -5) == start
    d = datetime.fromtimestamp(start / 1000, tz=UTC)
    if interval == "1w":
        assert d.weekday() == 0 and (d.hour, d.minute) == (0, 0)  # Monday 00:00 UTC
    elif interval == "1M":
        assert (d.day, d.hour, d.minute) == (1, 0, 0)


def test_trade_history_selects_as_binance() -> None:
    h = TradeHistory(max_trades=10_000)
    for i in range(100):
        h.record(MarketTrade(symbol="X", trade_id=500 + i, price=10.0 + i, qty=1.0, buyer_maker=i % 2 == 0), T0 + i * 1000)
    ids = lambda ts: [t.trade_id for t in ts]  # noqa: E731
    assert ids(h.select("X", limit=3)) == [597, 598, 599]
    assert ids(h.select("X", from_id=510, limit=3)) == [510, 511, 512]
    assert ids(h.select("X", start=T0 + 20_500, limit=2)) == [521, 522]
    assert ids(h.select("X", start=T0 + 20_000, end=T0 + 22_000, limit=10)) == [520, 521, 522]
    assert ids(h.select("X", end=T0 + 1_000, limit=10)) == [500, 501]
    assert h.select("Y") == [] and h.last("Y") is None
    # a time earlier than the last trade's counts as the last (times stay ordered)
    h.record(MarketTrade(symbol="X", trade_id=600, price=1.0, qty=1.0, buyer_maker=True), T0)
    last = h.last("X")
    assert last is not None and last.time_ms == T0 + 99_000
