"""The filters' integer fast path gives exactly what the exact Decimal arithmetic gives.

``Grid`` (hedge/model/instrument.py) against ``units(to_decimal(x), size, rounding)``, and
``OrderFilter.prepare`` (fast path first) against ``OrderFilter._prepare_exact``, over random sizes,
filters, prices and quantities: on the grid, just off it, far from it, tiny and huge.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from hedge.events import Side
from hedge.model.instrument import Grid, SymbolFilters, to_decimal, units
from hedge.router.filters import Mode, OrderFilter

SIZES = [Decimal(s) for s in ("0.0000001", "0.00001", "0.001", "0.01", "0.1", "0.5", "0.25", "1", "5", "10",
                              "1E+1", "0.000001", "100", "0.0025")]

sizes = st.sampled_from(SIZES)
floats = st.floats(min_value=1e-9, max_value=1e13, allow_nan=False, allow_infinity=False)


@st.composite
def near_grid(draw: st.DrawFn) -> tuple[Decimal, float]:
    """A size and a value on its grid, or a few ulps / a small fraction away from it."""
    size = draw(sizes)
    n = draw(st.integers(min_value=0, max_value=10**9))
    x = float(n * size)
    how = draw(st.sampled_from(["on", "ulp", "frac", "any"]))
    if how == "ulp":
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            x = math.nextafter(x, math.inf if draw(st.booleans()) else 0.0)
    elif how == "frac":
        x += float(size) * draw(st.floats(min_value=-0.999, max_value=0.999))
    elif how == "any":
        x = draw(floats)
    return size, abs(x)


@settings(max_examples=800, deadline=None)
@given(near_grid())
@example((Decimal("0.1"), 67000.1))
@example((Decimal("0.1"), 0.30000000000000004))
@example((Decimal("0.001"), 0.1 + 0.2))
@example((Decimal("0.5"), 2.0**31))
@example((Decimal("0.1"), 1e300))
def test_grid_rounds_exactly_like_decimal(case: tuple[Decimal, float]) -> None:
    size, x = case
    g = Grid(size)
    d = to_decimal(x)
    assert g.floor(x) == units(d, size, ROUND_FLOOR)
    assert g.ceil(x) == units(d, size, ROUND_CEILING)
    n = units(d, size, ROUND_FLOOR)
    if abs(n) < 10**15:
        assert g.value(n) == float(n * size)


@st.composite
def filters(draw: st.DrawFn) -> OrderFilter:
    tick, step = draw(sizes), draw(sizes)
    maybe = st.one_of(st.just(Decimal(0)), st.sampled_from([Decimal(s) for s in ("0.5", "1", "100", "5.5", "1000")]))
    pct = st.sampled_from([Decimal(s) for s in ("0", "1.05", "1.15", "1.0005")])
    dn = st.sampled_from([Decimal(s) for s in ("0", "0.95", "0.85", "0.9995")])
    return OrderFilter(SymbolFilters(
        symbol="X", tick_size=tick, step_size=step, min_qty=step * draw(st.integers(min_value=1, max_value=5)),
        max_qty=draw(st.sampled_from([Decimal(0), Decimal("1000"), Decimal("1E+7")])), min_price=draw(maybe),
        max_price=draw(st.sampled_from([Decimal(0), Decimal("1000000")])), min_notional=draw(maybe),
        percent_up=draw(pct), percent_down=draw(dn),
    ))


@settings(max_examples=800, deadline=None)
@given(filters(), st.sampled_from([Side.BUY, Side.SELL]), st.sampled_from([Mode.MAKER, Mode.TAKER, Mode.MARKET]),
       near_grid(), near_grid(), st.floats(min_value=0.9, max_value=1.1), st.booleans(), st.booleans())
def test_prepare_fast_path_equals_exact(
    f: OrderFilter, side: Side, mode: Mode, pcase: tuple[Decimal, float], qcase: tuple[Decimal, float],
    ref_ratio: float, with_cap: bool, reduce_only: bool,
) -> None:
    price, qty = pcase[1], qcase[1]
    reference = price * ref_ratio
    cap = price * (1.0 + (0.001 if side is Side.BUY else -0.001)) if with_cap and mode is Mode.TAKER else 0.0
    kw = dict(reference=reference, cap=cap, reduce_only=reduce_only)
    assert f.prepare(side, qty, price, mode, **kw) == f._prepare_exact(side, qty, price, mode, **kw)  # type: ignore[arg-type]


def test_the_bench_order_takes_the_fast_path() -> None:
    f = OrderFilter(SymbolFilters(
        symbol="BTCUSDT", tick_size=Decimal("0.1"), step_size=Decimal("0.001"), min_qty=Decimal("0.001"),
        max_qty=Decimal("1000"), min_notional=Decimal("100"), percent_up=Decimal("1.05"), percent_down=Decimal("0.95"),
    ))
    fast = f._pass(Side.BUY, 0.014925, 67000.0, Mode.MAKER, 67000.05, 0.0, False)
    assert fast is not None and (fast.price, fast.qty, fast.price_ticks, fast.qty_steps) == (67000.0, 0.014, 670000, 14)
