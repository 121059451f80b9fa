"""Liquidation through real sockets: the real ccxt client opens a 100x long on the running local
exchange, the control API pushes the mark past positionRisk's liquidationPrice, and the position is
gone, the ``autoclose-`` LIQUIDATION order is on the user stream after the cancel of the resting
order, and the wallet is reduced."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import aiohttp
import orjson
import pytest
import websockets

from hedge.exchange.server import LocalExchange
from tests.kit.exchange import ccxt_client

SYMBOL = "BTC/USDT:USDT"
MMR = 0.004


async def _events(ws: Any, n: int, wait_s: float = 5.0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < n:
        msg: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), wait_s))
        if msg.get("e") in ("ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE"):
            out.append(msg)
    return out


async def _set_mark(http: aiohttp.ClientSession, ex: LocalExchange, price: float) -> dict[str, Any]:
    r = await http.post(f"{ex.base_url}/_hedge/actions/mark", params={"symbol": "BTCUSDT", "price": f"{price:.1f}"})
    assert r.status == 200
    body: dict[str, Any] = await r.json()
    return body


async def test_high_leverage_long_is_liquidated_when_the_mark_crosses_its_price() -> None:
    ex = LocalExchange(port=0, starting_balance=20.0)
    await ex.start()
    client = ccxt_client(ex.port)
    try:
        async with aiohttp.ClientSession() as http:
            await client.load_markets()
            await client.set_leverage(100, SYMBOL)
            key = (await client.fapiPrivatePostListenKey())["listenKey"]
            async with websockets.connect(f"ws://127.0.0.1:{ex.port}/ws/{key}", compression=None) as ws:
                await client.create_order(SYMBOL, "market", "buy", 0.01)
                ob = await client.fetch_order_book(SYMBOL, 5)
                resting = await client.create_order(SYMBOL, "limit", "buy", 0.002, round(ob["bids"][0][0] - 500, 1))
                await _events(ws, 4)  # market NEW, TRADE, ACCOUNT_UPDATE, limit NEW
                wallet0 = float((await client.fapiPrivateV2GetBalance())[0]["balance"])
                [risk] = await client.fapiPrivateV3GetPositionRisk({"symbol": "BTCUSDT"})
                amt, entry = float(risk["positionAmt"]), float(risk["entryPrice"])
                lp = float(risk["liquidationPrice"])
                # Binance's one-way cross formula from the numbers the exchange itself reports
                assert amt == pytest.approx(0.01)
                assert lp == pytest.approx((wallet0 - amt * entry) / (amt * MMR - amt), rel=1e-9)
                assert entry * 0.95 < lp < entry  # ~1 % of margin at 100x: close below the entry
                assert float(risk["maintMargin"]) == pytest.approx(amt * float(risk["markPrice"]) * MMR, rel=1e-6)
                [v2] = await client.fapiPrivateV2GetPositionRisk({"symbol": "BTCUSDT"})
                assert float(v2["liquidationPrice"]) == pytest.approx(lp)
                [ccxt_pos] = await client.fetch_positions([SYMBOL])
                assert ccxt_pos["liquidationPrice"] == pytest.approx(lp)

                above = math.ceil(lp * 10 + 1e-6) / 10  # the first tick above the liquidation price
                assert (await _set_mark(http, ex, above))["mark"] == pytest.approx(above)
                [still] = await client.fapiPrivateV3GetPositionRisk({"symbol": "BTCUSDT"})
                assert float(still["positionAmt"]) == pytest.approx(0.01)
                assert float(still["markPrice"]) == pytest.approx(above)
                with pytest.raises(TimeoutError):  # nothing happened on the stream
                    await _events(ws, 1, wait_s=0.3)

                below = round(above - 0.1, 1)
                await _set_mark(http, ex, below)
                cancel, new, calc, acct = await _events(ws, 4)
                assert (cancel["o"]["i"], cancel["o"]["x"], cancel["o"]["X"]) == (int(resting["id"]), "CANCELED",
                                                                                   "CANCELED")
                o = new["o"]
                assert o["c"].startswith("autoclose-") and o["o"] == "LIQUIDATION" and o["ot"] == "LIQUIDATION"
                assert (o["x"], o["X"], o["S"], o["f"], o["R"]) == ("NEW", "NEW", "SELL", "IOC", True)
                f = calc["o"]
                assert (f["c"], f["x"], f["X"], f["l"], f["z"]) == (o["c"], "CALCULATED", "FILLED", "0.010", "0.010")
                assert float(f["L"]) == pytest.approx(below) and float(f["rp"]) < 0 and f["m"] is False
                assert acct["a"]["m"] == "ORDER" and acct["a"]["P"][0]["pa"] == "0.000"
                wb = float(acct["a"]["B"][0]["wb"])
                assert 0.0 <= wb < wallet0
                assert wb == pytest.approx(wallet0 + float(f["rp"]) - float(f["n"]))

            assert await client.fapiPrivateV3GetPositionRisk({"symbol": "BTCUSDT"}) == []
            [flat] = await client.fapiPrivateV2GetPositionRisk({"symbol": "BTCUSDT"})
            assert float(flat["positionAmt"]) == 0.0 and flat["liquidationPrice"] == "0"
            assert await client.fetch_open_orders(SYMBOL) == []
            balance = await client.fetch_balance()
            assert balance["USDT"]["total"] == pytest.approx(wb) and wb < wallet0
            trades = await client.fetch_my_trades(SYMBOL)
            assert trades[-1]["side"] == "sell" and trades[-1]["price"] == pytest.approx(below)
            # the override stays: the 1-second mark loop does not put the mid back
            await asyncio.sleep(1.2)  # an absence over one full period of the mark loop: nothing to wait on
            assert float((await client.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"}))["markPrice"]) == below
            r = await http.post(f"{ex.base_url}/_hedge/actions/mark", params={"symbol": "NOPEUSDT", "price": "1"})
            assert r.status == 400
    finally:
        await client.close()
        await ex.stop()
