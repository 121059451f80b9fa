"""Trades, klines, tickers and the order history of the local exchange through the real ccxt async
client (issue 24, item 7): fetch_ohlcv, fetch_ticker(s), fetch_trades, fetch_bids_asks,
fetch_last_prices, fetch_orders and fetch_closed_orders, checked against the trades played."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import ccxt.async_support as ccxt
import pytest

from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.exchange.server import LocalExchange
from tests.kit.exchange import ccxt_session, running_exchange
from tests.kit.wait import wait_for

SYMBOL = "BTC/USDT:USDT"
OTHER_KEY, OTHER_SECRET = "hedgeOtherTestKey" + "0" * 47, "hedgeOtherTestSecret" + "0" * 44
TIMEFRAMES = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000}
# Exchange clock jumps (ms): trades then fall into several minutes, 5-minute bars and hours, with gaps.
CLOCK_JUMPS = (0, 61_000, 122_000, 400_000, 3_700_000)


async def all_trades(client: Any, up_to_id: int = 0) -> list[dict[str, Any]]:
    """Every trade the exchange keeps, oldest first, paged by ``fromId`` (at least up to ``up_to_id``)."""
    out: list[dict[str, Any]] = []
    next_id = 0
    while True:
        page = await client.fetch_trades(SYMBOL, None, 1000, {"fromId": next_id})
        out += page
        if len(page) < 1000 and (not out or int(out[-1]["id"]) >= up_to_id):
            return out
        next_id = int(out[-1]["id"]) + 1


def check_candles(candles: list[list[float]], trades: list[dict[str, Any]], length: int, final_before: int) -> int:
    """Each closed candle against the trades in it; returns how many closed candles had trades."""
    with_trades = 0
    for prev, c in zip([None, *candles], candles, strict=False):
        ts, o, h, lo, cl, v = c
        assert lo <= min(o, cl) <= max(o, cl) <= h
        if prev is not None:
            assert ts == prev[0] + length  # no gap
        if ts + length > final_before:
            continue  # not closed yet: more trades may come
        inside = [t for t in trades if ts <= t["timestamp"] < ts + length]
        if inside:
            with_trades += 1
            prices = [t["price"] for t in inside]
            assert (o, h, lo, cl) == (prices[0], max(prices), min(prices), prices[-1]), (c, len(inside))
            assert v == pytest.approx(sum(t["amount"] for t in inside), abs=1e-6)
        else:  # a bar with no trade: flat at the previous close, volume 0
            assert prev is not None and v == 0 and o == h == lo == cl == prev[4]
    return with_trades


async def test_ohlcv_ticker_and_trades_agree_with_the_trades_played() -> None:
    async with running_exchange(speed=20.0) as ex, ccxt_session(ex.port) as client:
        client.enableRateLimit = False  # ccxt's own throttle (a quarter second per heavy call) is not under test
        await client.load_markets()
        for jump in CLOCK_JUMPS:  # public endpoints only: signed requests would fail the recvWindow
            ex.faults.apply_spec(f"clock_skew_ms={jump}")
            after = ex.now_ms()

            def traded_since(after: int = after) -> bool:
                return len(ex.trades.select("BTCUSDT", start=after, limit=20)) >= 20

            await wait_for(traded_since, 60, what=f"20 trades after the clock jump of {jump} ms")
        final_before = ex.now_ms()  # bars closing before this hold every trade they will ever hold
        candles = {tf: await client.fetch_ohlcv(SYMBOL, tf, limit=1000) for tf in TIMEFRAMES}
        ticker = await client.fetch_ticker(SYMBOL)
        trades = await all_trades(client, int(ticker["info"]["lastId"]))
        ids = [int(t["id"]) for t in trades]
        assert ids == sorted(set(ids)) and len(ids) >= 100
        played = {tf: [c for c in candles[tf] if c[0] + n > trades[0]["timestamp"]] for tf, n in TIMEFRAMES.items()}
        assert len(candles["1h"]) > len(played["1h"])  # 1h bars reach back into the synthetic past
        candles = played
        closed = {tf: check_candles(candles[tf], trades, n, final_before) for tf, n in TIMEFRAMES.items()}
        assert closed["1m"] >= 4 and closed["5m"] >= 2 and closed["1h"] >= 1, closed
        assert any(c[5] == 0 for c in candles["1m"])  # the gaps are flat bars
        # a 5-minute bar is its 1-minute bars
        for c5 in candles["5m"][:-1]:
            ones = [c for c in candles["1m"] if c5[0] <= c[0] < c5[0] + 300_000]
            assert c5[5] == pytest.approx(sum(c[5] for c in ones), abs=1e-6)
            assert c5[2] == max(c[2] for c in ones) and c5[3] == min(c[3] for c in ones)
        # since + limit: the bars from there on
        since = candles["1m"][2][0]
        assert await client.fetch_ohlcv(SYMBOL, "1m", since, 3) == candles["1m"][2:5]
        # the 24-hour ticker: every trade so far (the exchange is younger than a day)
        info = ticker["info"]
        day = [t for t in trades if int(info["firstId"]) <= int(t["id"]) <= int(info["lastId"])]
        assert int(info["firstId"]) == ids[0] and info["count"] == len(day)
        assert ticker["last"] == day[-1]["price"] and ticker["open"] == day[0]["price"]
        assert ticker["high"] == max(t["price"] for t in day) and ticker["low"] == min(t["price"] for t in day)
        assert ticker["baseVolume"] == pytest.approx(sum(t["amount"] for t in day), abs=1e-6)
        assert ticker["vwap"] == pytest.approx(sum(t["cost"] for t in day) / ticker["baseVolume"], abs=0.1)
        tickers = await client.fetch_tickers()
        assert list(tickers) == [SYMBOL] and tickers[SYMBOL]["last"] > 0  # the symbols played
        # recent trades (the /trades endpoint) end where the aggregate list does
        recent = await client.fetch_trades(SYMBOL, None, 5, {"fetchTradesMethod": "fapiPublicGetTrades"})
        assert len(recent) == 5 and int(recent[0]["id"]) >= ids[-1] - 5
        # a time window: the trades in it, and Binance's 1-hour cap on aggTrades
        t0 = trades[len(trades) // 2]["timestamp"]
        window = [t for t in await client.fetch_trades(SYMBOL, t0, 1000) if int(t["id"]) <= ids[-1]]
        assert window == [t for t in trades if t0 <= t["timestamp"] <= t0 + 3_600_000]
        with pytest.raises(ccxt.ExchangeError, match="-1127"):
            await client.fapiPublicGetAggTrades({"symbol": "BTCUSDT", "startTime": t0, "endTime": t0 + 3_600_001})
        with pytest.raises(ccxt.ExchangeError, match="-1120"):
            await client.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "2m"})
        # mark price bars, and Binance's 1M and 1w bars
        marks = await client.fetch_ohlcv(SYMBOL, "1m", params={"price": "mark"})
        assert marks and all(c[3] <= c[2] for c in marks)
        assert len(await client.fetch_ohlcv(SYMBOL, "1M")) >= 1 and len(await client.fetch_ohlcv(SYMBOL, "1w")) >= 1


async def test_book_ticker_and_last_prices(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    await wait_for(lambda: exchange.trades.last("BTCUSDT"), 30, what="a trade played")
    quotes = await client.fetch_bids_asks([SYMBOL])
    q = quotes[SYMBOL]
    assert 0 < q["bid"] < q["ask"] and q["bidVolume"] > 0 and q["askVolume"] > 0
    assert 0 < q["info"]["lastUpdateId"] <= exchange.last_update_id["BTCUSDT"]
    assert list(await client.fetch_bids_asks()) == [SYMBOL]
    prices = await client.fetch_last_prices()
    assert q["bid"] * 0.99 < prices[SYMBOL]["price"] < q["ask"] * 1.01
    single = await client.fapiPublicGetTickerPrice({"symbol": "BTCUSDT"})
    assert single["symbol"] == "BTCUSDT" and float(single["price"]) > 0


async def weight_of(exchange: LocalExchange, client: Any, call: Callable[[], Awaitable[Any]]) -> int:
    """The request weight ``call`` was charged (measured within one rate-limit minute)."""
    for _ in range(3):
        minute = exchange.now_ms() // 60_000
        before = exchange.limiter.used_weight("127.0.0.1")
        await call()
        if exchange.now_ms() // 60_000 == minute:
            return int(client.last_response_headers["X-MBX-USED-WEIGHT-1M"]) - before
    raise AssertionError("no call within one minute")


async def test_request_weights_as_binance(exchange: LocalExchange, client: Any) -> None:
    client.enableRateLimit = False
    await client.load_markets()
    public = {
        "trades": (client.fapiPublicGetTrades, {"symbol": "BTCUSDT"}, 5),
        "aggTrades": (client.fapiPublicGetAggTrades, {"symbol": "BTCUSDT"}, 20),
        "klines 99": (client.fapiPublicGetKlines, {"symbol": "BTCUSDT", "interval": "1m", "limit": 99}, 1),
        "klines 100": (client.fapiPublicGetKlines, {"symbol": "BTCUSDT", "interval": "1m", "limit": 100}, 2),
        "klines": (client.fapiPublicGetKlines, {"symbol": "BTCUSDT", "interval": "1m"}, 5),
        "klines 1500": (client.fapiPublicGetKlines, {"symbol": "BTCUSDT", "interval": "1h", "limit": 1500}, 10),
        "24hr": (client.fapiPublicGetTicker24hr, {"symbol": "BTCUSDT"}, 1),
        "24hr all": (client.fapiPublicGetTicker24hr, {}, 40),
        "price": (client.fapiPublicV2GetTickerPrice, {"symbol": "BTCUSDT"}, 1),
        "price all": (client.fapiPublicGetTickerPrice, {}, 2),
        "book": (client.fapiPublicGetTickerBookTicker, {"symbol": "BTCUSDT"}, 2),
        "book all": (client.fapiPublicGetTickerBookTicker, {}, 5),
        "allOrders": (client.fapiPrivateGetAllOrders, {"symbol": "BTCUSDT"}, 5),
    }
    for name, (method, params, weight) in public.items():
        assert await weight_of(exchange, client, lambda m=method, p=params: m(p)) == weight, name


async def test_fetch_orders_and_closed_orders() -> None:
    accounts = {DEFAULT_API_KEY: DEFAULT_API_SECRET, OTHER_KEY: OTHER_SECRET}
    async with (running_exchange(speed=1.0, accounts=accounts) as exchange, ccxt_session(exchange.port) as client,
                ccxt_session(exchange.port, OTHER_KEY, OTHER_SECRET) as other):
        client.enableRateLimit = False
        await client.load_markets()
        bid = (await client.fetch_order_book(SYMBOL, 5))["bids"][0][0]
        resting = {"timeInForce": "GTX"}
        canceled = await client.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 200, 1), resting)
        await client.cancel_order(canceled["id"], SYMBOL)
        bought = await client.create_order(SYMBOL, "market", "buy", 0.01)
        still_open = await client.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 300, 1), resting)
        sold = await client.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
        ids = [o["id"] for o in (canceled, bought, still_open, sold)]
        orders = await client.fetch_orders(SYMBOL)
        assert [o["id"] for o in orders] == ids
        assert [o["status"] for o in orders] == ["canceled", "closed", "open", "closed"]
        assert orders[1]["filled"] == pytest.approx(0.01) and orders[1]["average"] == pytest.approx(bought["average"])
        assert [o["id"] for o in await client.fetch_closed_orders(SYMBOL)] == [bought["id"], sold["id"]]
        assert [o["id"] for o in await client.fetch_orders(SYMBOL, None, 2)] == ids[2:]  # the most recent
        from_id = await client.fetch_orders(SYMBOL, None, 2, {"orderId": bought["id"]})
        assert [o["id"] for o in from_id] == ids[1:3]  # from an order id on
        assert [o["id"] for o in await client.fetch_orders()] == ids  # every symbol
        assert await client.fetch_orders(SYMBOL, None, None, {"until": orders[0]["timestamp"] - 1}) == []
        with pytest.raises(ccxt.ExchangeError, match="-1127"):
            await client.fetch_orders(SYMBOL, 1, None, {"until": 1 + 8 * 86_400_000})
        assert await other.fetch_orders(SYMBOL) == []  # an account sees its own orders only
