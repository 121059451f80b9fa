"""The portfolio's hooks into risk: no order of any kind before the first reconciliation
(``not_reconciled``), and unresolved position drift -> REDUCING, sticky until restart."""

from __future__ import annotations

from hedge.bus import Bus
from hedge.events import (
    BookUpdate,
    FeedStatus,
    Nav,
    Position,
    PositionDrift,
    Reconciled,
    RiskDecision,
    Side,
    TradingState,
    TradingStateChange,
)
from hedge.model.clock import EventClock
from hedge.risk.check import check_order
from hedge.risk.limits import RiskLimits
from hedge.risk.reasons import ALL_ORDERS, Reason
from hedge.risk.stage import RiskStage
from tests.unit.risk.helpers import NOW_NS, ctx, intent, pos, risk_config


def test_not_reconciled_vetoes_every_order_even_a_reducing_one() -> None:
    lim = RiskLimits.from_config(risk_config())
    assert Reason.NOT_RECONCILED in ALL_ORDERS
    ok = check_order(intent(), ctx(), lim)
    assert ok.allow
    for it, c in ((intent(), ctx(reconciled=False)),
                  (intent(side=Side.SELL, reduce_only=True), ctx(reconciled=False, positions={"BTCUSDT": pos(1.0)}))):
        d = check_order(it, c, lim)
        assert not d.allow and Reason.NOT_RECONCILED in d.reasons


def _stage(**risk: object) -> tuple[Bus, RiskStage, list[object]]:
    bus = Bus()
    stage = RiskStage(bus, risk_config(**risk), clock=EventClock(NOW_NS))
    stage.attach()
    seen: list[object] = []
    bus.subscribe(RiskDecision, seen.append)
    bus.subscribe(TradingStateChange, seen.append)
    bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="reconcile"))
    bus.publish(FeedStatus(connection="user", connected=True))
    bus.publish(BookUpdate(symbol="BTCUSDT", update_id=1, valid=True, bid_px=100.0, bid_qty=1.0, ask_px=100.0,
                           ask_qty=1.0, mid=100.0, micro=100.0, imbalance=0.0, spread_bps=1.0))
    return bus, stage, seen


def test_the_stage_opens_trading_on_the_first_reconciled_event() -> None:
    bus, _, seen = _stage()
    bus.publish(intent())
    assert Reason.NOT_RECONCILED in seen[-1].reasons  # type: ignore[attr-defined]
    bus.publish(Reconciled(trigger="start"))
    bus.publish(intent())
    assert seen[-1].allow  # type: ignore[attr-defined]


def test_the_gate_can_be_switched_off() -> None:
    bus, _, seen = _stage(require_reconciliation=False)
    bus.publish(intent())
    assert seen[-1].allow  # type: ignore[attr-defined]


def test_unresolved_drift_moves_to_reducing_and_a_resolved_one_does_not_lift_it() -> None:
    bus, stage, seen = _stage()
    bus.publish(Reconciled(trigger="start"))
    bus.publish(PositionDrift(symbol="BTCUSDT", local_qty=1.0, exchange_qty=1.0, resolved=True))
    assert stage.machine.state is TradingState.ACTIVE
    bus.publish(PositionDrift(symbol="BTCUSDT", local_qty=1.0, exchange_qty=0.0))
    assert stage.machine.state is TradingState.REDUCING and stage.machine.reason == "position drift BTCUSDT"
    changes = [e for e in seen if isinstance(e, TradingStateChange)]
    assert len(changes) == 1 and changes[0].state is TradingState.REDUCING
    bus.publish(PositionDrift(symbol="BTCUSDT", local_qty=0.0, exchange_qty=0.0, resolved=True))
    assert stage.machine.state is TradingState.REDUCING
    bus.publish(intent())
    assert not seen[-1].allow and Reason.REDUCING in seen[-1].reasons  # type: ignore[attr-defined]
    bus.publish(Position(symbol="BTCUSDT", qty=1.0, entry_price=100.0))
    bus.publish(intent(side=Side.SELL, reduce_only=True))
    assert seen[-1].allow  # type: ignore[attr-defined]  # exits still pass
