"""One test per risk gate: allowed just under (or at) the limit, vetoed or reduced just over it."""

from __future__ import annotations

import math

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.config import Config, RuntimeConfig, TradingWindow
from hedge.events import Side, TradingState
from hedge.risk import Reason, RiskLimits, check_order, historical_cvar
from tests.kit.config import repo_config
from tests.unit.risk.helpers import NAV, NOW_MS, NOW_NS, PX, book, ctx, intent, pos, risk_config


def limits(**kw: object) -> RiskLimits:
    """Limits with no slippage budget: each gate is judged at exactly the book's one price (100/100),
    so "just under" and "just over" are exact. The budget's own tests are in test_price_paid.py."""
    return msgspec.structs.replace(RiskLimits.from_config(risk_config(**kw)), slippage_budget_bps=0.0)


LIM = limits()


def test_base_context_allows_without_reduction() -> None:
    d = check_order(intent(100.0), ctx(), LIM)
    assert d.allow and d.reasons == () and d.max_qty == pytest.approx(1.0)
    assert d.price == PX and d.state is TradingState.ACTIVE


def vetoed(d: object, reason: str) -> bool:
    assert isinstance(d, type(check_order(intent(), ctx(), LIM)))
    return (not d.allow) and reason in d.reasons and d.max_qty == 0.0


# ------------------------------------------------------------------ gates for every order


def test_nav_freshness() -> None:
    fresh = ctx(nav=msgspec.structs.replace(ctx().nav, age_s=90.0))
    stale = ctx(nav=msgspec.structs.replace(ctx().nav, age_s=90.001))
    assert check_order(intent(), fresh, LIM).allow
    d = check_order(intent(), stale, LIM)
    assert vetoed(d, Reason.NAV_STALE)
    assert d.observed[Reason.NAV_STALE] == 90.001 and d.limits[Reason.NAV_STALE] == 90.0
    # stale NAV vetoes everything, exits included
    exit_ = intent(50.0, Side.SELL, reduce_only=True)
    assert vetoed(check_order(exit_, ctx(nav=stale.nav, positions={"BTCUSDT": pos(1.0)}), LIM), Reason.NAV_STALE)


def test_nav_missing() -> None:
    assert vetoed(
        check_order(intent(), ctx(nav=msgspec.structs.replace(ctx().nav, updated_ms=0)), LIM), Reason.NAV_MISSING
    )
    assert vetoed(
        check_order(intent(), ctx(nav=msgspec.structs.replace(ctx().nav, value=0.0)), LIM), Reason.NAV_MISSING
    )


def test_halted_allows_nothing() -> None:
    c = ctx(state=TradingState.HALTED, positions={"BTCUSDT": pos(5.0)})
    assert vetoed(check_order(intent(), c, LIM), Reason.HALTED)
    assert vetoed(check_order(intent(100.0, Side.SELL, reduce_only=True), c, LIM), Reason.HALTED)


def test_reducing_allows_only_exposure_reducing_orders() -> None:
    c = ctx(state=TradingState.REDUCING, positions={"BTCUSDT": pos(5.0)})
    assert vetoed(check_order(intent(100.0, Side.BUY), c, LIM), Reason.REDUCING)
    ok = check_order(intent(300.0, Side.SELL), c, LIM)
    assert ok.allow and ok.reasons == () and ok.max_qty == pytest.approx(3.0)
    flip = check_order(intent(800.0, Side.SELL), c, LIM)  # would go short 3: clipped to flat
    assert flip.allow and Reason.REDUCING in flip.reasons and flip.max_qty == pytest.approx(5.0)


def test_user_stream_down() -> None:
    assert vetoed(check_order(intent(), ctx(user_stream_up=False), LIM), Reason.USER_STREAM_DOWN)
    assert check_order(intent(), ctx(user_stream_up=False), limits(require_user_stream=False)).allow


def test_book_validity() -> None:
    assert vetoed(check_order(intent(), ctx(book=book(valid=False)), LIM), Reason.BOOK_INVALID)
    assert vetoed(check_order(intent(), ctx(book=None), LIM), Reason.BOOK_INVALID)


