"""Bad REST input to the local exchange is answered as Binance answers it: the right code, message
and HTTP status as JSON, never a 5xx and never aiohttp's plain text (issue 15, item 2)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import pytest

from hedge.exchange.server import LocalExchange
from tests.kit.rawhttp import RawRest, raw_http

pytestmark = pytest.mark.integration

INT_RANGE = "legal range is '^[0-9]{1,20}$'."
CLIENT_ID_MSG = (
    "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'."
)


@pytest.fixture
async def rest(exchange: LocalExchange) -> AsyncIterator[RawRest]:
    async with aiohttp.ClientSession() as session:
        yield RawRest(session, exchange.base_url)


def now_ms() -> str:
    return str(int(time.time() * 1000))


async def test_non_ascii_signature_is_minus_1022(rest: RawRest) -> None:
    for sig in ("é" * 64, "ü", "\uff10" * 64):  # in the body: UTF-8, but not hex
        body = f"symbol=BTCUSDT&timestamp={now_ms()}&signature={sig}".encode()
        a = await rest.send("GET", "/fapi/v1/openOrders", body=body, headers={"X-MBX-APIKEY": rest.key})
        assert (a.status, a.error()) == (400, (-1022, "Signature for this request is not valid."))
    a = await rest.send("GET", "/fapi/v1/openOrders", f"timestamp={now_ms()}&signature=%C3%A9",
                        headers={"X-MBX-APIKEY": rest.key})
    assert (a.status, a.error()[0]) == (400, -1022)


async def test_body_not_utf8_is_minus_1100(rest: RawRest) -> None:
    query, body = rest.signed("", f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&timestamp={now_ms()}")
    for bad in (b"\xff\xfe", "é".encode("latin-1"), "ü".encode("utf-16")):
        a = await rest.send("POST", "/fapi/v1/order", query, bad + b"&" + body.encode(),
                            headers={"X-MBX-APIKEY": rest.key})
        assert (a.status, a.error()) == (400, (-1100, "Illegal characters found in a parameter."))
    a = await rest.send("GET", "/fapi/v1/depth", "symbol=BTCUSDT%FF")  # a percent-escape that is not UTF-8
    assert (a.status, a.error()) == (400, (-1100, "Illegal characters found in a parameter."))


async def test_lowercase_symbol_is_minus_1121(rest: RawRest) -> None:
    for path in ("/fapi/v1/depth", "/fapi/v1/premiumIndex"):
        a = await rest.call("GET", path, {"symbol": "btcusdt"})
        assert (a.status, a.error()) == (400, (-1121, "Invalid symbol."))
    a = await rest.call("POST", "/fapi/v1/order",
                        {"symbol": "btcusdt", "side": "BUY", "type": "MARKET", "quantity": "0.001"}, signed=True)
    assert (a.status, a.error()[0]) == (400, -1121)
    a = await rest.call("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "5"})
    assert a.status == 200 and len(a.json()["bids"]) <= 5


async def test_negative_countdown_is_minus_1100(rest: RawRest) -> None:
    a = await rest.call("POST", "/fapi/v1/countdownCancelAll", {"symbol": "BTCUSDT", "countdownTime": "-5"},
                        signed=True)
    assert (a.status, a.error()) == (400, (-1100, f"Illegal characters found in parameter 'countdownTime'; {INT_RANGE}"))
    a = await rest.call("POST", "/fapi/v1/countdownCancelAll", {"symbol": "BTCUSDT", "countdownTime": "0"},
                        signed=True)
    assert a.status == 200 and a.json() == {"symbol": "BTCUSDT", "countdownTime": "0"}


async def test_limit_not_an_integer_is_minus_1100(rest: RawRest) -> None:
    want = (400, (-1100, f"Illegal characters found in parameter 'limit'; {INT_RANGE}"))
    a = await rest.call("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "abc"})
    assert (a.status, a.error()) == want
    a = await rest.call("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT", "limit": "abc"}, signed=True)
    assert (a.status, a.error()) == want
    a = await rest.call("GET", "/fapi/v1/depth", {"symbol": "BTCUSDT", "limit": "99999999999999999999"})
    assert (a.status, a.error()[0]) == (400, -1130)  # the digits are legal, the value is not a long


async def test_recv_window_not_an_integer_is_minus_1100(rest: RawRest) -> None:
    a = await rest.call("GET", "/fapi/v2/balance", {"recvWindow": "abc"}, signed=True)
    assert (a.status, a.error()) == (400, (-1100, f"Illegal characters found in parameter 'recvWindow'; {INT_RANGE}"))
    a = await rest.call("GET", "/fapi/v2/balance", {"timestamp": "12ab"}, signed=True)
    assert (a.status, a.error()[0]) == (400, -1100)
    a = await rest.call("GET", "/fapi/v2/balance", {"recvWindow": "60001"}, signed=True)
    assert (a.status, a.error()[0]) == (400, -1130)


@pytest.mark.parametrize("length", [37, 10_000])
@pytest.mark.parametrize("in_body", [False, True])
async def test_client_order_id_off_binance_range_is_minus_1100(rest: RawRest, length: int, in_body: bool) -> None:
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", "newClientOrderId": "a" * length}
    a = await rest.call("POST", "/fapi/v1/order", order, signed=True, in_body=in_body)
    assert (a.status, a.error()) == (400, (-1100, CLIENT_ID_MSG))


async def test_client_order_id_illegal_chars_and_legal_ones(rest: RawRest) -> None:
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1",
             "price": "1100"}
    for bad in ("ab c", "é", "a+b", "a,b", "a\x00"):
        a = await rest.call("POST", "/fapi/v1/order", {**order, "newClientOrderId": bad}, signed=True)
        assert (a.status, a.error()) == (400, (-1100, CLIENT_ID_MSG)), bad
    good = "A.b:c/d_e-" + "9" * 26  # every legal character class, 36 long
    a = await rest.call("POST", "/fapi/v1/order", {**order, "newClientOrderId": good}, signed=True)
    assert a.status == 200 and a.json()["clientOrderId"] == good


async def test_numbers_off_binance_range(rest: RawRest) -> None:
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001"}
    for price in ("1e3", "-1000", " 1000", "1000.", "\u0661\u0660\u0660\u0660", "nan"):
        a = await rest.call("POST", "/fapi/v1/order", {**order, "price": price}, signed=True)
        assert (a.status, a.error()[0]) == (400, -1100), price
    a = await rest.call("GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "x1"}, signed=True)
    assert (a.status, a.error()[0]) == (400, -1100)
    a = await rest.call("POST", "/fapi/v1/leverage", {"symbol": "BTCUSDT", "leverage": "²"}, signed=True)
    assert (a.status, a.error()[0]) == (400, -1100)


async def test_duplicate_and_too_many_parameters_are_minus_1101(rest: RawRest) -> None:
    a = await rest.send("GET", "/fapi/v1/depth", "symbol=BTCUSDT&symbol=ETHUSDT")
    assert (a.status, a.error()) == (400, (-1101, "Duplicate values for a parameter detected."))
    a = await rest.send("GET", "/fapi/v1/depth", "&".join(f"p{i}=1" for i in range(200)))
    assert (a.status, a.error()[0]) == (400, -1101)


async def test_unknown_path_or_method_is_404_minus_5000(rest: RawRest) -> None:
    a = await rest.send("GET", "/fapi/v1/nope")
    assert (a.status, a.error()) == (404, (-5000, "Path /fapi/v1/nope, Method GET is invalid"))
    a = await rest.send("PATCH", "/fapi/v1/order")
    assert (a.status, a.error()) == (404, (-5000, "Path /fapi/v1/order, Method PATCH is invalid"))


async def test_oversized_requests_get_binance_json(rest: RawRest, exchange: LocalExchange) -> None:
    a = await rest.send("POST", "/fapi/v1/order", body=b"a=" + b"b" * (2 << 20))
    assert a.status == 413 and a.error()[0] == -1000
    a = await rest.send("GET", "/fapi/v1/ping", headers={"X-Big": "x" * 20_000})
    assert a.status == 200 and a.json() == {}
    a = await rest.send("GET", "/fapi/v1/depth", "symbol=" + "B" * 30_000)
    assert (a.status, a.error()[0]) == (400, -1121)


async def test_websocket_paths_without_upgrade_and_unknown_listen_key(rest: RawRest) -> None:
    a = await rest.send("GET", "/ws/btcusdt@depth")
    assert a.status == 400 and a.error()[0] == -1000
    for path, query in (("/ws/nosuchkey", ""), ("/private/ws", "listenKey=nosuchkey")):
        a = await rest.send("GET", path, query)
        assert (a.status, a.error()) == (400, (-1125, "This listenKey does not exist."))


async def test_control_api_errors_are_binance_json(rest: RawRest) -> None:
    a = await rest.send("POST", "/_hedge/faults", body=b"\xff not json")
    assert (a.status, a.error()[0]) == (400, -1130)
    a = await rest.send("POST", "/_hedge/faults", body=b'{"no_such_fault": {"count": 1}}')
    assert (a.status, a.error()[0]) == (400, -1130)
    a = await rest.send("POST", "/_hedge/actions/explode")
    assert (a.status, a.error()[0]) == (404, -5000)
    for query in ("symbol=BTCUSDT&price=abc", "symbol=NOPE&price=1", "symbol=BTCUSDT&price=-1"):
        a = await rest.send("POST", "/_hedge/actions/mark", query)
        assert (a.status, a.error()[0]) == (400, -1130), query
    a = await rest.send("POST", "/_hedge/actions/mark", "symbol=BTCUSDT")
    assert (a.status, a.error()[0]) == (400, -1102)
    for query in ("seconds=inf", "seconds=-1", "seconds=nan"):
        a = await rest.send("POST", "/_hedge/actions/ws_stall", query)
        assert (a.status, a.error()[0]) == (400, -1130), query
    a = await rest.send("POST", "/_hedge/actions/funding", "symbol=" + quote("é"))
    assert (a.status, a.error()[0]) == (400, -1130)


async def test_malformed_http_is_refused_by_aiohttp_never_5xx(exchange: LocalExchange) -> None:
    """Bytes that are not an HTTP request are refused by aiohttp's parser before any application code
    (no hook there): a 400 and a closed connection, never a 5xx."""
    for data in (
        b"GET /fapi/v1/depth?symbol=BTC\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"G@T /fapi/v1/ping HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /fapi/v1/order HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /fapi/v1/ping?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
    ):
        out = await raw_http(exchange.port, data)
        assert out.startswith(b"HTTP/1.") and out.split(b" ")[1] == b"400", out[:200]
    ok = await raw_http(exchange.port, b"GET /fapi/v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert ok.split(b" ")[1] == b"200" and ok.endswith(b"{}")
