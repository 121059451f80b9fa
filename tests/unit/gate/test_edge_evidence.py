"""The gate's post-trade evidence gates ``check_order``, on hand-valued outcome sequences: the expectancy's 95% CI
below 0 and the SPRT's "no edge" each veto new exposure with their reason (reducing orders still pass), per
strategy x symbol, until newer trips lift the CI or an operator resets the record."""

from __future__ import annotations

import math

import msgspec
import pytest

from hedge.events import OrderIntent, Side
from hedge.gate.outcomes import Outcomes
from hedge.gate.schemas import CheckRequest, EdgeReset, PostTradeLog
from hedge.gate.service import GateService
from hedge.model.clock import EventClock
from hedge.risk.check import check_order
from hedge.risk.limits import RiskLimits
from tests.kit.config import make_config
from tests.unit.risk.helpers import NOW_NS, ctx, pos, risk_config

CFG = risk_config()  # scores: window 50, min_trades 5, SPRT p0 0.45 p1 0.55 alpha 0.05 beta 0.10
STEP = math.log(0.55 / 0.45)  # a win adds this to the llr, a loss takes it away
LOWER = math.log(0.10 / 0.95)


def feed(o: Outcomes, pnls: list[float], symbol: str = "BTCUSDT", strategy: str = "s") -> None:
    for p in pnls:
        o.record(symbol, strategy, "win" if p > 0 else "loss", p)


def test_the_expectancy_ci_by_hand() -> None:
    o = Outcomes(CFG)
    feed(o, [-1.0, -2.0, -1.0, -2.0])  # 4 trips: below min_trades, no verdict
    e = o.edge("BTCUSDT", "s")
    assert e is not None and e.expectancy_hi == math.inf and not e.sprt_off
    feed(o, [-1.0])  # mean -1.4, s = sqrt(0.3), hi = -1.4 + 1.96 * sqrt(0.3 / 5) = -0.91990...
    e = o.edge("BTCUSDT", "s")
    assert e is not None and e.expectancy_hi == pytest.approx(-1.4 + 1.96 * math.sqrt(0.3 / 5), abs=1e-12)
    assert e.sprt_llr == pytest.approx(-5 * STEP) and not e.sprt_off
    other = Outcomes(CFG)
    feed(other, [5.0, -1.0, -1.0, -1.0, -1.0])  # mean +0.2: no verdict against it
    e2 = other.edge("BTCUSDT", "s")
    assert e2 is not None and e2.expectancy_hi > 0.0
    assert o.edge("BTCUSDT", "other") is None and o.edge("ETHUSDT", "s") is None  # per strategy x symbol


def test_the_sprt_switches_off_at_the_thirteenth_loss_after_a_win() -> None:
    o = Outcomes(CFG)
    feed(o, [30.0] + [-1.0] * 12)  # llr = STEP - 12 STEP = -2.0067 > LOWER = -2.2513: still on
    e = o.edge("BTCUSDT", "s")
    assert e is not None and not e.sprt_off and e.expectancy_hi > 0.0
    feed(o, [-1.0])  # llr = STEP - 13 STEP = -2.4082 <= LOWER: off
    e = o.edge("BTCUSDT", "s")
    assert e is not None and e.sprt_off and e.sprt_llr == pytest.approx(-12 * STEP) and e.sprt_lower == LOWER
    assert e.expectancy_hi > 0.0  # the big win keeps the CI above 0: the SPRT alone says no
    feed(o, [50.0] * 5)  # winning again does not turn it back on by itself
    e = o.edge("BTCUSDT", "s")
    assert e is not None and e.sprt_off
    assert o.reset("BTCUSDT", "s") and o.edge("BTCUSDT", "s") is None and not o.reset("BTCUSDT", "s")


def test_the_ci_recovers_as_newer_trips_push_the_losses_out_of_the_window() -> None:
    o = Outcomes(make_config(base=CFG, strategy__scores__window_trades=5))
    feed(o, [-1.0] * 5)
    e = o.edge("BTCUSDT", "s")
    assert e is not None and e.expectancy_hi == pytest.approx(-1.0)  # s = 0: the CI is the mean
    feed(o, [3.0] * 2)  # window [-1, -1, -1, 3, 3]: mean 0.6, s = 2.191, hi = 0.6 + 1.96 * 0.98 > 0
    e = o.edge("BTCUSDT", "s")
    assert e is not None and not e.sprt_off
    assert e.expectancy_hi == pytest.approx(0.6 + 1.96 * math.sqrt(4.8 / 5), abs=1e-12)


