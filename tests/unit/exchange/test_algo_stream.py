"""The local exchange's user-data stream for conditional orders, decoded by the venue's decoder:
ALGO_UPDATE for the algo order's own life (NEW, CANCELED, TRIGGERED, FINISHED) and, once it fires,
ORDER_TRADE_UPDATE of its market order (o=MARKET, ot=STOP_MARKET) with the fill."""

from __future__ import annotations

import orjson

from hedge.events import Fill, OrderStatus, OrderType, OrderUpdate
from hedge.exchange.streams import Hub
from hedge.exchange.userdata import UserData
from hedge.venue.binance_wire import UserStreamDecoder
from tests.unit.exchange.test_matching import SPEC, make, req


class RecordingHub(Hub):
    """A hub with one listener that keeps every frame (no sockets in a unit test)."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[bytes] = []

    def has(self, stream: str) -> bool:
        return "@" not in stream  # the listenKey's own stream

    def publish(self, stream: str, data: bytes) -> None:
        self.frames.append(data)


def test_algo_updates_then_the_triggered_market_order() -> None:
    eng, _ = make()
    hub = RecordingHub()
    ud = UserData(eng, hub, {"TESTUSDT": SPEC}, clock=lambda: 1_000)
    ud.new_key("a")
    eng.listener = ud
    eng.place("a", req(type="MARKET", quantity=1.0, price=0.0))
    eng.on_mark("TESTUSDT", 100.0)
    hub.frames.clear()
    stop = {"type": "STOP_MARKET", "side": "SELL", "price": 0.0, "quantity": 0.0, "close_position": True,
            "working_type": "MARK_PRICE"}
    eng.place("a", req(**stop, stop_price=99.0, client_order_id="s1"))
    eng.cancel("a", "TESTUSDT", None, "s1")
    eng.place("a", req(**stop, stop_price=99.5, client_order_id="s2"))
    eng.on_mark("TESTUSDT", 99.4)
    kinds = [orjson.loads(f)["e"] for f in hub.frames]
    assert kinds[:3] == ["ALGO_UPDATE"] * 3  # s1 NEW, s1 CANCELED, s2 NEW: no ORDER_TRADE_UPDATE before it fires
    raw = [orjson.loads(f) for f in hub.frames if orjson.loads(f)["e"] == "ORDER_TRADE_UPDATE"]
    assert raw and {(r["o"]["o"], r["o"]["ot"]) for r in raw} == {("MARKET", "STOP_MARKET")}
    dec = UserStreamDecoder()
    events = [e for f in hub.frames for e in dec.decode(f, 1) if isinstance(e, OrderUpdate | Fill)]
    ups = [(e.client_order_id, e.status) for e in events if isinstance(e, OrderUpdate)]
    assert ups[:3] == [("s1", OrderStatus.NEW), ("s1", OrderStatus.CANCELED), ("s2", OrderStatus.NEW)]
    assert ups[-1] == ("s2", OrderStatus.FILLED)  # ALGO_UPDATE FINISHED with the executed quantity
    assert all(e.type is OrderType.STOP_MARKET for e in events if isinstance(e, OrderUpdate))
    assert {e.stop_price for e in events if isinstance(e, OrderUpdate) and e.client_order_id == "s2"} == {99.5}
    (fill,) = [e for e in events if isinstance(e, Fill)]
    assert fill.client_order_id == "s2" and fill.qty == 1.0 and dec.skipped == 0
