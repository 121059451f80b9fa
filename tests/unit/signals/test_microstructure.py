from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.signals.microstructure import basis_bps, imbalance, micro_price, spread_bps, topn_imbalance

qty = st.floats(min_value=0.0, max_value=1e9, allow_nan=False)
px = st.floats(min_value=1e-4, max_value=1e7, allow_nan=False)


def test_imbalance_hand_values() -> None:
    assert imbalance(3.0, 1.0) == 0.5
    assert imbalance(1.0, 3.0) == -0.5
    assert imbalance(2.0, 0.0) == 1.0
    assert imbalance(0.0, 0.0) == 0.0


def test_topn_imbalance_uses_only_n_levels() -> None:
    bids = [(100.0, 1.0), (99.0, 2.0), (98.0, 100.0)]
    asks = [(101.0, 1.0), (102.0, 1.0), (103.0, 0.0)]
    assert topn_imbalance(bids, asks, 2) == pytest.approx((3.0 - 2.0) / 5.0)
    assert topn_imbalance(bids, asks, 1) == 0.0
    assert topn_imbalance(bids, asks, 3) == pytest.approx((103.0 - 2.0) / 105.0)


def test_micro_price_hand_values() -> None:
    # heavy bid (3) pulls toward the ask: (100*1 + 101*3) / 4
    assert micro_price(100.0, 3.0, 101.0, 1.0) == pytest.approx(100.75)
    assert micro_price(100.0, 1.0, 101.0, 3.0) == pytest.approx(100.25)
    assert micro_price(100.0, 0.0, 101.0, 0.0) == 100.5


def test_spread_and_basis_hand_values() -> None:
    assert spread_bps(99.0, 101.0) == pytest.approx(200.0)
    assert spread_bps(0.0, 0.0) == 0.0
    assert basis_bps(100.1, 100.0) == pytest.approx(10.0)
    assert basis_bps(99.0, 100.0) == pytest.approx(-100.0)
    assert basis_bps(100.0, 0.0) == 0.0


@given(qty, qty)
@settings(max_examples=300, deadline=None)
def test_imbalance_is_within_unit_interval(b: float, a: float) -> None:
    x = imbalance(b, a)
    assert -1.0 <= x <= 1.0
    assert math.copysign(1.0, x) == math.copysign(1.0, b - a) or x == 0.0


@given(st.lists(st.tuples(px, qty), max_size=8), st.lists(st.tuples(px, qty), max_size=8), st.integers(1, 10))
@settings(max_examples=200, deadline=None)
def test_topn_imbalance_is_within_unit_interval(bids: list[tuple[float, float]], asks: list[tuple[float, float]], n: int) -> None:
    assert -1.0 <= topn_imbalance(bids, asks, n) <= 1.0


@given(px, st.floats(min_value=0.0, max_value=1e4, allow_nan=False), qty, qty)
@settings(max_examples=300, deadline=None)
def test_micro_price_is_within_the_touch(bid: float, width: float, bq: float, aq: float) -> None:
    ask = bid + width
    m = micro_price(bid, bq, ask, aq)
    assert bid <= m <= ask