def _intent(reduce_only: bool = False, side: Side = Side.BUY, strategy: str = "s") -> OrderIntent:
    return OrderIntent(intent_id="i", symbol="BTCUSDT", side=side, notional=100.0, strategy=strategy, reason="t",
                       reduce_only=reduce_only, limit_px=100.0, e_pi_bps=5.0)


def test_check_order_vetoes_new_exposure_with_the_reason_and_lets_a_reduction_through() -> None:
    lim = RiskLimits.from_config(CFG)
    o = Outcomes(CFG)
    feed(o, [-1.0, -2.0, -1.0, -2.0, -1.0])
    d = check_order(_intent(), msgspec.structs.replace(ctx(), edge=o.edge("BTCUSDT", "s")), lim)
    assert not d.allow and d.reasons == ("negative_expectancy",)
    assert d.observed["negative_expectancy"] == pytest.approx(-0.9199, abs=1e-4)
    assert d.limits["negative_expectancy"] == 0.0
    long = msgspec.structs.replace(ctx(), positions={"BTCUSDT": pos(2.0)}, edge=o.edge("BTCUSDT", "s"))
    d = check_order(_intent(side=Side.SELL), long, lim)  # selling 1 of a long 2: only reduces
    assert d.allow and d.max_qty == pytest.approx(1.0)
    feed(o, [-1.0] * 7)  # 12 losses: the SPRT says no edge too
    d = check_order(_intent(), msgspec.structs.replace(ctx(), edge=o.edge("BTCUSDT", "s")), lim)
    assert d.reasons == ("sprt_no_edge", "negative_expectancy")
    assert d.observed["sprt_no_edge"] == pytest.approx(-12 * STEP) and d.limits["sprt_no_edge"] == LOWER
    assert check_order(_intent(), ctx(), lim).allow  # no evidence (the daemon's own path): no such gate


def _check(svc: GateService, key: str, strategy: str = "s") -> dict[str, object]:
    req = CheckRequest(idempotency_key=key, symbol="BTCUSDT", side=Side.BUY, quantity=1.0, price=100.0,
                       e_pi_bps=5.0, strategy=strategy)
    out: dict[str, object] = msgspec.json.decode(svc.check(req))
    return out


def test_the_service_gates_until_an_operator_resets() -> None:
    svc = GateService(CFG, lambda _s, _n: ctx(), clock=EventClock(NOW_NS), on_fill=lambda f: None)
    for i, p in enumerate([-1.0, -2.0, -1.0, -2.0]):
        ack = svc.log_posttrade(PostTradeLog(order_id=f"o{i}", symbol="BTCUSDT", side=Side.SELL, status="filled",
                                             realized_pnl=p, outcome="loss", strategy="s"))
        assert ack.edge is not None and not ack.edge.vetoing and ack.edge.expectancy_hi is None
    assert _check(svc, "a")["allow"] is True
    ack = svc.log_posttrade(PostTradeLog(order_id="o5", symbol="BTCUSDT", side=Side.SELL, status="filled",
                                         realized_pnl=-1.0, outcome="loss", strategy="s"))
    assert ack.edge is not None and ack.edge.vetoing and ack.edge.trips == 5 and ack.edge.losses == 5
    got = _check(svc, "b")
    assert got["allow"] is False and [r["name"] for r in got["reasons"]] == ["negative_expectancy"]  # type: ignore[attr-defined,index]
    assert _check(svc, "c", strategy="other")["allow"] is True  # another strategy on the symbol: no evidence
    assert _check(svc, "b")["allow"] is False  # a repeated key: the same answer
    out = svc.reset_edge(EdgeReset(symbol="BTCUSDT", strategy="s"))
    assert out.trips == 0 and not out.vetoing
    assert _check(svc, "d")["allow"] is True
