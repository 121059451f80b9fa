"""The remaining REST endpoints of the local exchange, through ccxt's implicit (raw) API methods."""

from __future__ import annotations

import itertools
from typing import Any

import ccxt.async_support as ccxt
import pytest

from hedge.exchange.server import LocalExchange


async def test_account_balance_positions_and_brackets(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    assert await client.fapiPublicGetPing() == {}
    lev = await client.fapiPrivatePostLeverage({"symbol": "BTCUSDT", "leverage": 10})
    assert lev["leverage"] == 10
    with pytest.raises(ccxt.ExchangeError, match="-4028"):
        await client.fapiPrivatePostLeverage({"symbol": "BTCUSDT", "leverage": 500})
    # integer parameters: not an integer is -1100 naming the legal range (as Binance), absent is -1102
    with pytest.raises(ccxt.ExchangeError, match=r"-1100.*'leverage'; legal range is '\^\[0-9\]\{1,20\}\$'"):
        await client.fapiPrivatePostLeverage({"symbol": "BTCUSDT", "leverage": "ten"})
    with pytest.raises(ccxt.ExchangeError, match=r"-1100.*'countdownTime'"):
        await client.fapiPrivatePostCountdownCancelAll({"symbol": "BTCUSDT", "countdownTime": "1.5"})
    with pytest.raises(ccxt.ExchangeError, match=r"-1102.*'countdownTime'"):
        await client.fapiPrivatePostCountdownCancelAll({"symbol": "BTCUSDT"})
    order = await client.create_order("BTC/USDT:USDT", "market", "buy", 0.005)
    px = order["average"]
    brackets = await client.fapiPrivateGetLeverageBracket({"symbol": "BTCUSDT"})
    b = brackets[0]["brackets"]
    assert brackets[0]["symbol"] == "BTCUSDT" and b[0]["notionalFloor"] == 0
    assert all(x["notionalCap"] == y["notionalFloor"] for x, y in itertools.pairwise(b))
    for version in ("V2", "V3"):
        acct = await getattr(client, f"fapiPrivate{version}GetAccount")()
        assert acct["assets"][0]["asset"] == "USDT"
        pos = [p for p in acct["positions"] if p["symbol"] == "BTCUSDT"]
        assert pos[0]["positionAmt"] == "0.005"
        # margin of 0.005 BTC at leverage 10
        assert float(pos[0]["initialMargin"]) == pytest.approx(0.005 * px / 10, rel=0.02)
        bal = await getattr(client, f"fapiPrivate{version}GetBalance")()
        assert bal[0]["asset"] == "USDT" and float(bal[0]["balance"]) == pytest.approx(10_000 - 0.005 * px * 0.0005)
    v2 = await client.fapiPrivateV2GetPositionRisk({"symbol": "BTCUSDT"})
    assert v2[0]["leverage"] == "10" and v2[0]["positionAmt"] == "0.005" and v2[0]["marginType"] == "cross"
    every = await client.fapiPrivateV2GetPositionRisk()
    assert len(every) == len(exchange.specs)  # v2 lists flat symbols too
    assert {p["symbol"] for p in every if float(p["positionAmt"]) != 0} == {"BTCUSDT"}
    v3 = await client.fapiPrivateV3GetPositionRisk()
    assert [p["symbol"] for p in v3] == ["BTCUSDT"] and float(v3[0]["entryPrice"]) == pytest.approx(px)
    trades = await client.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})
    assert len(trades) >= 1 and trades[0]["buyer"] is True and trades[0]["maker"] is False
    assert sum(float(t["qty"]) for t in trades) == pytest.approx(0.005)
    premium = await client.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
    assert float(premium["markPrice"]) > 0 and premium["nextFundingTime"] > premium["time"]


async def test_open_orders_and_cancel_all(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    bid = (await client.fetch_order_book("BTC/USDT:USDT", 5))["bids"][0][0]
    for i in range(3):
        await client.create_order("BTC/USDT:USDT", "limit", "buy", 0.01, round(bid - 100 - i, 1))
    await client.fapiPrivateGetOpenOrders({"symbol": "BTCUSDT"})
    w0 = int(client.last_response_headers["X-MBX-USED-WEIGHT-1M"])
    everything = await client.fapiPrivateGetOpenOrders()
    assert int(client.last_response_headers["X-MBX-USED-WEIGHT-1M"]) == w0 + 40  # no symbol: weight 40
    assert len(everything) == 3 and all(o["status"] == "NEW" and "time" in o for o in everything)
    done = await client.fapiPrivateDeleteAllOpenOrders({"symbol": "BTCUSDT"})
    assert done["code"] == 200
    assert await client.fapiPrivateGetOpenOrders({"symbol": "BTCUSDT"}) == []
    assert [(e.method, e.status, e.http_status) for e in exchange.order_log] == [("POST", "NEW", 200)] * 3
