"""Trade and ticker routes of the local exchange: recent trades, aggregate trades, klines, tickers.

Owns: the public REST handlers built from the market trades played (``TradeHistory``) and the
book: ``/fapi/v1/trades``, ``/fapi/v1/aggTrades`` (one aggregate per market trade, as the
``@aggTrade`` stream sends them), ``/fapi/v1/klines`` (every Binance interval, from the 1-minute
bars; 1h and longer intervals reach back into ``hedge.exchange.history``'s synthetic past),
``/fapi/v1/markPriceKlines`` and ``/fapi/v1/indexPriceKlines`` (from the mark's 1-minute
bars; the index is the mark here), ``/fapi/v1/ticker/24hr`` (the last 24 hours at minute
granularity), ``/fapi/v1|v2/ticker/price`` and ``/fapi/v1/ticker/bookTicker``; their Binance
request weights and wire shapes. Without ``symbol`` the tickers list the symbols the exchange plays.

Must never: change the market or an account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hedge.exchange import errors
from hedge.exchange.candles import DAY_MS, INTERVALS, Bars, Candle, flat, shift
from hedge.exchange.params import Params
from hedge.exchange.rest import Ctx, Handler
from hedge.exchange.symbols import SymbolSpec

if TYPE_CHECKING:
    from hedge.exchange.server import LocalExchange

AGG_TRADES_MAX_HOURS = 1


def klines_weight(p: Params) -> int:
    """Binance's weight of the klines endpoints by ``limit``: [1,100) 1, [100,500) 2, [500,1000] 5, more 10."""
    limit = p.int_or("limit", 500)
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


def by_symbol(one: int, every: int) -> Callable[[Params], int]:
    """A weight of ``one`` with ``symbol``, ``every`` without."""
    return lambda p: one if p.get("symbol") else every


def quote(spec: SymbolSpec, x: float) -> str:
    """A quote amount (price x quantity) with the decimals of both."""
    return f"{x:.{spec.price_decimals + spec.qty_decimals}f}"


