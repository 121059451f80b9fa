"""Caps are held at every price the router may pay, not at the intent's limit price.

Found on main: a sell whose limit is below the bid got a quantity worth 5.26% NAV against a 5% cap
(it fills at the bid or better); adding to a short near its cap reached 31.6% against 30%.
"""

from __future__ import annotations

import pytest

from hedge.events import Side
from hedge.risk import Reason, RiskLimits, check_order
from tests.unit.risk.helpers import NAV, book, ctx, intent, pos, risk_config

BUDGET_BPS = 10.0


def limits(**kw: object) -> RiskLimits:
    lim = RiskLimits.from_config(risk_config(**kw))
    assert lim.slippage_budget_bps == BUDGET_BPS  # router.slippage_budget_bps, as shipped
    return lim


def test_a_sell_limited_below_the_bid_is_capped_at_the_price_it_fills_at() -> None:
    lim = limits(symbol_caps={"BTCUSDT": 0.05}, max_trade_nav_pct=1.0)
    c = ctx(book=book(bid=100.0, ask=100.02))
    d = check_order(intent(1_000.0, Side.SELL, limit_px=95.0), c, lim)  # 10% NAV asked at 95
    assert d.allow and Reason.SYMBOL_CAP in d.reasons
    worst = 100.02 * (1 + BUDGET_BPS / 1e4)  # the ask plus the budget: the most it can be worth
    assert d.max_qty * worst == pytest.approx(0.05 * NAV)
    assert d.max_qty * 100.0 < 0.05 * NAV  # at the bid (where a crossing sell fills) within the cap
    assert d.price == 95.0  # the reference price is still the limit


def test_adding_to_a_short_near_its_cap_holds_the_cap_at_the_top_of_the_range() -> None:
    lim = limits(symbol_caps={"BTCUSDT": 0.30}, max_trade_nav_pct=1.0)
    c = ctx(book=book(bid=100.0, ask=100.05), positions={"BTCUSDT": pos(-29.0)})  # short 29% of NAV
    d = check_order(intent(500.0, Side.SELL, limit_px=99.0), c, lim)
    assert d.allow and d.reasons == (Reason.SYMBOL_CAP,)
    hi = 100.05 * (1 + BUDGET_BPS / 1e4)
    assert (29.0 + d.max_qty) * hi == pytest.approx(0.30 * NAV)


def test_the_per_trade_cap_binds_at_the_highest_price() -> None:
    lim = limits(max_trade_nav_pct=0.05)
    d = check_order(intent(500.0, Side.BUY), ctx(book=book(bid=100.0, ask=100.0)), lim)  # exactly 5% at the touch
    assert d.allow and d.reasons == (Reason.TRADE_NAV_CAP,)
    assert d.max_qty * 100.0 * (1 + BUDGET_BPS / 1e4) == pytest.approx(0.05 * NAV)


def test_net_exposure_is_held_at_both_ends_of_the_range() -> None:
    # others long or short 40% NAV, the own position long or short: |net| within 60% (or no worse
    # than before) at the bottom and at the top of the range
    lim = limits(net_exposure_max=0.6, gross_exposure_max=5.0, max_trade_nav_pct=1.0,
                 tier_caps={"CORE": 1.0, "SATELLITE": 1.0, "TACTICAL": 1.0, "ALT-EXT": 1.0})
    bound = 0
    for sol in (40.0, -40.0):
        for own in (10.0, -10.0):
            c = ctx(book=book(bid=99.8, ask=100.2), positions={"SOLUSDT": pos(sol, mark=100.0), "BTCUSDT": pos(own)})
            d = check_order(intent(2_500.0, Side.BUY), c, lim)
            assert d.allow
            bound += Reason.NET_EXPOSURE in d.reasons
            for px in (99.8 * (1 - BUDGET_BPS / 1e4), 100.2 * (1 + BUDGET_BPS / 1e4)):
                net = sol * 100.0 + (own + d.max_qty) * px
                assert abs(net) <= max(0.6 * NAV, abs(sol * 100.0 + own * px)) * (1 + 1e-9)
    assert bound >= 1
