"""Fault plans and rate-limit windows of the local exchange."""

from __future__ import annotations

import pytest

from hedge.exchange.errors import Reject
from hedge.exchange.faults import Faults, FaultSetting, FaultSpecError
from hedge.exchange.limits import BAN_AFTER_REJECTS, Limits, RateLimiter


def test_spec_parsing_and_firing() -> None:
    f = Faults("order_503=1.0,rest_delay_ms=250,seed=3")
    assert f.value("rest_delay_ms") == 250
    assert all(f.fire("order_503") for _ in range(5)) and f.fired["order_503"] == 5
    assert not f.fire("depth_gap")
    f.set("depth_gap", FaultSetting(count=2))
    assert [f.fire("depth_gap") for _ in range(3)] == [True, True, False]
    for bad in ("order_503", "order_503=2", "nope=1", "rest_delay_ms=abc"):
        with pytest.raises(FaultSpecError):
            Faults(bad)


def test_probability_is_seeded() -> None:
    fa, fb = Faults("depth_gap=0.3,seed=9"), Faults("depth_gap=0.3,seed=9")
    seq_a = [fa.fire("depth_gap") for _ in range(200)]
    assert seq_a == [fb.fire("depth_gap") for _ in range(200)]
    assert 30 < sum(seq_a) < 90


def test_weight_window_429_then_ban() -> None:
    lim = RateLimiter(Limits(weight_1m=10))
    now = 60_000 * 100
    assert [lim.charge("ip", 2, now) for _ in range(5)] == [2, 4, 6, 8, 10]
    for _ in range(BAN_AFTER_REJECTS):
        with pytest.raises(Reject) as e:
            lim.charge("ip", 1, now)
        assert e.value.status == 429
    with pytest.raises(Reject) as e:
        lim.charge("ip", 1, now)
    assert e.value.status == 418
    assert lim.retry_after_s("ip", now) == 120
    with pytest.raises(Reject):  # still banned in the next minute
        lim.charge("ip", 1, now + 60_000)
    assert lim.charge("other", 1, now) == 1  # per IP
    assert lim.charge("ip", 1, now + 121_000) == 1


def test_order_counts() -> None:
    lim = RateLimiter(Limits(orders_10s=3))
    assert [lim.count_order("a", 1000) for _ in range(3)] == [(1, 1), (2, 2), (3, 3)]
    with pytest.raises(Reject) as e:
        lim.count_order("a", 1000)
    assert e.value.code == -1015
    assert lim.count_order("a", 10_000) == (1, 5)
