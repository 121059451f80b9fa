"""User-data stream and REST order decoding (Binance field names stop here)."""

from __future__ import annotations

import contextlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.events import Balance, Fill, Nav, OrderStatus, OrderUpdate, Position, Side
from hedge.venue.binance_wire import ListenKeyExpired, UserStreamDecoder, ack_of, error_body, rate_limits, rest_order

OTU = {
    "e": "ORDER_TRADE_UPDATE", "E": "1721260800123", "T": 1721260800120,  # E as a string, as real payloads send
    "o": {"s": "BTCUSDT", "c": "habc-0-1", "S": "SELL", "o": "LIMIT", "f": "GTX", "q": "0.010", "p": "64000.1",
          "ap": "64000.1", "sp": "0", "x": "TRADE", "X": "PARTIALLY_FILLED", "i": 42, "l": "0.004", "z": "0.004",
          "L": "64000.1", "N": "USDT", "n": "0.05120008", "T": 1721260800120, "t": 777, "b": "0", "a": "0",
          "m": True, "R": False, "wt": "CONTRACT_PRICE", "ot": "LIMIT", "ps": "BOTH", "cp": False, "rp": "1.5",
          "pP": False, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0},
}
AU = {"e": "ACCOUNT_UPDATE", "E": 1721260800200, "T": 1721260800199,
      "a": {"m": "ORDER", "B": [{"a": "USDT", "wb": "10000.5", "cw": "10000.5", "bc": "0"}],
            "P": [{"s": "BTCUSDT", "pa": "-0.004", "ep": "64000.1", "bep": "64000.1", "cr": "0", "up": "-0.2",
                   "mt": "cross", "iw": "0", "ps": "BOTH"}]}}


def test_order_trade_update_gives_an_update_and_a_fill() -> None:
    d = UserStreamDecoder()
    up, fill = d.decode(orjson.dumps(OTU), 5)
    assert isinstance(up, OrderUpdate) and isinstance(fill, Fill)
    assert (up.client_order_id, up.status, up.side, up.filled_qty, up.qty, up.ts_ms, up.recv_ns) == (
        "habc-0-1", OrderStatus.PARTIALLY_FILLED, Side.SELL, 0.004, 0.01, 1721260800123, 5)
    assert (fill.qty, fill.price, fill.fee, fill.maker, fill.trade_id, fill.realized_pnl) == (
        0.004, 64000.1, 0.05120008, True, 777, 1.5)
    new = dict(OTU, o={**OTU["o"], "x": "NEW", "X": "NEW", "l": "0", "z": "0"})
    assert [type(e) for e in d.decode(orjson.dumps(new), 1)] == [OrderUpdate]  # no trade, no fill


def test_account_update_gives_balances_positions_and_nav() -> None:
    d = UserStreamDecoder()
    bal, pos, nav = d.decode(orjson.dumps(AU), 1)
    assert isinstance(bal, Balance) and bal.wallet_balance == 10000.5
    assert isinstance(pos, Position) and (pos.symbol, pos.qty, pos.unrealized_pnl) == ("BTCUSDT", -0.004, -0.2)
    assert isinstance(nav, Nav) and nav.nav == pytest.approx(10000.3) and nav.source == "account_update"
    # a later update of another symbol: NAV keeps BTCUSDT's unrealized PnL
    eth = {**AU, "a": {"m": "ORDER", "B": [], "P": [{"s": "ETHUSDT", "pa": "1", "ep": "3000", "up": "0.5"}]}}
    *_, nav2 = d.decode(orjson.dumps(eth), 1)
    assert isinstance(nav2, Nav) and nav2.nav == pytest.approx(10000.8)


def test_combined_wrapper_expiry_and_others() -> None:
    d = UserStreamDecoder()
    wrapped = orjson.dumps({"stream": "k", "data": OTU})
    assert len(d.decode(wrapped, 1)) == 2
    with pytest.raises(ListenKeyExpired):
        d.decode(b'{"e":"listenKeyExpired","E":"1","listenKey":"k"}', 1)
    assert d.decode(b'{"e":"TRADE_LITE","E":1,"s":"BTCUSDT"}', 1) == []
    assert d.decode(b'{"e":"ORDER_TRADE_UPDATE","E":1,"o":{"s":"X","c":"c","S":"BUY","X":"WEIRD"}}', 1) == []
    assert d.skipped == 2


@given(st.binary(max_size=300))
def test_garbage_never_raises(raw: bytes) -> None:
    d = UserStreamDecoder()
    with contextlib.suppress(ListenKeyExpired):
        d.decode(raw, 1)


def test_rest_order_ack_error_body_and_rate_limits() -> None:
    o = rest_order({"orderId": 9, "symbol": "BTCUSDT", "status": "EXPIRED_IN_MATCH", "clientOrderId": "c",
                    "side": "BUY", "type": "LIMIT", "price": "1.5", "avgPrice": "0.00", "origQty": "2",
                    "executedQty": "0", "updateTime": 3})
    a = ack_of(o)
    assert (a.status, a.exchange_order_id, a.filled_qty, a.ts_ms) == (OrderStatus.EXPIRED, 9, 0.0, 3)
    assert error_body('{"code":-5022,"msg":"Post Only"}').code == -5022
    assert error_body("<html>503 Service Unavailable</html>").code == 0
    info = {"rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
                           {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
                           {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200}]}
    assert rate_limits(info) == (2400, 300)
