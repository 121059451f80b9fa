"""Algo-order routes of the local exchange: ``/fapi/v1/algoOrder``, ``openAlgoOrders``, ``algoOpenOrders``.

Owns: the REST handlers of Binance's Algo Service for conditional orders (STOP_MARKET,
TAKE_PROFIT_MARKET with ``algoType=CONDITIONAL``): new, cancel, query, open ones, cancel all,
each with its order-log line.

Must never: show a plain order on these endpoints, or place or cancel other than through the
matching engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from hedge.exchange import errors, wire
from hedge.exchange.orderlog import OrderLogEntry
from hedge.exchange.orders import Order
from hedge.exchange.rest import Ctx
from hedge.exchange.routes_orders import OrderRoutes, new_order

if TYPE_CHECKING:
    from hedge.exchange.server import LocalExchange


class AlgoRoutes:
    def __init__(self, exchange: LocalExchange, orders: OrderRoutes) -> None:
        self.ex = exchange
        self.orders = orders
        self.engine = exchange.engine
        self.specs = exchange.specs

    def add_routes(self, router: web.UrlDispatcher) -> None:
        ep = self.ex.rest.endpoint
        router.add_post("/fapi/v1/algoOrder", ep("SIGNED", 0, self.new_algo_order, counts_orders=True))
        router.add_delete("/fapi/v1/algoOrder", ep("SIGNED", 1, self.cancel_algo_order))
        router.add_get("/fapi/v1/algoOrder", ep("SIGNED", 1, self.get_algo_order))
        router.add_get("/fapi/v1/openAlgoOrders", ep("SIGNED", lambda p: 1 if p.get("symbol") else 40,
                                                      self.open_algo_orders))
        router.add_delete("/fapi/v1/algoOpenOrders", ep("SIGNED", 1, self.cancel_all_algo))

    async def new_algo_order(self, ctx: Ctx) -> Any:
        ex = self.ex
        now = ex.now_ms()
        entry = OrderLogEntry(
            seq=ex.orderlog.next_seq(), time_ms=now, account=ctx.account, method="POST", symbol=ctx.get("symbol"),
            side=ctx.get("side"), type=ctx.get("type"), client_order_id=ctx.get("clientAlgoId"), http_status=200,
        )
        ex.order_log.append(entry)
        try:
            ex.limiter.count_order(ctx.account, now)
            spec = ctx.symbol(self.specs)
            order = self.engine.place(ctx.account, new_order(ctx, spec, algo=True))
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status, entry.client_order_id = order.order_id, order.status, order.client_order_id
        return wire.algo_json(order, spec)

    def _algo_lookup(self, ctx: Ctx) -> Order | None:
        symbol = ctx.symbol(self.specs).symbol
        aid, caid = ctx.optional_int("algoId"), ctx.get("clientAlgoId")
        if aid is None and not caid:
            raise errors.missing_param("algoId")
        return self.orders.matched(ctx.account, symbol, aid, caid or None, algo=True)

    async def cancel_algo_order(self, ctx: Ctx) -> Any:
        ex = self.ex
        entry = OrderLogEntry(
            seq=ex.orderlog.next_seq(), time_ms=ex.now_ms(), account=ctx.account, method="DELETE",
            symbol=ctx.get("symbol"), side="", type="", client_order_id=ctx.get("clientAlgoId"), http_status=200,
        )
        ex.order_log.append(entry)
        try:
            order = self._algo_lookup(ctx)
            if order is None or not order.untriggered or not order.is_open:
                raise errors.cancel_rejected()
            self.engine.cancel(ctx.account, order.symbol, order.order_id, None)
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status = order.order_id, order.status
        return {"algoId": order.order_id, "clientAlgoId": order.client_order_id, "code": "200", "msg": "success"}

    async def get_algo_order(self, ctx: Ctx) -> Any:
        order = self._algo_lookup(ctx)
        if order is None:
            raise errors.no_such_order()
        return wire.algo_json(order, self.specs[order.symbol])

    async def open_algo_orders(self, ctx: Ctx) -> Any:
        spec = ctx.optional_symbol(self.specs)
        orders = self.engine.open_orders(ctx.account, spec.symbol if spec else None, algo=True)
        return [wire.algo_json(o, self.specs[o.symbol]) for o in orders]

    async def cancel_all_algo(self, ctx: Ctx) -> Any:
        self.engine.cancel_all(ctx.account, ctx.symbol(self.specs).symbol, algo=True)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}
