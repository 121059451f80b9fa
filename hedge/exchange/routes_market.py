"""Market-data routes of the local exchange: ping, time, exchangeInfo, depth, premiumIndex.

Owns: the public REST handlers (no key needed): ``/fapi/v1/ping``, ``/fapi/v1/time``,
``/fapi/v1/exchangeInfo``, ``/fapi/v1/depth`` (its weight by ``limit``; ``lastUpdateId`` = the
last diff played) and ``/fapi/v1/premiumIndex`` (mark, funding rate, next funding time).

Must never: change the market or an account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from hedge.exchange import errors
from hedge.exchange.marks import next_funding_ms
from hedge.exchange.rest import Ctx

if TYPE_CHECKING:
    from hedge.exchange.server import LocalExchange

DEPTH_WEIGHT = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}


class MarketRoutes:
    def __init__(self, exchange: LocalExchange) -> None:
        self.ex = exchange
        self.engine = exchange.engine
        self.specs = exchange.specs

    def add_routes(self, router: web.UrlDispatcher) -> None:
        ep = self.ex.rest.endpoint
        router.add_get("/fapi/v1/ping", ep("NONE", 1, self.ping))
        router.add_get("/fapi/v1/time", ep("NONE", 1, self.time))
        router.add_get("/fapi/v1/exchangeInfo", ep("NONE", 1, self.exchange_info))
        router.add_get(
            "/fapi/v1/depth", ep("NONE", lambda p: DEPTH_WEIGHT.get(p.int_or("limit", 500), 20), self.depth)
        )
        router.add_get("/fapi/v1/premiumIndex", ep("NONE", 1, self.premium_index))

    async def ping(self, ctx: Ctx) -> Any:
        return {}

    async def time(self, ctx: Ctx) -> Any:
        return {"serverTime": self.ex.now_ms()}

    async def exchange_info(self, ctx: Ctx) -> Any:
        return web.Response(body=self.ex.info.body(self.ex.now_ms()), content_type="application/json")

    async def depth(self, ctx: Ctx) -> Any:
        spec = ctx.symbol(self.specs)
        limit = ctx.int_or("limit", 500)
        if limit not in DEPTH_WEIGHT:
            raise errors.bad_param("limit", str(limit))
        book = self.engine.book(spec.symbol)
        now = self.ex.now_ms()
        return {
            "lastUpdateId": self.ex.last_update_id.get(spec.symbol, 0),
            "E": now,
            "T": now,
            "bids": [[spec.fmt_price(p), spec.fmt_qty(q)] for p, q in book.bids(limit)],
            "asks": [[spec.fmt_price(p), spec.fmt_qty(q)] for p, q in book.asks(limit)],
        }

    async def premium_index(self, ctx: Ctx) -> Any:
        spec = ctx.symbol(self.specs)
        mark = self.engine.mark_price(spec.symbol)
        now = self.ex.now_ms()
        return {
            "symbol": spec.symbol,
            "markPrice": f"{mark:.8f}",
            "indexPrice": f"{mark:.8f}",
            "estimatedSettlePrice": f"{mark:.8f}",
            "lastFundingRate": f"{self.engine.funding_rate(spec.symbol):.8f}",
            "interestRate": "0.00010000",
            "nextFundingTime": next_funding_ms(now),
            "time": now,
        }
