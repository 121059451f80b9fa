"""Property: whatever order the exchange's reports reach the risk stage in (order updates, fills,
account updates, late reconciliations), its view never shows less exposure than the exchange has
in either direction — and once everything has arrived it matches the exchange exactly.

This is what lets ``check_order``'s guarantee (tested in test_check_properties.py on contexts)
hold against the exchange's real positions.
"""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.bus import Bus
from hedge.events import Event, Fill, OrderRequest, OrderStatus, OrderType, OrderUpdate, Position, Side
from hedge.risk.stage import RiskStage
from tests.unit.risk.helpers import NOW_MS, risk_config

SYM = "BTCUSDT"
EPS = 1e-9


class LiveOrder(msgspec.Struct):
    sign: int
    qty: float
    filled: float = 0.0


class Exchange:
    """The truth: one symbol's position and live orders, and the reports not yet delivered."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.t = NOW_MS
        self.qty = 0.0
        self.orders: dict[str, LiveOrder] = {}
        self.pending: list[Event] = []
        self.n = 0

    def worst(self, sign: int) -> float:
        rem = sum(o.qty - o.filled for o in self.orders.values() if o.sign == sign)
        return self.qty + sign * rem

    def update(self, coid: str, o: LiveOrder, status: OrderStatus) -> OrderUpdate:
        side = Side.BUY if o.sign > 0 else Side.SELL
        return OrderUpdate(
            client_order_id=coid, symbol=SYM, status=status, side=side, qty=o.qty, filled_qty=o.filled, ts_ms=self.t
        )

    def step(self, op: str, a: int, b: int) -> None:
        self.t += 1
        live = sorted(self.orders)
        if op == "place":
            self.n += 1
            coid, o = f"o{self.n}", LiveOrder(sign=1 if a % 2 else -1, qty=float(1 + b % 5))
            self.orders[coid] = o
            self.bus.publish(
                OrderRequest(
                    client_order_id=coid,
                    intent_id="i",
                    symbol=SYM,
                    side=Side.BUY if o.sign > 0 else Side.SELL,
                    type=OrderType.LIMIT,
                    qty=o.qty,
                    price=100.0,
                )
            )  # the router publishes before sending
            self.pending.append(self.update(coid, o, OrderStatus.NEW))
        elif op == "fill" and live:
            coid = live[a % len(live)]
            o = self.orders[coid]
            f = (o.qty - o.filled) * (0.5 if b % 2 else 1.0)
            o.filled += f
            self.qty += o.sign * f
            done = o.qty - o.filled <= EPS
            self.pending.append(self.update(coid, o, OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED))
            self.pending.append(
                Fill(
                    client_order_id=coid,
                    symbol=SYM,
                    side=Side.BUY if o.sign > 0 else Side.SELL,
                    qty=f,
                    price=100.0,
                    fee=0.0,
                    ts_ms=self.t,
                )
            )
            self.pending.append(
                Position(symbol=SYM, qty=self.qty, entry_price=100.0, mark_price=100.0, ts_ms=self.t + b % 3)
            )
            if done:
                del self.orders[coid]
        elif op == "cancel" and live:
            coid = live[a % len(live)]
            self.pending.append(self.update(coid, self.orders.pop(coid), OrderStatus.CANCELED))
        elif op == "reconcile":
            self.pending.append(Position(symbol=SYM, qty=self.qty, entry_price=100.0, mark_price=100.0, ts_ms=self.t))
        elif op == "deliver" and self.pending:
            self.bus.publish(self.pending.pop(a % len(self.pending)))


def stage_worst(stage: RiskStage, sign: int) -> float:
    p = stage.context(SYM, 0).positions.get(SYM)
    return p.worst(sign) if p is not None else 0.0


ops = st.tuples(
    st.sampled_from(["place", "fill", "cancel", "reconcile", "deliver", "deliver", "deliver"]),
    st.integers(0, 1000),
    st.integers(0, 1000),
)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(steps=st.lists(ops, min_size=1, max_size=80))
def test_stage_never_understates_exposure_and_converges(steps: list[tuple[str, int, int]]) -> None:
    bus = Bus()
    stage = RiskStage(bus, risk_config())
    stage.attach()
    ex = Exchange(bus)
    for op, a, b in steps:
        ex.step(op, a, b)
        assert stage_worst(stage, +1) >= ex.worst(+1) - EPS, (op, ex.qty, ex.orders)
        assert stage_worst(stage, -1) <= ex.worst(-1) + EPS, (op, ex.qty, ex.orders)
    while ex.pending:
        ex.step("deliver", 0, 0)
    ex.t += 5
    ex.step("reconcile", 0, 0)
    ex.step("deliver", 0, 0)
    assert abs(stage_worst(stage, +1) - ex.worst(+1)) <= EPS and abs(stage_worst(stage, -1) - ex.worst(-1)) <= EPS
    assert stage.context(SYM, 0).open_orders == len(ex.orders)