class TradeRoutes:
    def __init__(self, exchange: LocalExchange) -> None:
        self.ex = exchange
        self.trades = exchange.trades
        self.specs = exchange.specs

    def add_routes(self, router: web.UrlDispatcher) -> None:
        ep = self.ex.rest.endpoint
        router.add_get("/fapi/v1/trades", ep("NONE", 5, self.recent_trades))
        router.add_get("/fapi/v1/aggTrades", ep("NONE", 20, self.agg_trades))
        router.add_get("/fapi/v1/klines", ep("NONE", klines_weight, self.klines))
        router.add_get("/fapi/v1/markPriceKlines", ep("NONE", klines_weight, self.mark_klines("symbol")))
        router.add_get("/fapi/v1/indexPriceKlines", ep("NONE", klines_weight, self.mark_klines("pair")))
        router.add_get("/fapi/v1/ticker/24hr", ep("NONE", by_symbol(1, 40), self.each(self.ticker_24hr)))
        for v in (1, 2):
            router.add_get(f"/fapi/v{v}/ticker/price", ep("NONE", by_symbol(1, 2), self.each(self.price)))
        router.add_get("/fapi/v1/ticker/bookTicker", ep("NONE", by_symbol(2, 5), self.each(self.book_ticker)))

    def each(self, one: Callable[[SymbolSpec, int], Any]) -> Handler:
        """A ticker handler: ``one(spec, now)`` for ``symbol``, or a list of it for every symbol played."""
        async def handle(ctx: Ctx) -> Any:
            spec = ctx.optional_symbol(self.specs)
            now = self.ex.now_ms()
            if spec is not None:
                return one(spec, now)
            return [one(self.specs[sym], now) for sym in self.ex.last_update_id if sym in self.specs]

        return handle

    # ------------------------------------------------------------------------------ trades

    async def recent_trades(self, ctx: Ctx) -> Any:
        spec = ctx.symbol(self.specs)
        fp, fq = spec.fmt_price, spec.fmt_qty
        return [
            {"id": t.trade_id, "price": fp(t.price), "qty": fq(t.qty), "quoteQty": quote(spec, t.price * t.qty),
             "time": t.time_ms, "isBuyerMaker": t.buyer_maker}
            for t in self.trades.select(spec.symbol, limit=ctx.limit(500, 1000))
        ]

    async def agg_trades(self, ctx: Ctx) -> Any:
        spec = ctx.symbol(self.specs)
        from_id = ctx.optional_int("fromId")
        start, end = ctx.optional_int("startTime"), ctx.optional_int("endTime")
        if start is not None and end is not None and end - start > AGG_TRADES_MAX_HOURS * 3_600_000:
            raise errors.window_too_long(AGG_TRADES_MAX_HOURS)
        fp, fq = spec.fmt_price, spec.fmt_qty
        trades = self.trades.select(spec.symbol, from_id=from_id, start=start, end=end, limit=ctx.limit(500, 1000))
        return [
            {"a": t.trade_id, "p": fp(t.price), "q": fq(t.qty), "f": t.trade_id, "l": t.trade_id, "T": t.time_ms,
             "m": t.buyer_maker}
            for t in trades
        ]

    # ------------------------------------------------------------------------------ klines

    def _window(self, ctx: Ctx, bars: Bars) -> tuple[str, list[Candle]]:
        interval = ctx.need("interval")
        if interval not in INTERVALS:
            raise errors.bad_interval()
        start, end = ctx.optional_int("startTime"), ctx.optional_int("endTime")
        return interval, bars.window(interval, start, end, ctx.limit(500, 1500), self.ex.now_ms())

    async def klines(self, ctx: Ctx) -> Any:
        spec = ctx.symbol(self.specs)
        interval = ctx.need("interval")
        source = self.ex.history.klines_source(spec.symbol, self.trades.bars(spec.symbol), interval)
        interval, bars = self._window(ctx, source)
        fp, fq = spec.fmt_price, spec.fmt_qty
        return [
            [c.open_ms, fp(c.open), fp(c.high), fp(c.low), fp(c.close), fq(c.volume),
             shift(c.open_ms, interval, 1) - 1, quote(spec, c.quote_volume), c.count, fq(c.taker_buy_volume),
             quote(spec, c.taker_buy_quote), "0"]
            for c in bars
        ]

    def mark_klines(self, name: str) -> Handler:
        """Mark (``name`` = "symbol") or index (``name`` = "pair") price klines: both the mark here."""
        async def mark_klines(ctx: Ctx) -> Any:
            spec = self.specs.get(ctx.need(name))
            if spec is None:
                raise errors.bad_symbol()
            interval, bars = self._window(ctx, self.ex.marks.bars.get(spec.symbol) or Bars())
            fp = spec.fmt_price
            return [
                [c.open_ms, fp(c.open), fp(c.high), fp(c.low), fp(c.close), "0", shift(c.open_ms, interval, 1) - 1,
                 "0", c.count, "0", "0", "0"]
                for c in bars
            ]

        return mark_klines

    # ------------------------------------------------------------------------------ tickers

    def ticker_24hr(self, spec: SymbolSpec, now: int) -> Any:
        day = self.trades.bars(spec.symbol).since(now - DAY_MS) or flat(now - DAY_MS, 0.0)
        last = self.trades.last(spec.symbol)
        last_qty, close_ms = (last.qty, last.time_ms) if last is not None and day.count else (0.0, now)
        fp, fq = spec.fmt_price, spec.fmt_qty
        change = day.close - day.open
        return {
            "symbol": spec.symbol,
            "priceChange": fp(change),
            "priceChangePercent": f"{change / day.open * 100 if day.open else 0.0:.3f}",
            "weightedAvgPrice": fp(day.quote_volume / day.volume if day.volume else 0.0),
            "lastPrice": fp(day.close),
            "lastQty": fq(last_qty),
            "openPrice": fp(day.open),
            "highPrice": fp(day.high),
            "lowPrice": fp(day.low),
            "volume": fq(day.volume),
            "quoteVolume": quote(spec, day.quote_volume),
            "openTime": day.open_ms,
            "closeTime": close_ms,
            "firstId": day.first_id,
            "lastId": day.last_id,
            "count": day.count,
        }

    def price(self, spec: SymbolSpec, now: int) -> Any:
        last = self.trades.last(spec.symbol)
        return {"symbol": spec.symbol, "price": spec.fmt_price(last.price if last else 0.0), "time": now}

    def book_ticker(self, spec: SymbolSpec, now: int) -> Any:
        book = self.ex.engine.book(spec.symbol)
        bid, ask = book.best_bid() or (0.0, 0.0), book.best_ask() or (0.0, 0.0)
        fp, fq = spec.fmt_price, spec.fmt_qty
        return {
            "symbol": spec.symbol,
            "bidPrice": fp(bid[0]),
            "bidQty": fq(bid[1]),
            "askPrice": fp(ask[0]),
            "askQty": fq(ask[1]),
            "time": now,
            "lastUpdateId": self.ex.last_update_id.get(spec.symbol, 0),
        }
