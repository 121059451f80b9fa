"""The replay's trading figures by hand: NAV sampled per minute, Sharpe and Sortino (None below 30
returns or without variation / without a loss), exposure as a union of intervals, the trade
statistics, and their terminal lines."""

from __future__ import annotations

import math

import pytest

from hedge.events import ClosedTrade
from hedge.portfolio.round_trips import OpenTrade
from hedge.replay.performance import (
    MIN_RETURNS,
    PERIODS_PER_YEAR,
    describe,
    exposure,
    nav_returns,
    performance,
    sharpe,
    sortino,
)

S = 1_000_000_000  # ns per second
ANNUAL = math.sqrt(365 * 24 * 60)


def trip(net: float, *, r: float | None = None, opened_s: int = 0, closed_s: int = 60) -> ClosedTrade:
    return ClosedTrade(
        symbol="BTCUSDT", side="long", key="t1", strategy="s", entry_reason="", exit_reason="take_profit",
        opened_ms=opened_s * 1000, closed_ms=closed_s * 1000, qty=1.0, max_qty=1.0, entry_price=100.0,
        exit_price=100.0 + net, gross_pnl=net, fees=0.0, net_pnl=net, risk=1.0 if r is not None else 0.0,
        r_multiple=r, mfe_bps=0.0, mae_bps=0.0, fills=2,
    )


def test_the_nav_is_sampled_at_every_full_minute_with_the_last_reading_before_it() -> None:
    navs = [(30 * S, 101.0), (60 * S, 102.0), (61 * S, 99.0), (200 * S, 50.0)]
    rets = nav_returns(navs, start_ns=0, end_ns=190 * S, start_nav=100.0)
    # samples: t0 100, t60 102 (a reading exactly at the minute counts), t120 99, t180 99; t200 is past the end
    assert rets == pytest.approx([0.02, 99 / 102 - 1, 0.0])
    assert nav_returns([], start_ns=0, end_ns=59 * S, start_nav=100.0) == []


def test_sharpe_and_sortino_by_hand() -> None:
    assert PERIODS_PER_YEAR == 525_600 and MIN_RETURNS == 30
    up = [0.02, 0.0] * 15  # mean 0.01, sample sd 0.01 * sqrt(30 / 29)
    assert sharpe(up) == pytest.approx(1 / math.sqrt(30 / 29) * ANNUAL)
    assert sortino(up) is None  # no losing minute: no downside to divide by
    mixed = [0.02, -0.01] * 15  # mean 0.005, downside deviation sqrt(15 * 0.0001 / 30)
    assert sortino(mixed) == pytest.approx(0.005 / math.sqrt(0.00005) * ANNUAL)
    assert sharpe(mixed) == pytest.approx(0.005 / math.sqrt(30 * 0.015**2 / 29) * ANNUAL)


def test_too_few_returns_or_no_variation_give_none_not_a_number() -> None:
    few = [0.02, -0.01] * 14 + [0.02]  # 29
    assert sharpe(few) is None and sortino(few) is None
    assert sharpe([0.0] * 100) is None and sortino([0.0] * 100) is None


def test_exposure_is_the_union_of_the_open_intervals_within_the_run() -> None:
    assert exposure([(10, 30), (20, 40), (60, 70)], 0, 100) == pytest.approx(0.4)
    assert exposure([(-50, 10), (90, 200)], 0, 100) == pytest.approx(0.2)  # clipped to the run
    assert exposure([], 0, 100) == 0.0
    assert exposure([(0, 1)], 5, 5) is None


def test_trade_statistics_by_hand() -> None:
    trips = [trip(2.0, r=2.0, opened_s=0, closed_s=30), trip(-1.0, r=-1.0, opened_s=30, closed_s=90),
             trip(1.0, opened_s=100, closed_s=130), trip(0.0, opened_s=200, closed_s=230)]
    held = OpenTrade(symbol="BTCUSDT", sign=1, key="t9", strategy="s", entry_reason="", opened_ms=270_000,
                     qty=1.0, avg_cost=100.0, gross=0.5, fees=0.2)
    p = performance(trips, [held], [], start_ns=0, end_ns=300 * S, start_nav=1000.0, trades_csv="x/trades.csv")
    assert (p.trades, p.open_trades, p.wins, p.losses) == (4, 1, 2, 1)  # a trade at exactly 0 is neither
    assert p.win_rate == 0.5 and p.profit_factor == 3.0
    assert p.avg_win == 1.5 and p.avg_loss == -1.0 and p.expectancy == 0.5 and p.avg_r == 0.5
    assert p.net_pnl == 2.0 and p.open_net_pnl == pytest.approx(0.3)
    assert p.avg_holding_s == pytest.approx(37.5)
    assert p.exposure == pytest.approx((90 + 30 + 30 + 30) / 300)  # the open trade counts to the end
    assert p.sharpe is None and p.sortino is None and p.returns == 5
    text = describe(p)
    assert "trades 4 closed, 1 open  win rate 50.0%  profit factor 3.00" in text
    assert "expectancy +0.5000 USDT/trade" in text and "exposure 60.0% of the run" in text
    assert "Sharpe n/a  Sortino n/a (5 one-minute NAV returns; n/a below 30)" in text
    assert "trade list: x/trades.csv" in text


def test_no_trades_and_no_losses() -> None:
    p = performance([], [], [], start_ns=0, end_ns=0, start_nav=1000.0, trades_csv="t.csv")
    assert p.trades == 0 and p.win_rate is None and p.expectancy is None and p.exposure is None
    assert "win rate n/a" in describe(p) and "avg holding n/a" in describe(p)
    only_wins = performance([trip(1.0)], [], [], start_ns=0, end_ns=60 * S, start_nav=1.0, trades_csv="t.csv")
    assert only_wins.profit_factor is None and only_wins.win_rate == 1.0  # no loss: no finite factor


def test_a_long_enough_run_gets_annualised_ratios() -> None:
    navs = [(m * 60 * S, 1000.0 + (2.0 if m % 2 else -1.0) + m * 0.1) for m in range(1, 41)]
    p = performance([], [], navs, start_ns=0, end_ns=40 * 60 * S, start_nav=1000.0, trades_csv="t.csv")
    rets = nav_returns(navs, start_ns=0, end_ns=40 * 60 * S, start_nav=1000.0)
    assert p.returns == len(rets) == 40 and p.exposure == 0.0
    assert p.sharpe == sharpe(rets) and p.sortino == sortino(rets) and p.sharpe is not None and p.sortino is not None
    assert f"Sharpe {p.sharpe:.2f}  Sortino {p.sortino:.2f} (40 one-minute NAV returns, annualised)" in describe(p)