def test_bad_intent_and_no_price() -> None:
    assert vetoed(check_order(intent(0.0), ctx(), LIM), Reason.BAD_INTENT)
    assert vetoed(check_order(intent(math.nan), ctx(), LIM), Reason.BAD_INTENT)
    assert vetoed(check_order(intent(), ctx(book=book(ask=0.0)), LIM), Reason.NO_PRICE)
    # an explicit limit price is used as the reference
    d = check_order(intent(100.0, limit_px=50.0), ctx(), LIM)
    assert d.allow and d.price == 50.0 and d.max_qty == pytest.approx(2.0)


def test_max_open_orders() -> None:
    assert check_order(intent(), ctx(open_orders=19), LIM).allow
    d = check_order(intent(), ctx(open_orders=20), LIM)
    assert vetoed(d, Reason.MAX_OPEN_ORDERS) and d.observed[Reason.MAX_OPEN_ORDERS] == 20


def test_min_notional() -> None:
    assert check_order(intent(100.0), ctx(min_notional=100.0), LIM).allow
    assert vetoed(check_order(intent(99.99), ctx(min_notional=100.0), LIM), Reason.MIN_NOTIONAL)
    # reduce-only exits are exempt
    c = ctx(min_notional=100.0, positions={"BTCUSDT": pos(0.5)})
    assert check_order(intent(50.0, Side.SELL, reduce_only=True), c, LIM).allow
    # a cap that leaves less than the minimum vetoes, naming both
    c = ctx(min_notional=100.0, positions={"BTCUSDT": pos(29.5)})
    d = check_order(intent(200.0), c, LIM)
    assert vetoed(d, Reason.MIN_NOTIONAL) and Reason.SYMBOL_CAP in d.reasons


def test_min_notional_judges_the_quantity_the_router_can_place() -> None:
    # 1.5 units at PX 100 ask 150 of notional, but with a step of 1 only 1 unit (100) can be placed
    c = ctx(min_notional=120.0, step_size=1.0)
    d = check_order(intent(150.0), c, LIM)
    assert vetoed(d, Reason.MIN_NOTIONAL) and d.observed[Reason.MIN_NOTIONAL] == pytest.approx(100.0)
    assert check_order(intent(150.0), ctx(min_notional=120.0), LIM).allow  # no step known: as asked
    assert check_order(intent(200.0), c, LIM).allow  # two whole steps
    # float noise: 0.3 / 0.1 = 2.9999999999999996 is still three steps of 0.1
    assert check_order(intent(30.0), ctx(min_notional=30.0, step_size=0.1), LIM).allow


def test_reduce_only() -> None:
    assert vetoed(check_order(intent(100.0, Side.SELL, reduce_only=True), ctx(), LIM), Reason.NOTHING_TO_REDUCE)
    c = ctx(positions={"BTCUSDT": pos(2.0)})
    assert vetoed(check_order(intent(100.0, Side.BUY, reduce_only=True), c, LIM), Reason.NOTHING_TO_REDUCE)
    ok = check_order(intent(200.0, Side.SELL, reduce_only=True), c, LIM)
    assert ok.allow and ok.reasons == () and ok.max_qty == pytest.approx(2.0)
    clip = check_order(intent(200.01, Side.SELL, reduce_only=True), c, LIM)
    assert clip.allow and clip.reasons == (Reason.REDUCE_ONLY_CLIP,) and clip.max_qty == pytest.approx(2.0)
    # an open reduce-only sell already covers the position: nothing is left to reduce
    c = ctx(positions={"BTCUSDT": pos(2.0, sell=2.0)})
    assert vetoed(check_order(intent(100.0, Side.SELL, reduce_only=True), c, LIM), Reason.NOTHING_TO_REDUCE)


# ------------------------------------------------------------------ gates for new exposure


