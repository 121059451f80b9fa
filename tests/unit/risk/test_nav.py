"""NavTracker: day-start NAV per UTC day, high-water mark, periodic returns, health snapshot."""

from __future__ import annotations

import pytest

from hedge.events import Nav
from hedge.risk.nav import NavTracker

H = 3_600_000
DAY0 = 20_000 * 86_400_000  # a UTC midnight, in ms


def nav(v: float) -> Nav:
    return Nav(nav=v, wallet_balance=v, unrealized_pnl=0.0, source="reconcile")


def test_day_start_high_water_mark_and_returns() -> None:
    t = NavTracker(return_period_s=3600.0, return_window=3)
    t.on_nav(nav(100.0), DAY0 + 1)
    assert t.day_start_nav == 100.0 and t.hwm == 100.0 and t.new_day and t.returns == ()
    t.on_nav(nav(110.0), DAY0 + H // 2)  # inside the period: no return yet
    assert t.returns == () and t.hwm == 110.0
    t.on_nav(nav(99.0), DAY0 + H + 1)
    assert t.returns == pytest.approx((-0.01,)) and t.portfolio_drawdown() == pytest.approx(0.1)
    assert t.daily_drawdown() == pytest.approx(0.01)
    for i, v in enumerate((108.9, 98.01, 98.01), start=2):
        t.on_nav(nav(v), DAY0 + i * H + 1)
    assert t.returns == pytest.approx((0.1, -0.1, 0.0))  # window of 3
    t.on_nav(nav(90.0), DAY0 + 86_400_000)
    assert t.new_day and t.day_start_nav == 90.0 and t.hwm == 110.0


def test_health_snapshot() -> None:
    t = NavTracker()
    assert t.nav_health_snapshot(DAY0).age_s == float("inf") and t.nav_health_snapshot(DAY0).value == 0.0
    t.on_nav(nav(5_000.0), DAY0)
    h = t.nav_health_snapshot(DAY0 + 91_000)
    assert (h.value, h.age_s, h.source, h.updated_ms) == (5_000.0, 91.0, "reconcile", DAY0)
