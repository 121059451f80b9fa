"""The local exchange's synthetic past: deterministic hourly bars that end where the played market begins."""

from __future__ import annotations

import itertools
import math

from hedge.exchange.candles import DAY_MS, Bars, aggregate
from hedge.exchange.history import HOURS, History, synthetic_bars

END = 1_700_006_400_000  # an hour boundary


def test_the_past_is_deterministic_continuous_and_anchored() -> None:
    a = synthetic_bars("BTCUSDT", END, 100_000.0)
    assert a == synthetic_bars("BTCUSDT", END, 100_000.0)
    assert a != synthetic_bars("ETHUSDT", END, 100_000.0)
    assert len(a) == HOURS and a[-1].open_ms == END - 3_600_000 and a[-1].close == 100_000.0
    for prev, bar in itertools.pairwise(a):
        assert bar.open_ms == prev.open_ms + 3_600_000 and bar.open == prev.close
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high and bar.count > 0
    days = aggregate(a, "1d")
    assert len(days) >= 200
    # regimes: some three-week stretches trend up, others down
    weekly = [math.log(days[i + 21].close / days[i].close) for i in range(0, len(days) - 21, 21)]
    assert max(weekly) > 0.05 and min(weekly) < -0.05


def test_klines_of_an_hour_and_more_reach_into_the_past_shorter_ones_do_not() -> None:
    played = Bars("1m")
    played.add(END + 5 * 60_000, 1, 101.0, 1.0, False)
    played.add(END + 65 * 60_000, 2, 102.0, 1.0, False)
    h = History()
    assert h.klines_source("BTCUSDT", played, "1m") is played
    hours = h.klines_source("BTCUSDT", played, "1h")
    assert len(hours.bars) == HOURS + 2 and hours.bars[HOURS - 1].close == 101.0  # closes at the first trade
    assert hours.bars[HOURS].open_ms == END and hours.bars[HOURS + 1].close == 102.0
    daily = hours.window("1d", None, None, 1500, END + 2 * 3_600_000)
    assert len(daily) >= 400 and daily[-1].open_ms == END // DAY_MS * DAY_MS
    assert h.klines_source("BTCUSDT", Bars("1m"), "1d").bars == []  # nothing played yet: no past either
