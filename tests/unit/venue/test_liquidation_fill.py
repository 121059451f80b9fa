"""The venue's user-stream decoder turns the local exchange's liquidation frames (built by its own
wire code from a real liquidation in the matching engine) into a ``Fill`` flagged ``liquidation``;
an ordinary trade is not flagged."""

from __future__ import annotations

import orjson
import pytest

from hedge.events import Fill, OrderUpdate, Side
from hedge.exchange import wire
from hedge.exchange.accounts import Account
from hedge.exchange.matching import MatchingEngine
from hedge.exchange.orders import ExecType, NewOrder, Order
from hedge.exchange.orders import Execution as ExFill
from hedge.exchange.symbols import ExchangeInfo
from hedge.venue.binance_wire import UserStreamDecoder


class Frames:
    def __init__(self, eng: MatchingEngine) -> None:
        self.eng = eng
        self.frames: list[bytes] = []

    def on_order(self, account: Account, order: Order, exec_type: ExecType, fill: ExFill | None) -> None:
        spec = self.eng.specs[order.symbol]
        self.frames.append(orjson.dumps(wire.order_update_event(self.eng, account, order, exec_type, fill, spec, 5)))

    def on_balance(self, account: Account, reason: str, symbols: list[str]) -> None:
        self.frames.append(orjson.dumps(wire.account_update_event(self.eng, account, reason, symbols,
                                                                  self.eng.specs, 5)))


def test_liquidation_frames_decode_to_a_flagged_fill() -> None:
    eng = MatchingEngine(ExchangeInfo().specs, clock=lambda: 5)
    rec = Frames(eng)
    eng.listener = rec
    eng.on_snapshot("BTCUSDT", bids=[(60_000.0, 5.0)], asks=[(60_000.1, 5.0)])
    eng.add_account("a", 100.0)
    eng.accounts["a"].position("BTCUSDT").leverage = 100
    eng.place("a", NewOrder(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.1))
    eng.on_mark("BTCUSDT", 59_000.0)
    dec = UserStreamDecoder()
    events = [ev for f in rec.frames for ev in dec.decode(f, 1)]
    fills = [e for e in events if isinstance(e, Fill)]
    assert [f.liquidation for f in fills] == [False, True]
    liq = fills[1]
    assert liq.client_order_id == "autoclose-5" and liq.side is Side.SELL and liq.qty == pytest.approx(0.1)
    assert liq.price == 59_000.0 and liq.realized_pnl < 0.0
    assert [u.status.value for u in events if isinstance(u, OrderUpdate) and u.client_order_id == "autoclose-5"] \
        == ["NEW", "FILLED"]
    assert dec.skipped == 0 and dec.wallet is not None and dec.wallet >= 0.0
