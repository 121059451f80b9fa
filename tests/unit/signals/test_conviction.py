"""Conviction: hand-valued cases of the factor agreement and the risk state, and its properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.config import Config, SignalParams
from hedge.config.intel import ConvictionParams
from hedge.events import OrderIntent, RiskSnapshot, TradingState
from hedge.signals.conviction import Conviction, conviction, risk_multiplier
from hedge.signals.factors import agreement
from hedge.signals.features import SymbolFeatures
from tests.unit.signals.test_stage import bullish, make, nav

P = ConvictionParams(enabled=True, agreement_floor=0.5, drawdown_start=0.5, reducing_multiplier=0.5)


def features(book: float, flow: float, micro_dev: float, absorption: float) -> SymbolFeatures:
    f = SymbolFeatures("BTCUSDT", SignalParams())
    f.valid, f.mid = True, 100.0
    f.micro = 100.0 + micro_dev
    f.book_imbalance, f.flow_imbalance, f.absorption = book, flow, absorption
    return f


def test_agreement_counts_the_directional_factors_on_the_side() -> None:
    f = features(0.4, 0.2, 0.01, 0.0)  # three for a buy, absorption neutral
    assert agreement(f, [0.7], 1.0) == 4 / 5  # + the strategy's signal
    assert agreement(f, [0.7], -1.0) == 0.0
    assert agreement(f, [-0.7, 0.1], -1.0) == 1 / 6


@pytest.mark.parametrize(("agree", "dd_used", "state", "expected"), [
    (1.0, 0.0, TradingState.ACTIVE, 1.0),
    (0.0, 0.0, TradingState.ACTIVE, 0.5),  # the floor
    (0.5, 0.0, TradingState.ACTIVE, 0.75),
    (1.0, 0.5, TradingState.ACTIVE, 1.0),  # the ramp starts at half the limit
    (1.0, 0.75, TradingState.ACTIVE, 0.5),  # half-way down the ramp
    (0.5, 0.75, TradingState.ACTIVE, 0.375),
    (1.0, 0.9, TradingState.ACTIVE, 0.2),
    (1.0, 1.0, TradingState.ACTIVE, 0.0),  # at the limit
    (1.0, 0.2, TradingState.REDUCING, 0.5),
    (0.5, 0.75, TradingState.REDUCING, 0.1875),
    (1.0, 0.0, TradingState.HALTED, 0.0),
])
def test_hand_values(agree: float, dd_used: float, state: TradingState, expected: float) -> None:
    assert conviction(P, agree, dd_used, state) == pytest.approx(expected)


def test_the_screener_multiplier_follows_the_risk_snapshots() -> None:
    scores = [0.8]
    c = Conviction(P, portfolio_dd_limit=0.20, daily_dd_limit=0.10, scores=scores)
    f = features(0.4, 0.2, 0.01, 0.3)  # all five agree with a buy
    assert c.multiplier(f, 0.8) == 1.0
    c.on_risk(RiskSnapshot(nav=9_000.0, drawdown=0.05, daily_drawdown=0.075))  # daily: 75% of its limit used
    assert c.dd_used == pytest.approx(0.75)
    assert c.multiplier(f, 0.8) == pytest.approx(0.5)
    c.on_risk(RiskSnapshot(nav=9_000.0, drawdown=0.05, daily_drawdown=0.0, state=TradingState.REDUCING))
    assert c.multiplier(f, 0.8) == pytest.approx(0.5)  # 25% used: no ramp, REDUCING halves it
    assert c.multiplier(f, -0.8) == pytest.approx(0.25)  # a sell: only the floor


unit = st.floats(0.0, 1.0)


@given(agree=unit, a=st.floats(0.0, 2.0), b=st.floats(0.0, 2.0), floor=unit, start=st.floats(0.0, 0.99),
       reducing=unit, state=st.sampled_from(list(TradingState)))
def test_conviction_is_in_unit_range_and_never_grows_with_drawdown(
    agree: float, a: float, b: float, floor: float, start: float, reducing: float, state: TradingState
) -> None:
    p = ConvictionParams(agreement_floor=floor, drawdown_start=start, reducing_multiplier=reducing)
    lo, hi = sorted((a, b))
    c_lo, c_hi = conviction(p, agree, lo, state), conviction(p, agree, hi, state)
    assert 0.0 <= c_hi <= c_lo <= 1.0
    assert risk_multiplier(p, hi, state) <= risk_multiplier(p, lo, state)


@pytest.mark.parametrize(("used", "state", "expected"), [
    (0.0, TradingState.ACTIVE, 1.0),
    (0.5, TradingState.ACTIVE, 1.0),  # the ramp starts at half the limit
    (0.75, TradingState.ACTIVE, 0.5),  # drawdown nears its limit: half the size
    (0.9, TradingState.ACTIVE, 0.2),
    (0.0, TradingState.REDUCING, 0.5),  # REDUCING: reducing_multiplier
    (0.75, TradingState.REDUCING, 0.25),
])
def test_the_stage_sizes_its_intents_down_as_drawdown_nears_its_limit_and_in_reducing(
    used: float, state: TradingState, expected: float
) -> None:
    """Through the signal stage on a bus: the intent's notional, relative to the same tick's with no risk
    used, is the hand-valued risk multiplier (the factors' agreement is the same in both)."""
    def notional(snapshot: RiskSnapshot | None) -> float:
        bus, stage, seen = make(conviction=P)
        assert stage.conviction is not None
        nav(bus)
        if snapshot is not None:
            bus.publish(snapshot)
        bus.publish(bullish(0))
        (intent,) = seen[OrderIntent]
        return float(intent.notional)

    limit = Config().risk.portfolio_dd_limit
    base = notional(None)
    assert base > 0
    assert notional(RiskSnapshot(nav=10_000.0, drawdown=used * limit, state=state)) == pytest.approx(expected * base)
