"""Exchange filters: exact rounding to tick/step, and every check that keeps a bad order local."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.events import Side
from hedge.model.instrument import SymbolFilters, to_decimal
from hedge.router.filters import Denial, Mode, OrderFilter, Prepared

TICKS = [Decimal(s) for s in ("0.00001", "0.0001", "0.001", "0.01", "0.1", "0.5", "1", "10")]
STEPS = [Decimal(s) for s in ("0.001", "0.01", "0.1", "1", "10", "0.000001")]


def btc(**kw: object) -> OrderFilter:
    base = dict(
        symbol="BTCUSDT", tick_size=Decimal("0.1"), step_size=Decimal("0.001"), min_qty=Decimal("0.001"),
        max_qty=Decimal("1000"), min_price=Decimal("556.72"), max_price=Decimal("1000000"),
        min_notional=Decimal("100"), percent_up=Decimal("1.05"), percent_down=Decimal("0.95"),
    )
    base.update(kw)
    return OrderFilter(SymbolFilters(**base))  # type: ignore[arg-type]


def test_maker_rounds_toward_the_passive_side() -> None:
    f = btc()
    buy = f.prepare(Side.BUY, 0.0029, 67000.17, Mode.MAKER, reference=67000.0)
    sell = f.prepare(Side.SELL, 0.0029, 67000.11, Mode.MAKER, reference=67000.0)
    assert isinstance(buy, Prepared) and isinstance(sell, Prepared)
    assert (buy.price, buy.qty, buy.price_ticks) == (67000.1, 0.002, 670001)
    assert (sell.price, sell.qty) == (67000.2, 0.002)  # sell rounds UP, qty always DOWN


def test_no_float_drift() -> None:
    f = btc(min_price=Decimal("0"), min_notional=Decimal("0"), percent_up=Decimal("0"), percent_down=Decimal("0"))
    p = f.prepare(Side.BUY, 0.1 + 0.2, 0.1 + 0.2, Mode.MAKER, reference=0.3)  # 0.30000000000000004
    assert isinstance(p, Prepared)
    assert repr(p.price) == "0.3" and repr(p.qty) == "0.3"


def test_taker_rounds_aggressively_but_never_past_the_cap() -> None:
    f = btc()
    # toward the aggressive side: buy up, sell down
    assert f.round_price(Side.BUY, 100.01, Mode.TAKER) == 1001
    assert f.round_price(Side.SELL, 100.09, Mode.TAKER) == 1000
    # ...but never beyond the cap (buy cap 100.05 -> at most 100.0; sell cap 99.95 -> at least 100.0)
    assert f.round_price(Side.BUY, 100.01, Mode.TAKER, cap=100.05) == 1000
    assert f.round_price(Side.SELL, 99.91, Mode.TAKER, cap=99.95) == 1000


@pytest.mark.parametrize(
    ("side", "qty", "px", "mode", "ref", "reduce_only", "filt"),
    [
        (Side.BUY, 0.0009, 67000.0, Mode.MAKER, 67000.0, False, "LOT_SIZE"),  # below min qty after rounding
        (Side.BUY, 1000.5, 67000.0, Mode.MAKER, 67000.0, False, "LOT_SIZE"),  # above max qty
        (Side.BUY, 0.001, 67000.0, Mode.MAKER, 67000.0, False, "MIN_NOTIONAL"),  # 67 < 100
        (Side.BUY, 0.01, 70400.0, Mode.MAKER, 67000.0, False, "PERCENT_PRICE"),  # > 67000 * 1.05
        (Side.SELL, 0.01, 63600.0, Mode.MAKER, 67000.0, False, "PERCENT_PRICE"),  # < 67000 * 0.95
        (Side.BUY, 0.01, 500.0, Mode.MAKER, 510.0, False, "PRICE_FILTER"),  # below min price
        (Side.BUY, float("nan"), 67000.0, Mode.MAKER, 67000.0, False, "INPUT"),
        (Side.BUY, 0.01, -1.0, Mode.MAKER, 67000.0, False, "INPUT"),
        (Side.BUY, 0.001, 0.0, Mode.MARKET, 0.0, False, "MIN_NOTIONAL"),  # market without a reference
    ],
)
def test_denials_name_their_filter(side: Side, qty: float, px: float, mode: Mode, ref: float, reduce_only: bool,
                                   filt: str) -> None:
    d = btc().prepare(side, qty, px, mode, reference=ref, reduce_only=reduce_only)
    assert isinstance(d, Denial)
    assert d.filter == filt and d.reason


def test_reduce_only_is_exempt_from_min_notional() -> None:
    assert isinstance(btc().prepare(Side.SELL, 0.001, 67000.0, Mode.MAKER, reference=67000.0), Denial)
    ok = btc().prepare(Side.SELL, 0.001, 67000.0, Mode.MAKER, reference=67000.0, reduce_only=True)
    assert isinstance(ok, Prepared) and ok.qty == 0.001


def test_market_orders_use_the_market_lot_and_reference_notional() -> None:
    f = btc(market_step_size=Decimal("0.01"), market_min_qty=Decimal("0.01"), market_max_qty=Decimal("120"))
    p = f.prepare(Side.BUY, 0.019, 0.0, Mode.MARKET, reference=67000.0)
    assert isinstance(p, Prepared) and (p.qty, p.price) == (0.01, 0.0) and p.notional == 670.0
    d = f.prepare(Side.BUY, 121.0, 0.0, Mode.MARKET, reference=67000.0)
    assert isinstance(d, Denial) and d.filter == "MARKET_LOT_SIZE"


@st.composite
def cases(draw: st.DrawFn) -> tuple[OrderFilter, Side, float, float, Mode, float, float, bool]:
    tick = draw(st.sampled_from(TICKS))
    step = draw(st.sampled_from(STEPS))
    f = OrderFilter(SymbolFilters(
        symbol="X", tick_size=tick, step_size=step, min_qty=step * draw(st.integers(1, 5)),
        max_qty=draw(st.sampled_from([Decimal(0), Decimal(10_000)])),
        min_notional=draw(st.sampled_from([Decimal(0), Decimal(5), Decimal(100)])),
        percent_up=draw(st.sampled_from([Decimal(0), Decimal("1.05")])),
        percent_down=draw(st.sampled_from([Decimal(0), Decimal("0.95")])),
    ))
    px = draw(st.floats(1e-3, 2e6, allow_nan=False))
    qty = draw(st.floats(1e-7, 5e4, allow_nan=False))
    ref = px * draw(st.floats(0.9, 1.1))
    cap = draw(st.sampled_from([0.0, px * 1.001, px * 0.999]))
    return (f, draw(st.sampled_from(list(Side))), qty, px, draw(st.sampled_from(list(Mode))), ref, cap,
            draw(st.booleans()))


@settings(max_examples=600, deadline=None)
@given(cases())
def test_property_never_off_grid_or_below_minimums(case: tuple[OrderFilter, Side, float, float, Mode, float, float,
                                                                bool]) -> None:
    f, side, qty, px, mode, ref, cap, reduce_only = case
    out = f.prepare(side, qty, px, mode, reference=ref, cap=cap, reduce_only=reduce_only)
    if isinstance(out, Denial):
        assert out.filter in {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "MIN_NOTIONAL", "PERCENT_PRICE", "INPUT"}
        return
    r = f.f
    q = to_decimal(out.qty)
    step = r.step_size if mode is not Mode.MARKET else (r.market_step_size or r.step_size)
    assert q % step == 0, "quantity off step"
    assert Decimal(0) < q <= to_decimal(qty), "quantity rounds down only"
    assert q >= r.min_qty and (r.max_qty == 0 or q <= r.max_qty)
    if mode is Mode.MARKET:
        return
    p = to_decimal(out.price)
    assert p % r.tick_size == 0, "price off tick"
    assert p == out.price_ticks * r.tick_size
    if not reduce_only:
        assert q * p >= r.min_notional, "notional below the minimum"
    d_px = to_decimal(px)
    if mode is Mode.MAKER:  # passive rounding, by less than one tick
        assert (p <= d_px if side is Side.BUY else p >= d_px) and abs(p - d_px) < r.tick_size
    elif cap > 0:
        assert p <= to_decimal(cap) if side is Side.BUY else p >= to_decimal(cap)
    if r.percent_up > 0:
        d_ref = to_decimal(ref)
        assert p <= d_ref * r.percent_up if side is Side.BUY else p >= d_ref * r.percent_down
