from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.config import SizingParams
from hedge.events import Tier, VolRegime
from hedge.signals.sizing import Sizer

P = SizingParams()


def test_hand_values() -> None:
    s = Sizer(P, per_trade_nav_pct=0.01)
    # 10_000 * 1% * CORE 1.0 * conviction (2.0 * 0.5 * normal 1.0) = 100
    assert s.notional(10_000.0, 0.5, VolRegime.NORMAL, Tier.CORE) == pytest.approx(100.0)
    assert s.notional(10_000.0, -0.5, VolRegime.NORMAL, Tier.CORE) == pytest.approx(100.0)
    # high regime 0.75
    assert s.notional(10_000.0, 0.5, VolRegime.HIGH, Tier.CORE) == pytest.approx(75.0)
    # TACTICAL (0.5) in high vol: also x high_vol_tactical_multiplier 0.5 -> 10_000*0.01*0.5*(2*0.5*0.75*0.5)
    assert s.notional(10_000.0, 0.5, VolRegime.HIGH, Tier.TACTICAL) == pytest.approx(18.75)
    assert s.notional(10_000.0, 0.5, VolRegime.NORMAL, Tier.TACTICAL) == pytest.approx(50.0)
    assert s.notional(0.0, 1.0, VolRegime.NORMAL, Tier.CORE) == 0.0


def test_caps() -> None:
    s = Sizer(SizingParams(max_notional_usd=150.0), per_trade_nav_pct=0.01)
    assert s.notional(10_000.0, 1.0, VolRegime.NORMAL, Tier.CORE) == 150.0  # 200 capped by max_notional_usd
    big = Sizer(SizingParams(regime_multipliers={VolRegime.LOW: 5.0}), per_trade_nav_pct=0.01)
    assert big.conviction(1.0, VolRegime.LOW, Tier.CORE) == 2.0  # conviction capped at max_conviction


@given(
    nav=st.floats(0.0, 1e9, allow_nan=False),
    score=st.floats(-10.0, 10.0, allow_nan=False),
    regime=st.sampled_from(list(VolRegime)),
    tier=st.sampled_from(list(Tier)),
    pct=st.floats(0.0, 1.0),
    max_usd=st.floats(1.0, 1e7),
    regime_mult=st.floats(0.0, 10.0),
)
@settings(max_examples=400, deadline=None)
def test_never_above_caps(nav: float, score: float, regime: VolRegime, tier: Tier, pct: float, max_usd: float, regime_mult: float) -> None:
    p = SizingParams(max_notional_usd=max_usd, regime_multipliers={r: regime_mult for r in VolRegime})
    s = Sizer(p, per_trade_nav_pct=pct)
    n = s.notional(nav, score, regime, tier)
    assert 0.0 <= n <= max_usd
    assert n <= nav * pct * p.tier_multipliers[tier] * p.max_conviction * (1 + 1e-12)
    assert 0.0 <= s.conviction(score, regime, tier) <= p.max_conviction
    if regime is VolRegime.HIGH and tier is Tier.TACTICAL:
        assert n <= s.notional(nav, score, VolRegime.HIGH, Tier.SATELLITE) + 1e-9
