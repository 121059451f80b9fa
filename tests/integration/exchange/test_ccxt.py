"""The real ccxt async binanceusdm against the local exchange: the calls hedge makes, end to end."""

from __future__ import annotations

from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest

from hedge.exchange.server import LocalExchange
from tests.kit.exchange import ccxt_client
from tests.kit.wait import wait_for

SYMBOL = "BTC/USDT:USDT"


async def _touch(client: Any) -> tuple[float, float]:
    ob = await client.fetch_order_book(SYMBOL, 5)
    return float(ob["bids"][0][0]), float(ob["asks"][0][0])


async def test_load_markets_and_order_book(exchange: LocalExchange, client: Any) -> None:
    markets = await client.load_markets()
    m = markets[SYMBOL]
    assert m["id"] == "BTCUSDT" and m["linear"] and m["swap"]
    assert m["precision"]["price"] == pytest.approx(0.1) and m["precision"]["amount"] == pytest.approx(0.001)
    assert m["limits"]["cost"]["min"] == pytest.approx(100)
    ob = await client.fetch_order_book(SYMBOL, 1000)
    assert 0 < ob["nonce"] <= exchange.last_update_id["BTCUSDT"]
    bid, ask = ob["bids"][0][0], ob["asks"][0][0]
    assert 0 < bid < ask
    book = exchange.engine.book("BTCUSDT")
    assert len(ob["bids"]) == min(1000, book.depth()[0])
    assert client.last_response_headers["X-MBX-USED-WEIGHT-1M"]


