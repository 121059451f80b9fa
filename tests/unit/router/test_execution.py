"""TWAP slicing: exact step multiples, as even as possible, each slice above the exchange minimums."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hedge.events import Side
from hedge.model.instrument import SymbolFilters, to_decimal
from hedge.router.execution import split_slices
from hedge.router.filters import Mode, OrderFilter, Prepared

F = OrderFilter(SymbolFilters(symbol="BTCUSDT", tick_size=Decimal("0.1"), step_size=Decimal("0.001"),
                              min_qty=Decimal("0.001"), min_notional=Decimal("100")))


def test_even_split() -> None:
    assert split_slices(F, 0.1492, 67000.0, 5) == [0.03, 0.03, 0.03, 0.03, 0.029]
    assert split_slices(F, 0.0149, 67000.0, 1) == [0.014]
    assert split_slices(F, 0.0005, 67000.0, 5) == [0.0005]  # below one step: left to the filters to deny


def test_fewer_slices_when_each_would_be_below_min_notional() -> None:
    # 0.005 BTC = 335 USDT; min notional 100 needs >= 0.0015 BTC = 2 steps per slice -> 2 slices
    s = split_slices(F, 0.005, 67000.0, 5)
    assert len(s) == 2 and sum(s) == 0.005  # 5 steps // 2 min steps = 2 slices


@given(st.floats(0.001, 50.0), st.floats(1000.0, 100_000.0), st.integers(1, 20))
def test_property_sum_and_minimums(qty: float, ref: float, n: int) -> None:
    s = split_slices(F, qty, ref, n)
    total = sum(to_decimal(x) for x in s)
    assert total == (to_decimal(qty) / F.f.step_size).to_integral_value(rounding="ROUND_FLOOR") * F.f.step_size
    assert 1 <= len(s) <= n
    assert max(s) - min(s) <= 0.001 + 1e-12
    if len(s) > 1:  # every slice is sendable on its own
        for x in s:
            assert isinstance(F.prepare(Side.BUY, x, ref, Mode.MAKER, reference=ref), Prepared)
