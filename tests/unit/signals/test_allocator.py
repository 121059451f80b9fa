"""The feedback allocator: hand-valued budgets, bounds, decay toward 1.0, and its place in sizing."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.config import AllocatorParams
from hedge.events import Tier, VolRegime
from hedge.model.sprt import SprtDecision
from hedge.signals.allocator import FeedbackAllocator
from hedge.signals.sizing import Sizer
from tests.kit.config import make_config

P = AllocatorParams(min_budget=0.25, max_budget=1.5, half_life_s=60.0, edge_boost=1.25)
VERDICTS = st.sampled_from(list(SprtDecision))


def test_no_evidence_is_neutral() -> None:
    a = FeedbackAllocator(P)
    assert a.multiplier("BTCUSDT", "micro_scalper", 0) == 1.0
    assert a.multiplier("BTCUSDT", "micro_scalper", 10**12) == 1.0


def test_targets_by_hand() -> None:
    a = FeedbackAllocator(P)
    assert a.target(0.0, SprtDecision.CONTINUE) == 1.0
    assert a.target(1.0, SprtDecision.CONTINUE) == 1.5
    assert a.target(0.5, SprtDecision.CONTINUE) == 1.25  # 1 + 0.5 * (1.5 - 1)
    assert a.target(-1.0, SprtDecision.CONTINUE) == 0.25
    assert a.target(-0.4, SprtDecision.CONTINUE) == pytest.approx(0.7)  # 1 - 0.4 * 0.75
    assert a.target(0.2, SprtDecision.EDGE) == pytest.approx(1.375)  # 1.1 * 1.25
    assert a.target(1.0, SprtDecision.EDGE) == 1.5  # 1.875, bounded
    assert a.target(0.9, SprtDecision.NO_EDGE) == 0.25  # the SPRT switched the stream off


def test_half_life_decay_by_hand() -> None:
    a = FeedbackAllocator(P)
    assert a.on_trip("BTCUSDT", "s", -1.0, SprtDecision.CONTINUE, 1_000) == 0.25
    assert a.multiplier("BTCUSDT", "s", 1_000) == 0.25
    assert a.multiplier("BTCUSDT", "s", 61_000) == pytest.approx(0.625)  # one half-life: 1 - 0.75 / 2
    assert a.multiplier("BTCUSDT", "s", 121_000) == pytest.approx(0.8125)
    assert a.multiplier("BTCUSDT", "other", 61_000) == 1.0  # streams are separate
    assert a.multiplier("ETHUSDT", "s", 61_000) == 1.0
    a.on_trip("BTCUSDT", "s", 1.0, SprtDecision.CONTINUE, 121_000)  # new evidence replaces the old
    assert a.multiplier("BTCUSDT", "s", 181_000) == pytest.approx(1.25)


def test_bounds_must_hold_one() -> None:
    with pytest.raises(msgspec.ValidationError, match="min_budget <= 1 <= max_budget"):
        msgspec.convert({"min_budget": 1.2}, AllocatorParams)


def test_the_sizer_caps_still_rule() -> None:
    cfg = make_config()
    sizer = Sizer(cfg.strategy.sizing, cfg.strategy.per_trade_nav_pct)
    plain = sizer.notional(10_000.0, 0.4, VolRegime.NORMAL, Tier.CORE)
    assert sizer.notional(10_000.0, 0.4, VolRegime.NORMAL, Tier.CORE, 0.5) == pytest.approx(plain * 0.5)
    full = sizer.notional(10_000.0, 1.0, VolRegime.NORMAL, Tier.CORE)  # at the conviction cap already
    assert sizer.notional(10_000.0, 1.0, VolRegime.NORMAL, Tier.CORE, 1.5) == full


@settings(max_examples=200, deadline=None)
@given(
    trips=st.lists(st.tuples(st.floats(-5, 5) | st.just(float("nan")), VERDICTS, st.integers(0, 10**9)), max_size=8),
    lo=st.floats(0.01, 1.0), hi=st.floats(1.0, 5.0), half_life=st.floats(0.001, 1e5),
    probes=st.lists(st.integers(0, 2 * 10**9), min_size=1, max_size=8),
)
def test_budget_properties(
    trips: list[tuple[float, SprtDecision, int]], lo: float, hi: float, half_life: float, probes: list[int]
) -> None:
    a = FeedbackAllocator(AllocatorParams(min_budget=lo, max_budget=hi, half_life_s=half_life))
    for t in probes:
        assert a.multiplier("X", "s", t) == 1.0  # no evidence: neutral
    last = 0
    for score, verdict, dt in trips:
        last += dt
        a.on_trip("X", "s", score, verdict, last)
    for t in probes:
        assert lo <= a.multiplier("X", "s", last + t) <= hi  # always within the bounds
    if trips:  # without new evidence: monotonically toward 1.0, never across it
        prev = a.multiplier("X", "s", last)
        for t in sorted(probes):
            b = a.multiplier("X", "s", last + t)
            assert abs(b - 1.0) <= abs(prev - 1.0) + 1e-12
            assert (b - 1.0) * (prev - 1.0) >= 0.0
            prev = b
