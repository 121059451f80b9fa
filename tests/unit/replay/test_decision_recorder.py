"""DecisionRecorder: the fingerprint follows every decision and fill field (never receive times); counters add up."""

from __future__ import annotations

import msgspec

from hedge.bus import Bus
from hedge.events import Event, Fill, Nav, OrderIntent, OrderRequest, OrderType, RiskDecision, Side, TimeInForce
from hedge.replay.summary import DecisionRecorder

INTENT = OrderIntent(intent_id="s-BTCUSDT-1", symbol="BTCUSDT", side=Side.BUY, notional=150.0, strategy="s",
                     reason="r", recv_ns=1)
EVENTS: list[Event] = [
    INTENT,
    RiskDecision(intent=INTENT, allow=True, max_qty=0.0023),
    RiskDecision(intent=INTENT, allow=False, max_qty=0.0, reasons=("cooloff", "min_notional")),
    OrderRequest(client_order_id="h1-0-0", intent_id=INTENT.intent_id, symbol="BTCUSDT", side=Side.BUY,
                 type=OrderType.LIMIT, qty=0.002, price=64000.0, tif=TimeInForce.GTX, recv_ns=2),
    Fill(client_order_id="h1-0-0", symbol="BTCUSDT", side=Side.BUY, qty=0.001, price=64000.0, fee=0.0128,
         maker=True, ts_ms=5, recv_ns=3),
    Fill(client_order_id="h1-0-0", symbol="BTCUSDT", side=Side.BUY, qty=0.001, price=64000.0, fee=0.0128,
         maker=True, ts_ms=6, recv_ns=4),
]


def record(events: list[Event]) -> DecisionRecorder:
    bus = Bus()
    rec = DecisionRecorder(bus)
    for ev in events:
        bus.publish(ev)
    return rec


def test_counters() -> None:
    r = record(EVENTS)
    assert (r.intents, r.approved, r.vetoed, r.vetoes, r.orders, r.fills, r.orders_filled) == (
        1, 1, 1, {"cooloff": 1, "min_notional": 1}, 1, 2, 1)
    assert r.maker_ratio == 1.0 and r.fees == 2 * 0.0128 and r.traded_notional == 128.0


def test_fingerprint_ignores_receive_times_and_sees_any_decision_field() -> None:
    base = record(EVENTS).fingerprint
    assert record([msgspec.structs.replace(e, recv_ns=e.recv_ns + 999) for e in EVENTS]).fingerprint == base
    changed = [
        [*EVENTS[:4], msgspec.structs.replace(EVENTS[4], price=64000.1), EVENTS[5]],  # a fill price
        [*EVENTS[:3], msgspec.structs.replace(EVENTS[3], qty=0.003), *EVENTS[4:]],  # an order size
        [EVENTS[0], msgspec.structs.replace(EVENTS[1], max_qty=0.0022), *EVENTS[2:]],  # an approval
        [EVENTS[0], EVENTS[2], EVENTS[1], *EVENTS[3:]],  # the order of decisions
    ]
    assert len({record(evs).fingerprint for evs in changed} | {base}) == len(changed) + 1


def test_max_drawdown_is_the_largest_fall_from_a_running_peak() -> None:
    navs = [100.0, 110.0, 99.0, 105.0, 120.0, 114.0]
    r = record([Nav(nav=n, wallet_balance=n, unrealized_pnl=0.0, source="sim") for n in navs])
    assert r.max_drawdown == (110.0 - 99.0) / 110.0
