"""User-data stream of the local exchange: listenKeys, ORDER_TRADE_UPDATE, ACCOUNT_UPDATE, expiry."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import orjson
import pytest
import websockets

from hedge.exchange.server import LocalExchange
from tests.kit.exchange import ccxt_client

SYMBOL = "BTC/USDT:USDT"


async def _next_event(ws: Any, kind: str, wait_s: float = 5.0) -> dict[str, Any]:
    while True:
        msg: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), wait_s))
        if msg.get("e") == kind:
            return msg


async def test_order_and_account_updates_reach_only_the_signing_account() -> None:
    ex = LocalExchange(port=0, accounts={"alice": "alice-secret", "bob": "bob-secret"})
    await ex.start()
    alice, bob = ccxt_client(ex.port, "alice", "alice-secret"), ccxt_client(ex.port, "bob", "bob-secret")
    try:
        await alice.load_markets()
        key_a = (await alice.fapiPrivatePostListenKey())["listenKey"]
        assert (await alice.fapiPrivatePostListenKey())["listenKey"] == key_a  # same active key, extended
        key_b = (await bob.fapiPrivatePostListenKey())["listenKey"]
        assert key_a != key_b
        async with (
            websockets.connect(f"ws://127.0.0.1:{ex.port}/ws/{key_a}", compression=None) as ws_a,
            websockets.connect(f"ws://127.0.0.1:{ex.port}/private/ws?listenKey={key_b}", compression=None) as ws_b,
            websockets.connect(
                f"ws://127.0.0.1:{ex.port}/private/ws?listenKey={key_a}&events=ACCOUNT_UPDATE", compression=None
            ) as ws_a_accounts,
        ):
            ob = await alice.fetch_order_book(SYMBOL, 5)
            px = round(ob["bids"][0][0] - 30, 1)
            order = await alice.create_order(SYMBOL, "limit", "buy", 0.01, px, {"newClientOrderId": "us-1"})
            ev = await _next_event(ws_a, "ORDER_TRADE_UPDATE")
            o = ev["o"]
            assert (o["x"], o["X"], o["c"], o["i"], o["S"], o["s"]) == (
                "NEW",
                "NEW",
                "us-1",
                int(order["id"]),
                "BUY",
                "BTCUSDT",
            )
            assert float(o["p"]) == pytest.approx(px) and o["q"] == "0.010" and o["R"] is False
            await alice.cancel_order(order["id"], SYMBOL)
            ev = await _next_event(ws_a, "ORDER_TRADE_UPDATE")
            assert (ev["o"]["x"], ev["o"]["X"]) == ("CANCELED", "CANCELED")
            await alice.create_order(SYMBOL, "market", "sell", 0.01, None, {"newClientOrderId": "us-2"})
            execs = [(await _next_event(ws_a, "ORDER_TRADE_UPDATE"))["o"] for _ in range(2)]
            assert [e["x"] for e in execs] == ["NEW", "TRADE"]
            trade = execs[1]
            assert trade["X"] == "FILLED" and trade["l"] == "0.010" and trade["m"] is False and float(trade["n"]) > 0
            acct = await _next_event(ws_a, "ACCOUNT_UPDATE")
            assert acct["a"]["m"] == "ORDER"
            assert acct["a"]["P"][0]["s"] == "BTCUSDT" and acct["a"]["P"][0]["pa"] == "-0.010"
            assert float(acct["a"]["B"][0]["wb"]) == pytest.approx(10_000 - float(trade["n"]))
            # the filtered private stream got the ACCOUNT_UPDATE and no order event
            only = orjson.loads(await asyncio.wait_for(ws_a_accounts.recv(), 30))
            assert only["e"] == "ACCOUNT_UPDATE" and only["a"]["P"][0]["pa"] == "-0.010"
            # bob saw nothing of alice's activity
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws_b.recv(), 0.3)
    finally:
        await alice.close()
        await bob.close()
        await ex.stop()


async def test_listen_key_expiry_and_keepalive(exchange: LocalExchange, client: Any) -> None:
    key = (await client.fapiPrivatePostListenKey())["listenKey"]
    assert (await client.fapiPrivatePutListenKey())["listenKey"] == key
    async with websockets.connect(f"ws://127.0.0.1:{exchange.port}/ws/{key}", compression=None) as ws:
        async with aiohttp.ClientSession() as http:
            r = await http.post(f"{exchange.base_url}/_hedge/actions/expire_listen_key")
            assert (await r.json())["expired"] == [key]
        ev = await _next_event(ws, "listenKeyExpired")
        assert ev["listenKey"] == key and isinstance(ev["E"], str)  # Binance sends E as a string here
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 30)
    with pytest.raises(ccxt.ExchangeError, match="-1125"):
        await client.fapiPrivatePutListenKey()
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"ws://127.0.0.1:{exchange.port}/ws/{key}", compression=None):
            pass
    new = (await client.fapiPrivatePostListenKey())["listenKey"]
    assert new != key
    await client.fapiPrivateDeleteListenKey()
    assert new not in exchange.user.keys


async def test_funding_reaches_wallet_and_user_stream(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    key = (await client.fapiPrivatePostListenKey())["listenKey"]
    await client.create_order(SYMBOL, "market", "buy", 0.01)
    wallet = float((await client.fetch_balance())["info"]["totalWalletBalance"])
    mark = exchange.engine.mark_price("BTCUSDT")
    exchange.engine.on_mark("BTCUSDT", mark, funding_rate=0.001)
    async with websockets.connect(f"ws://127.0.0.1:{exchange.port}/ws/{key}", compression=None) as ws:
        async with aiohttp.ClientSession() as http:
            r = await http.post(f"{exchange.base_url}/_hedge/actions/funding?symbol=BTCUSDT")
            assert r.status == 200
        ev = await _next_event(ws, "ACCOUNT_UPDATE")
    assert ev["a"]["m"] == "FUNDING_FEE"
    paid = wallet - float(ev["a"]["B"][0]["wb"])
    # a long pays a positive rate (the mark may have moved by a tick or two meanwhile)
    assert paid > 0 and paid == pytest.approx(0.01 * mark * 0.001, rel=5e-3)
