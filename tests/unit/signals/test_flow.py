from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.signals.flow import TradeFlow


def test_flow_imbalance_and_window_expiry() -> None:
    f = TradeFlow(window_ms=1000, min_flow=0.6, max_move_bps=1.0)
    f.add(0, 3.0, True, 100.0)
    f.add(500, 1.0, False, 100.0)
    assert f.imbalance == pytest.approx(0.5)
    f.expire(999)
    assert len(f) == 2
    f.expire(1000)  # the trade at 0 leaves at exactly now - W
    assert len(f) == 1 and f.imbalance == -1.0
    f.expire(1500)
    assert len(f) == 0 and f.imbalance == 0.0 and f.buy_vol == 0.0 and f.sell_vol == 0.0


def test_absorption_hand_values() -> None:
    f = TradeFlow(window_ms=5000, min_flow=0.6, max_move_bps=1.0)
    f.add(0, 4.0, True, 100.0)
    f.add(100, 1.0, False, 100.0)  # flow = (4 - 1) / 5 = 0.6
    assert f.absorption(100.0) == pytest.approx(0.6)  # no move at all: fully absorbed
    assert f.absorption(100.005) == pytest.approx(0.6 * 0.5)  # moved 0.5 bps its way: half
    assert f.absorption(100.02) == 0.0  # moved 2 bps its way: not absorbed
    assert f.absorption(99.9) == pytest.approx(0.6)  # moved against the flow: absorbed


def test_absorption_needs_heavy_flow_and_is_signed() -> None:
    f = TradeFlow(window_ms=5000, min_flow=0.6, max_move_bps=1.0)
    f.add(0, 1.0, True, 100.0)
    f.add(0, 1.0, False, 100.0)
    assert f.absorption(100.0) == 0.0
    g = TradeFlow(window_ms=5000, min_flow=0.6, max_move_bps=2.0)
    g.add(0, 2.0, False, 100.0)
    assert g.absorption(99.99) == pytest.approx(-1.0 * (1 - 1.0 / 2.0))  # sold, fell 1 bps of 2
    assert g.absorption(0.0) == 0.0


def test_zero_qty_ignored_and_bad_params() -> None:
    f = TradeFlow(window_ms=1000, min_flow=0.6, max_move_bps=1.0)
    f.add(0, 0.0, True, 100.0)
    assert len(f) == 0
    with pytest.raises(ValueError):
        TradeFlow(window_ms=0, min_flow=0.6, max_move_bps=1.0)


@given(st.lists(st.tuples(st.integers(0, 10_000), st.floats(0.0, 1e6), st.booleans()), max_size=60))
@settings(max_examples=200, deadline=None)
def test_flow_and_absorption_stay_in_unit_interval(trades: list[tuple[int, float, bool]]) -> None:
    f = TradeFlow(window_ms=2000, min_flow=0.5, max_move_bps=1.0)
    for ts, q, buy in sorted(trades):
        f.add(ts, q, buy, 100.0 + ts * 1e-4)
        assert -1.0 <= f.imbalance <= 1.0
        assert -1.0 <= f.absorption(100.0) <= 1.0
        assert f.buy_vol >= -1e-6 and f.sell_vol >= -1e-6