async def test_gtx_rests_cancel_and_fetch_by_client_id(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    bid, _ = await _touch(client)
    px = round(bid - 50, 1)
    order = await client.create_order(
        SYMBOL, "limit", "buy", 0.01, px, {"timeInForce": "GTX", "newClientOrderId": "hedge-test-gtx-1"}
    )
    assert order["status"] == "open" and order["clientOrderId"] == "hedge-test-gtx-1"
    assert client.last_response_headers["X-MBX-ORDER-COUNT-10S"] == "1"
    fetched = await client.fetch_order(None, SYMBOL, {"origClientOrderId": "hedge-test-gtx-1"})
    assert fetched["id"] == order["id"] and fetched["status"] == "open" and fetched["price"] == pytest.approx(px)
    assert [o["id"] for o in await client.fetch_open_orders(SYMBOL)] == [order["id"]]
    # a second order with the same client id while the first is open: -4116
    with pytest.raises(ccxt.InvalidOrder, match="-4116"):
        await client.create_order(
            SYMBOL, "limit", "buy", 0.01, px, {"timeInForce": "GTX", "newClientOrderId": "hedge-test-gtx-1"}
        )
    canceled = await client.cancel_order(None, SYMBOL, {"origClientOrderId": "hedge-test-gtx-1"})
    assert canceled["status"] == "canceled"
    assert (await client.fetch_order(order["id"], SYMBOL))["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        await client.cancel_order(order["id"], SYMBOL)
    with pytest.raises(ccxt.OrderNotFound):
        await client.fetch_order("123", SYMBOL)


async def test_gtx_that_would_cross_is_rejected_5022(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    _, ask = await _touch(client)
    with pytest.raises(ccxt.OrderNotFillable, match="-5022"):
        await client.create_order(SYMBOL, "limit", "buy", 0.01, ask, {"timeInForce": "GTX"})
    assert await client.fetch_open_orders(SYMBOL) == []
    assert exchange.order_log[-1].code == -5022


async def test_filter_and_margin_rejections(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    bid, _ = await _touch(client)
    cases: list[tuple[dict[str, str], type[Exception], str]] = [
        ({"price": str(round(bid - 50, 1)), "quantity": "0.001"}, ccxt.InvalidOrder, "-4164"),  # notional < 100
        ({"price": f"{bid - 50:.2f}".rstrip("0")[:-1] + "05", "quantity": "0.01"}, ccxt.ExchangeError, "-4014"),
        ({"price": str(round(bid - 50, 1)), "quantity": "0.0105"}, ccxt.ExchangeError, "-1111"),
        ({"price": str(round(bid - 50, 1)), "quantity": "5"}, ccxt.InsufficientFunds, "-2019"),
        ({"price": str(round(bid * 0.9, 1)), "quantity": "0.01"}, ccxt.ExchangeError, "-4024"),
    ]
    for params, exc, code in cases:
        request = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", **params}
        if code == "-4024":
            request["side"] = "SELL"
        with pytest.raises(exc, match=code):
            await client.fapiPrivatePostOrder(request)
    with pytest.raises(ccxt.InvalidOrder, match="-2022"):
        await client.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
    with pytest.raises(ccxt.BadSymbol):
        await client.fapiPrivatePostOrder({"symbol": "NOPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"})
    assert await client.fetch_open_orders(SYMBOL) == []


async def test_market_order_moves_position_and_balance(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    before = await client.fetch_balance()
    assert before["USDT"]["total"] == pytest.approx(10_000.0)
    assert await client.fetch_positions([SYMBOL]) == []  # v3 lists only symbols with a position or orders
    order = await client.create_order(SYMBOL, "market", "buy", 0.01)
    assert order["status"] == "closed" and order["filled"] == pytest.approx(0.01)
    avg = order["average"]
    positions = await client.fetch_positions([SYMBOL])
    assert len(positions) == 1
    pos = positions[0]
    assert pos["side"] == "long" and pos["contracts"] == pytest.approx(0.01)
    assert pos["entryPrice"] == pytest.approx(avg)
    after = await client.fetch_balance()
    fee = 0.01 * avg * 0.0005
    # the taker fee came off the wallet, and margin for the position is locked
    assert float(after["info"]["totalWalletBalance"]) == pytest.approx(10_000.0 - fee, abs=1e-6)
    assert after["USDT"]["free"] < before["USDT"]["free"] - 0.01 * avg / 25
    trades = await client.fetch_my_trades(SYMBOL)
    assert len(trades) >= 1 and trades[0]["takerOrMaker"] == "taker"
    # close with a reduce-only market order: flat again, PnL realized into the wallet
    close = await client.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
    assert close["status"] == "closed"
    v2 = await client.fetch_positions([SYMBOL], {"useV2": True})
    assert all(p["contracts"] == 0 for p in v2)
    wallet = float((await client.fetch_balance())["info"]["totalWalletBalance"])
    realized = 0.01 * (close["average"] - avg)
    assert wallet == pytest.approx(10_000.0 - fee - 0.01 * close["average"] * 0.0005 + realized, abs=1e-6)


async def test_signature_timestamp_and_key_errors(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    for credentials, code in (({"secret": "wrong-secret"}, "-1022"), ({"key": "unknown-key"}, "-2015")):
        bad = ccxt_client(exchange.port, **credentials)
        try:
            with pytest.raises(ccxt.AuthenticationError, match=code):
                await bad.fetch_balance()
        finally:
            await bad.close()
    exchange.faults.settings["clock_skew_ms"].value = 30_000  # server clock 30 s ahead of ccxt's
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        await client.fetch_balance()


async def test_unknown_503_after_commit_is_visible_in_order_log(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    bid, _ = await _touch(client)
    async with aiohttp.ClientSession() as http:
        resp = await http.post(f"{exchange.base_url}/_hedge/faults", json={"order_503": {"count": 1}})
        assert resp.status == 200
    with pytest.raises(ccxt.OperationFailed):
        await client.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 40, 1), {"newClientOrderId": "u503"})
    # the order WAS committed: the client finds it by its client order id instead of resending
    found = await client.fetch_order(None, SYMBOL, {"origClientOrderId": "u503"})
    assert found["status"] == "open"
    async with aiohttp.ClientSession() as http:
        log = await (await http.get(f"{exchange.base_url}/_hedge/orders")).json()
    posts = [e for e in log if e["method"] == "POST" and e["client_order_id"] == "u503"]
    assert len(posts) == 1 and posts[0]["fault"] == "order_503" and posts[0]["http_status"] == 503
    assert posts[0]["order_id"] == int(found["id"])


async def test_rate_limit_429_then_418() -> None:
    from hedge.exchange.limits import Limits

    ex = LocalExchange(port=0, limits=Limits(weight_1m=30))
    await ex.start()
    c = ccxt_client(ex.port)
    try:
        statuses: list[int] = []
        async with aiohttp.ClientSession() as http:
            for _ in range(45):
                r = await http.get(f"{ex.base_url}/fapi/v1/ping")
                statuses.append(r.status)
                if r.status in (418, 429):
                    assert int(r.headers["Retry-After"]) >= 1
        assert statuses[:30] == [200] * 30
        assert 429 in statuses and statuses[-1] == 418
        with pytest.raises(ccxt.DDoSProtection):
            await c.fetch_time()
    finally:
        await c.close()
        await ex.stop()


async def nothing_open(client: Any) -> bool:
    return await client.fetch_open_orders(SYMBOL) == []


async def test_countdown_cancel_all(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    bid, _ = await _touch(client)
    await client.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 60, 1))
    resp = await client.fapiPrivatePostCountdownCancelAll({"symbol": "BTCUSDT", "countdownTime": 1000})
    assert resp["countdownTime"] == "1000"
    assert len(await client.fetch_open_orders(SYMBOL)) == 1
    await wait_for(lambda: nothing_open(client), 30, what="the countdown's cancel", interval=0.1)