def test_trading_window() -> None:
    cfg = risk_config()
    cfg = msgspec.structs.replace(cfg, runtime=RuntimeConfig(trading_window=TradingWindow(start="02:00", end="02:14")))
    lim = RiskLimits.from_config(cfg)  # NOW is 02:13:20 on a Thursday
    assert check_order(intent(), ctx(), lim).allow
    assert vetoed(check_order(intent(), ctx(now_ns=NOW_NS + 40_000_000_000), lim), Reason.OUTSIDE_TRADING_WINDOW)
    thu_off = RiskLimits.from_config(
        msgspec.structs.replace(cfg, runtime=RuntimeConfig(trading_window=TradingWindow(days=[0, 1, 2, 4])))
    )
    assert vetoed(check_order(intent(), ctx(), thu_off), Reason.OUTSIDE_TRADING_WINDOW)
    # exits pass outside the window
    c = ctx(now_ns=NOW_NS + 40_000_000_000, positions={"BTCUSDT": pos(1.0)})
    assert check_order(intent(100.0, Side.SELL), c, lim).allow


def test_trading_window_wrapping_midnight() -> None:
    lim = RiskLimits.from_config(
        msgspec.structs.replace(
            risk_config(), runtime=RuntimeConfig(trading_window=TradingWindow(start="22:00", end="02:14"))
        )
    )
    assert (
        lim.in_window(NOW_MS)
        and not lim.in_window(NOW_MS + 60_000)
        and lim.in_window(NOW_MS - 4 * 3_600_000 + 60_000 * 60 * 24)
    )


_HHMM = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59)) | st.sampled_from(
    ["00:00", "24:00"])


