"""The request budget: weight/order headers, 80 % budget, 429 Retry-After, 418 ban."""

from __future__ import annotations

import pytest

from hedge.model.clock import EventClock
from hedge.venue.errors import RateLimited
from hedge.venue.rate_limit import RequestBudget


def clock_at(t_s: int = 1_000_040) -> EventClock:  # default: 20 s into a minute (60 x 16667 = 1_000_020)
    return EventClock(t_s * 1_000_000_000)


def test_weight_budget_refuses_reads_above_80_percent_until_the_next_minute() -> None:
    c = clock_at()
    b = RequestBudget(budget=0.8, weight_limit_1m=1000, clock=c)
    b.observe(200, {"x-mbx-used-weight-1m": "799"})  # header names are case-insensitive
    b.check(order=False)
    b.observe(200, {"X-MBX-USED-WEIGHT-1M": "800"})
    assert b.weight_used_share == pytest.approx(0.8)
    with pytest.raises(RateLimited) as e:
        b.check(order=False)
    assert e.value.retry_after_s == pytest.approx(40.0) and not e.value.banned
    b.check(order=True)  # orders carry no IP weight: judged by the order count instead
    c.advance_s(40.0)  # a new minute: the weight is Binance's per-minute counter
    b.check(order=False)
    assert b.weight_used_share == 0.0


def test_order_count_budget_per_10s() -> None:
    c = clock_at(1_000_001)
    b = RequestBudget(budget=0.8, order_limit_10s=10, clock=c)
    b.observe(200, {"X-MBX-ORDER-COUNT-10S": "8"})
    with pytest.raises(RateLimited) as e:
        b.check(order=True)
    assert e.value.retry_after_s == pytest.approx(9.0)
    c.advance_s(9.0)
    b.check(order=True)


def test_429_backs_off_as_told_and_418_bans_everything() -> None:
    c = clock_at()
    b = RequestBudget(clock=c)
    b.observe(429, {"Retry-After": "3"})
    with pytest.raises(RateLimited) as e:
        b.check(order=True)
    assert e.value.retry_after_s == pytest.approx(3.0) and not e.value.banned
    c.advance_s(3.0)
    b.check(order=True)
    b.observe(418, {"Retry-After": "120"})
    for order in (True, False):
        with pytest.raises(RateLimited) as e2:
            b.check(order=order)
        assert e2.value.banned and e2.value.retry_after_s == pytest.approx(120.0)
    c.advance_s(120.0)
    b.check(order=False)
    assert not b.banned and b.refused == 3


def test_418_without_retry_after_bans_two_minutes() -> None:
    c = clock_at()
    b = RequestBudget(clock=c)
    b.observe(418, {})
    with pytest.raises(RateLimited) as e:
        b.check(order=False)
    assert e.value.retry_after_s == pytest.approx(120.0)
