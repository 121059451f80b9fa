"""The wire codec: every market frame type, the taker side, unknown/control/malformed counting,
rate-limited journaling, snapshots; hypothesis: arbitrary input never raises and is counted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.events import BookTicker, DepthDiff, MarkPrice, Side, Trade
from hedge.feeds.codec import Codec, CodecError

# Frames as recorded (hftbacktest BTCUSDT 2024-07-18) and as documented (aggTrade, markPrice).
DEPTH = (
    b'{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1721347022504,"T":1721347022503,"s":"BTCUSDT",'
    b'"U":4984028367545,"u":4984028370730,"pu":4984028367494,"b":[["63939.80","0.100"],["63931.10","0.000"]],'
    b'"a":[["63947.40","0.109"]]}}'
)
TICKER = (
    b'{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":4984028370881,"s":"BTCUSDT","b":"63943.90",'
    b'"B":"46.371","a":"63944.00","A":"0.095","T":1721347022507,"E":1721347022508}}'
)
TRADE = (
    b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1721347022600,"T":1721347022599,"s":"BTCUSDT",'
    b'"t":5130221234,"p":"63944.00","q":"0.012","X":"MARKET","m":true}}'
)
AGG = (
    b'{"e":"aggTrade","E":123456789,"s":"BTCUSDT","a":5933014,"p":"0.001","q":"100","nq":"100","f":100,"l":105,'
    b'"T":123456785,"m":false}'
)
MARK = (
    b'{"stream":"btcusdt@markPrice","data":{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000",'
    b'"ap":"11794.10000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}}'
)


def test_depth_diff_fields() -> None:
    c = Codec()
    ev = c.decode(DEPTH, 42)
    assert isinstance(ev, DepthDiff)
    assert (ev.symbol, ev.first_id, ev.final_id, ev.prev_final_id) == ("BTCUSDT", 4984028367545, 4984028370730, 4984028367494)
    assert (ev.ts_ms, ev.transact_ms, ev.recv_ns) == (1721347022504, 1721347022503, 42)
    assert ev.bids == [(63939.8, 0.1), (63931.1, 0.0)]
    assert ev.asks == [(63947.4, 0.109)]
    assert c.stats.messages == {"depthUpdate": 1}


def test_book_ticker_fields_and_str_input() -> None:
    c = Codec()
    ev = c.decode(TICKER.decode(), 7)
    assert ev == BookTicker(
        ts_ms=1721347022508, recv_ns=7, symbol="BTCUSDT", update_id=4984028370881,
        bid_px=63943.9, bid_qty=46.371, ask_px=63944.0, ask_qty=0.095, transact_ms=1721347022507,
    )


@pytest.mark.parametrize(("maker", "taker"), [(b"true", Side.SELL), (b"false", Side.BUY)])
def test_trade_taker_side_from_maker_flag(maker: bytes, taker: Side) -> None:
    ev = Codec().decode(TRADE.replace(b'"m":true', b'"m":' + maker), 1)
    assert isinstance(ev, Trade)
    assert ev.taker_side is taker
    assert (ev.trade_id, ev.price, ev.qty, ev.aggregated, ev.trade_ms) == (5130221234, 63944.0, 0.012, False, 1721347022599)


def test_agg_trade_raw_frame() -> None:
    ev = Codec().decode(AGG, 1)
    assert isinstance(ev, Trade)
    assert (ev.trade_id, ev.price, ev.qty, ev.taker_side, ev.aggregated) == (5933014, 0.001, 100.0, Side.BUY, True)


def test_mark_price() -> None:
    ev = Codec().decode(MARK, 1)
    assert ev == MarkPrice(
        ts_ms=1562305380000, recv_ns=1, symbol="BTCUSDT", mark_price=11794.15, index_price=11784.62659091,
        funding_rate=0.00038167, next_funding_ms=1562306400000, settle_price=11784.25641265,
    )


def test_unknown_fields_are_ignored() -> None:
    frame = TICKER.replace(b'"e":"bookTicker",', b'"e":"bookTicker","zz":[1,{"x":2}],"st":"NEW",')
    assert isinstance(Codec().decode(frame, 1), BookTicker)


def test_unknown_type_control_and_malformed_are_counted_not_raised() -> None:
    c = Codec()
    kline = b'{"stream":"btcusdt@kline_1m","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{}}}'
    assert c.decode(kline, 1) is None
    assert c.decode(b'{"e":"forceOrder","E":1}', 1) is None
    assert c.decode(b'{"result":null,"id":3}', 1) is None
    assert c.decode(b"not json", 1) is None
    assert c.decode(TICKER.replace(b'"b":"63943.90"', b'"b":"abc"'), 1) is None
    assert c.decode(DEPTH.replace(b'"pu":4984028367494,', b""), 1) is None
    assert c.decode(b'{"stream":"x"}', 1) is None
    assert c.decode(b'{"a":1}', 1) is None
    assert c.decode(DEPTH.replace(b'"0.109"', b'"nan"'), 1) is None  # never a NaN level in a book
    assert c.decode(TICKER.replace(b'"63943.90"', b'"-1"'), 1) is None
    assert c.stats.unknown == {"kline": 1, "forceOrder": 1}
    assert c.stats.control == 1
    assert c.stats.errors == {
        "invalid_json": 1, "bad_bookTicker": 2, "bad_depthUpdate": 2, "missing_data": 1, "no_event_type": 1,
    }
    assert c.stats.messages == {}


def test_odd_shapes_and_hostile_type_names_are_bounded() -> None:
    c = Codec(report_interval_s=1e9)
    assert c.decode(b"[1,2]", 1) is None
    assert c.decode(b'{"stream":"x","data":5}', 1) is None
    assert c.decode(b'{"e":5}', 1) is None
    for i in range(200):
        assert c.decode(b'{"e":"weird%d"}' % i, 1) is None
    assert c.stats.errors == {"not_an_object": 1, "missing_data": 1, "bad_event_type": 1}
    assert len(c.stats.unknown) == 65 and c.stats.unknown["<other>"] == 136
    assert sum(c.stats.unknown.values()) == 200


def test_malformed_frames_journaled_once_per_reason_per_interval() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    c = Codec(journal=lambda kind, payload: seen.append((kind, dict(payload))), report_interval_s=3600)
    for _ in range(5):
        c.decode(b"{{{", 1)
    c.decode(b'{"e":"trade"}', 1)
    assert [(k, p["reason"], p["count"]) for k, p in seen] == [
        ("malformed_frame", "invalid_json", 1),
        ("malformed_frame", "bad_trade", 1),
    ]
    assert c.stats.errors["invalid_json"] == 5
    c2 = Codec(journal=lambda kind, payload: seen.append((kind, dict(payload))), report_interval_s=0.0)
    seen.clear()
    for _ in range(3):
        c2.decode(b"{{{", 1)
    assert len(seen) == 3  # interval 0: every one reported


def test_snapshot_decode_and_errors() -> None:
    c = Codec()
    body = b'{"lastUpdateId":1027024,"E":1589436922972,"T":1589436922959,"bids":[["4.00000000","431.00000000"]],"asks":[["4.00000200","12.00000000"]]}'
    s = c.decode_snapshot(body, "BTCUSDT", 9)
    assert (s.symbol, s.last_update_id, s.ts_ms, s.transact_ms, s.recv_ns) == ("BTCUSDT", 1027024, 1589436922972, 1589436922959, 9)
    assert s.bids == [(4.0, 431.0)] and s.asks == [(4.000002, 12.0)]
    with pytest.raises(CodecError, match="code=-1121"):
        c.decode_snapshot(b'{"code":-1121,"msg":"Invalid symbol."}', "NOPE", 1)
    with pytest.raises(CodecError):
        c.decode_snapshot(b"<html>502</html>", "BTCUSDT", 1)
    with pytest.raises(CodecError):
        c.decode_snapshot(body.replace(b'"431.00000000"', b'"x"'), "BTCUSDT", 1)
    assert c.stats.errors == {"bad_snapshot": 3}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)
fields = {"e": st.sampled_from(["depthUpdate", "aggTrade", "trade", "bookTicker", "markPriceUpdate", "kline", ""])}
wire_like = st.fixed_dictionaries(
    fields,
    optional={k: json_values | st.text(max_size=6) for k in ["E", "T", "s", "U", "u", "pu", "b", "a", "B", "A", "p", "q", "m", "t", "i", "r", "P"]},
)


def _mutations(obj: dict[str, Any], combined: bool) -> bytes:
    return json.dumps({"stream": "x@y", "data": obj} if combined else obj).encode()


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bytes_never_raise_and_are_counted(raw: bytes | str) -> None:
    c = Codec(report_interval_s=1e9)
    ev = c.decode(raw, 1)
    counted = sum(c.stats.messages.values()) + sum(c.stats.unknown.values()) + sum(c.stats.errors.values()) + c.stats.control
    assert counted == 1
    assert (ev is not None) == (sum(c.stats.messages.values()) == 1)


@settings(max_examples=400, deadline=None)
@given(obj=wire_like, combined=st.booleans())
def test_wire_like_frames_never_raise_and_are_counted(obj: dict[str, Any], combined: bool) -> None:
    c = Codec(report_interval_s=1e9)
    ev = c.decode(_mutations(obj, combined), 1)
    counted = sum(c.stats.messages.values()) + sum(c.stats.unknown.values()) + sum(c.stats.errors.values()) + c.stats.control
    assert counted == 1
    if ev is not None:
        assert type(ev).__name__ in {"DepthDiff", "Trade", "BookTicker", "MarkPrice"}