@given(_HHMM, _HHMM, st.sets(st.integers(0, 6)) | st.just(set(range(7))), st.integers(0, 10 * 86_400_000))
def test_the_window_gate_is_in_window(start: str, end: str, days: set[int], offset_ms: int) -> None:
    """The gate vetoes exactly outside the trading window, for any window and time."""
    window = TradingWindow(start=start, end=end, days=sorted(days))
    cfg = msgspec.structs.replace(risk_config(), runtime=RuntimeConfig(trading_window=window))
    lim = msgspec.structs.replace(RiskLimits.from_config(cfg), slippage_budget_bps=0.0)
    now_ns = NOW_NS + offset_ms * 1_000_000
    d = check_order(intent(), ctx(now_ns=now_ns), lim)
    assert (Reason.OUTSIDE_TRADING_WINDOW in d.reasons) == (not lim.in_window(now_ns // 1_000_000))


def test_per_trade_nav_cap_reduces() -> None:
    at = check_order(intent(500.0), ctx(), LIM)  # 5% of NAV exactly
    assert at.allow and at.reasons == ()
    over = check_order(intent(500.5), ctx(), LIM)
    assert over.allow and over.reasons == (Reason.TRADE_NAV_CAP,)
    assert over.max_qty * over.price == pytest.approx(0.05 * NAV)
    assert over.limits[Reason.TRADE_NAV_CAP] == 0.05


@pytest.mark.parametrize(
    ("symbol", "cap"), [("BTCUSDT", 0.30), ("SOLUSDT", 0.20), ("SUSHIUSDT", 0.10), ("DOGEUSDT", 0.05)]
)
def test_per_symbol_cap_by_tier(symbol: str, cap: float) -> None:
    held = round(cap * NAV / PX) - 2.0  # 2% of NAV below the cap
    c = ctx(positions={symbol: pos(held)})
    under = check_order(intent(0.02 * NAV, symbol=symbol), c, LIM)
    assert under.allow and under.reasons == ()
    over = check_order(intent(0.03 * NAV, symbol=symbol), c, LIM)
    assert over.allow and over.reasons == (Reason.SYMBOL_CAP,)
    assert (held + over.max_qty) * PX == pytest.approx(cap * NAV)
    full = check_order(intent(0.03 * NAV, symbol=symbol), ctx(positions={symbol: pos(cap * NAV / PX)}), LIM)
    assert vetoed(full, Reason.SYMBOL_CAP)


def test_per_symbol_override_and_open_orders_count() -> None:
    lim = limits(symbol_caps={"BTCUSDT": 0.04})
    assert check_order(intent(400.0), ctx(), lim).reasons == ()
    assert check_order(intent(400.5), ctx(), lim).reasons == (Reason.SYMBOL_CAP,)
    # resting buys count as if filled: 3% resting + 2% asked > 4%
    d = check_order(intent(200.0), ctx(positions={"BTCUSDT": pos(0.0, buy=3.0)}), lim)
    assert d.reasons == (Reason.SYMBOL_CAP,) and d.max_qty == pytest.approx(1.0)


def test_gross_exposure_cap() -> None:
    lim = limits(net_exposure_max=10.0, max_trade_nav_pct=1.0)
    others = {"SOLUSDT": pos(20.0), "SUSHIUSDT": pos(-10.0), "DOGEUSDT": pos(5.0), "ETHUSDT": pos(-30.0)}
    others |= {"UNIUSDT": pos(0.0)}
    # gross of the others: 0.65 NAV; with cap 0.7 -> 500 USDT room
    lim = msgspec.structs.replace(lim, gross_exposure_max=0.7)
    assert check_order(intent(500.0), ctx(positions=others), lim).reasons == ()
    d = check_order(intent(600.0), ctx(positions=others), lim)
    assert d.allow and d.reasons == (Reason.GROSS_EXPOSURE,) and d.max_qty == pytest.approx(5.0)
    assert d.observed[Reason.GROSS_EXPOSURE] == pytest.approx(0.71)


def test_net_exposure_cap() -> None:
    lim = msgspec.structs.replace(limits(max_trade_nav_pct=1.0), net_exposure_max=0.5)
    others = {"SOLUSDT": pos(15.0), "DOGEUSDT": pos(5.0), "ETHUSDT": pos(25.0)}  # net +0.45 NAV
    assert check_order(intent(500.0), ctx(positions=others), lim).reasons == ()
    d = check_order(intent(501.0), ctx(positions=others), lim)
    assert d.reasons == (Reason.NET_EXPOSURE,) and d.max_qty == pytest.approx(5.0)
    # selling is unaffected by a long net cap
    assert check_order(intent(1000.0, Side.SELL), ctx(positions=others), lim).reasons == ()


def test_correlation_group_cap() -> None:
    lim = limits(max_trade_nav_pct=1.0)
    c = ctx(positions={"ETHUSDT": pos(-30.0)})  # majors gross 0.30 of the 0.40 cap
    assert check_order(intent(1000.0), c, lim).reasons == ()
    d = check_order(intent(1001.0), c, lim)
    assert d.reasons == (Reason.GROUP_CAP,) and d.max_qty == pytest.approx(10.0)
    # another group's exposure does not count
    assert check_order(intent(1000.0), ctx(positions={"SUSHIUSDT": pos(-10.0)}), lim).reasons == ()


def test_caps_never_block_shrinking_an_oversized_position() -> None:
    c = ctx(positions={"BTCUSDT": pos(50.0)})  # 0.5 NAV, above the 0.30 cap and the 0.40 group cap
    d = check_order(intent(1000.0, Side.SELL), c, LIM)
    assert d.allow and d.reasons == () and d.max_qty == pytest.approx(10.0)
    assert vetoed(check_order(intent(100.0), c, LIM), Reason.SYMBOL_CAP)


def test_daily_drawdown() -> None:
    assert check_order(intent(), ctx(nav=msgspec.structs.replace(ctx().nav, value=9000.0)), LIM).allow
    c = ctx(nav=msgspec.structs.replace(ctx().nav, value=8999.0))
    d = check_order(intent(), c, LIM)
    assert vetoed(d, Reason.DAILY_DRAWDOWN) and d.limits[Reason.DAILY_DRAWDOWN] == 0.10


def test_portfolio_drawdown() -> None:
    nav = msgspec.structs.replace(ctx().nav, value=8000.0)
    assert check_order(intent(), ctx(nav=nav, day_start_nav=8000.0, nav_hwm=10_000.0), LIM).allow
    nav = msgspec.structs.replace(ctx().nav, value=7999.0)
    d = check_order(intent(), ctx(nav=nav, day_start_nav=8000.0, nav_hwm=10_000.0), LIM)
    assert vetoed(d, Reason.PORTFOLIO_DRAWDOWN) and Reason.DAILY_DRAWDOWN not in d.reasons


def test_cvar() -> None:
    lim = msgspec.structs.replace(LIM, cvar_limit=0.0625)
    calm = tuple([0.01] * 27 + [-0.0625] * 3)  # 30 returns: the worst 10% is 3 returns
    bad = tuple([0.01] * 27 + [-0.0625, -0.0625, -0.0626])
    assert historical_cvar(calm, 0.1) == 0.0625
    assert check_order(intent(), ctx(returns=calm), lim).allow
    d = check_order(intent(), ctx(returns=bad), lim)
    assert vetoed(d, Reason.CVAR) and d.observed[Reason.CVAR] > 0.0625
    assert check_order(intent(), ctx(returns=bad[:23]), lim).allow  # below cvar_min_samples


def test_spread() -> None:
    assert check_order(intent(), ctx(book=book(spread_bps=80.0)), LIM).allow
    assert vetoed(check_order(intent(), ctx(book=book(spread_bps=80.01)), LIM), Reason.SPREAD)


def test_feed_lag_and_ack_latency() -> None:
    assert check_order(intent(), ctx(book=book(lag_ms=500.0), ack_latency_ms=500.0), LIM).allow
    assert vetoed(check_order(intent(), ctx(book=book(lag_ms=500.1)), LIM), Reason.FEED_LAG)
    assert vetoed(check_order(intent(), ctx(ack_latency_ms=500.1), LIM), Reason.ACK_LATENCY)


def test_expected_return() -> None:
    assert check_order(intent(e_pi_bps=0.001), ctx(), LIM).allow
    assert vetoed(check_order(intent(e_pi_bps=0.0), ctx(), LIM), Reason.EXPECTED_RETURN)
    lim = limits(pi_min_bps=2.0)
    assert check_order(intent(e_pi_bps=2.001), ctx(), lim).allow
    assert vetoed(check_order(intent(e_pi_bps=2.0), ctx(), lim), Reason.EXPECTED_RETURN)
    # an exit needs no edge
    assert check_order(intent(100.0, Side.SELL, e_pi_bps=-3.0), ctx(positions={"BTCUSDT": pos(1.0)}), lim).allow


def test_cooloff() -> None:
    assert check_order(intent(), ctx(cooloff_until_ms=NOW_MS), LIM).allow
    d = check_order(intent(), ctx(cooloff_until_ms=NOW_MS + 1500), LIM)
    assert vetoed(d, Reason.COOLOFF) and d.cooloff_s == 1.5


def test_alt_ext_disabled() -> None:
    assert check_order(intent(symbol="DOGEUSDT"), ctx(), LIM).allow
    assert vetoed(check_order(intent(symbol="DOGEUSDT"), ctx(alt_ext_disabled=True), LIM), Reason.ALT_EXT_DISABLED)
    assert check_order(intent(symbol="SOLUSDT"), ctx(alt_ext_disabled=True), LIM).allow


def test_unknown_symbol() -> None:
    assert vetoed(check_order(intent(symbol="XYZUSDT"), ctx(), LIM), Reason.UNKNOWN_SYMBOL)
    c = ctx(positions={"XYZUSDT": pos(3.0)})
    assert check_order(intent(300.0, Side.SELL, symbol="XYZUSDT"), c, LIM).allow


def test_several_reasons_are_all_named() -> None:
    d = check_order(intent(e_pi_bps=0.0), ctx(book=book(spread_bps=100.0), ack_latency_ms=900.0), LIM)
    assert not d.allow and set(d.reasons) == {Reason.EXPECTED_RETURN, Reason.SPREAD, Reason.ACK_LATENCY}


def test_decision_is_json_encodable() -> None:
    d = check_order(intent(600.0), ctx(), LIM)
    raw = msgspec.json.decode(msgspec.json.encode(d))
    assert raw["reasons"] == ["trade_nav_cap"] and raw["limits"] == {"trade_nav_cap": 0.05}


def test_limits_from_the_shipped_config() -> None:
    lim = RiskLimits.from_config(repo_config())
    assert lim.symbols["BTCUSDT"].cap == 0.30 and lim.symbols["SUSHIUSDT"].group_cap == 0.10
    assert isinstance(lim, RiskLimits) and not isinstance(lim, Config)
