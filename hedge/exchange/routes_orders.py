"""Order routes of the local exchange: ``/fapi/v1/order``, ``openOrders``, ``allOpenOrders``, countdown.

Owns: the REST handlers of plain orders (new, cancel, query, open orders, all orders, cancel all), the
dead-man switch (``countdownCancelAll``: cancels the symbol's plain orders when it runs out), the
parsing of an order request's parameters into a ``NewOrder`` (shared with the algo routes), the
order-log line of each request with its outcome, and the faults injected on new orders
(``order_503``, ``order_1007``, ``order_drop``: the order is placed, the answer is lost).

Must never: place or cancel other than through the matching engine, or show an untriggered
conditional order on the plain-order endpoints (the algo routes own those).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from hedge.exchange import errors, wire
from hedge.exchange.orderlog import OrderLogEntry
from hedge.exchange.orders import CONDITIONAL, NewOrder, Order
from hedge.exchange.rest import Ctx, DropConnection
from hedge.exchange.symbols import SymbolSpec

if TYPE_CHECKING:
    from hedge.exchange.server import LocalExchange

ALL_ORDERS_WINDOW_MS = 7 * 86_400_000


def sent_ms(ctx: Ctx) -> int:
    """A signed request's ``timestamp`` (validated before any handler runs), 0 when absent."""
    return ctx.int_or("timestamp", 0)


def new_order(ctx: Ctx, spec: SymbolSpec, *, algo: bool = False) -> NewOrder:
    """The order a ``POST /fapi/v1/order`` (or ``algoOrder`` when ``algo``) asks for, or a ``Reject``."""
    side = ctx.choice("side", ("BUY", "SELL"))
    otype = ctx.need("type").upper()
    if otype in ("STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TAKE_PROFIT", "TRAILING_STOP_MARKET"):
        if not algo:
            raise errors.use_algo_endpoint()
        if otype not in ("STOP_MARKET", "TAKE_PROFIT_MARKET"):
            raise errors.invalid_order_type(otype)
        ctx.choice("algoType", ("CONDITIONAL",))
    elif algo or otype not in ("LIMIT", "MARKET"):
        raise errors.invalid_order_type(otype)
    if ctx.get("positionSide", "BOTH").upper() != "BOTH":
        raise errors.position_side_mismatch()
    close_position = ctx.flag("closePosition")
    conditional = otype in ("STOP_MARKET", "TAKE_PROFIT_MARKET")
    if close_position and not conditional:
        raise errors.not_required("closePosition")
    if close_position and ctx.get("quantity"):
        raise errors.not_required("quantity")
    qty = 0.0 if close_position else ctx.decimal("quantity", spec.qty_precision)
    price = 0.0
    tif = "GTC"
    if otype == "LIMIT":
        price = ctx.decimal("price", spec.price_precision)
        tif = ctx.choice("timeInForce", ("GTC", "IOC", "FOK", "GTX"))
    elif ctx.get("price"):
        raise errors.not_required("price")
    stop_price = 0.0
    working_type = "CONTRACT_PRICE"
    if conditional:
        stop_price = ctx.decimal("triggerPrice", spec.price_precision)
        working_type = ctx.choice("workingType", ("MARK_PRICE", "CONTRACT_PRICE"), "CONTRACT_PRICE")
    elif ctx.get("stopPrice") or ctx.get("triggerPrice"):
        raise errors.not_required("stopPrice")
    reduce_only = ctx.flag("reduceOnly")
    if reduce_only and close_position:
        raise errors.not_required("reduceOnly")
    id_param = "clientAlgoId" if algo else "newClientOrderId"
    client_id = ctx.client_id(id_param)
    return NewOrder(
        symbol=spec.symbol,
        side=cast(Any, side),
        type=cast(Any, otype),
        quantity=qty,
        price=price,
        time_in_force=cast(Any, tif),
        reduce_only=reduce_only,
        client_order_id=client_id,
        stop_price=stop_price,
        working_type=cast(Any, working_type),
        close_position=close_position,
    )


class OrderRoutes:
    def __init__(self, exchange: LocalExchange) -> None:
        self.ex = exchange
        self.engine = exchange.engine
        self.specs = exchange.specs
        self._countdowns: dict[tuple[str, str], asyncio.TimerHandle] = {}

    def add_routes(self, router: web.UrlDispatcher) -> None:
        ep = self.ex.rest.endpoint
        router.add_post("/fapi/v1/order", ep("SIGNED", 0, self.new_order, counts_orders=True))
        router.add_delete("/fapi/v1/order", ep("SIGNED", 1, self.cancel_order))
        router.add_get("/fapi/v1/order", ep("SIGNED", 1, self.get_order))
        router.add_get("/fapi/v1/openOrders", ep("SIGNED", lambda p: 1 if p.get("symbol") else 40, self.open_orders))
        router.add_get("/fapi/v1/allOrders", ep("SIGNED", 5, self.all_orders))
        router.add_delete("/fapi/v1/allOpenOrders", ep("SIGNED", 1, self.cancel_all))
        router.add_post("/fapi/v1/countdownCancelAll", ep("SIGNED", 10, self.countdown))

    def close(self) -> None:
        """Disarm every dead-man switch."""
        for handle in self._countdowns.values():
            handle.cancel()
        self._countdowns.clear()

    def matched(self, account: str, symbol: str, oid: int | None, coid: str | None, *, algo: bool) -> Order | None:
        """The order an endpoint may see: the algo endpoints only conditional orders, the order
        endpoints everything else (and a conditional order once triggered into the matching engine)."""
        try:
            order = self.engine.get_order(account, symbol, oid, coid)
        except errors.Reject:
            return None
        if algo:
            return order if order.orig_type in CONDITIONAL else None
        return None if order.untriggered else order

    def _lookup(self, ctx: Ctx) -> tuple[str, int | None, str | None]:
        symbol = ctx.symbol(self.specs).symbol
        oid, coid = ctx.optional_int("orderId"), ctx.get("origClientOrderId")
        if oid is None and not coid:
            raise errors.missing_param("orderId")
        return symbol, oid, (coid or None)

    def _logged_lookup(self, ctx: Ctx, method: str) -> tuple[str, int | None, str | None, OrderLogEntry]:
        """The order a cancel/query names, and its line in the order log (the outcome filled in later)."""
        symbol, oid, coid = self._lookup(ctx)
        entry = OrderLogEntry(
            seq=self.ex.orderlog.next_seq(),
            time_ms=self.ex.now_ms(),
            account=ctx.account,
            method=method,
            symbol=symbol,
            side="",
            type="",
            client_order_id=coid or "",
            http_status=200,
            order_id=oid or 0,
            sent_ms=sent_ms(ctx),
        )
        self.ex.order_log.append(entry)
        return symbol, oid, coid, entry

    async def new_order(self, ctx: Ctx) -> Any:
        ex = self.ex
        now = ex.now_ms()
        entry = OrderLogEntry(
            seq=ex.orderlog.next_seq(),
            time_ms=now,
            account=ctx.account,
            method="POST",
            symbol=ctx.get("symbol"),
            side=ctx.get("side"),
            type=ctx.get("type"),
            client_order_id=ctx.get("newClientOrderId"),
            http_status=200,
            sent_ms=sent_ms(ctx),
        )
        ex.order_log.append(entry)
        try:
            ex.limiter.count_order(ctx.account, now)
            spec = ctx.symbol(self.specs)
            order = self.engine.place(ctx.account, new_order(ctx, spec))
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status, entry.client_order_id = order.order_id, order.status, order.client_order_id
        for fault, make in (("order_503", errors.unknown_503), ("order_1007", errors.timeout_1007)):
            if ex.faults.fire(fault):
                answer = make()
                entry.fault, entry.http_status, entry.code = fault, answer.status, answer.code
                raise answer
        if ex.faults.fire("order_drop"):
            entry.fault, entry.http_status = "order_drop", 0
            raise DropConnection()
        return wire.order_json(order, spec)

    async def cancel_order(self, ctx: Ctx) -> Any:
        symbol, oid, coid, entry = self._logged_lookup(ctx, "DELETE")
        try:
            if self.matched(ctx.account, symbol, oid, coid, algo=False) is None:
                raise errors.cancel_rejected()
            order = self.engine.cancel(ctx.account, symbol, oid, coid)
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status = order.order_id, order.status
        return wire.order_json(order, self.specs[symbol])

    async def get_order(self, ctx: Ctx) -> Any:
        symbol, oid, coid, entry = self._logged_lookup(ctx, "GET")
        try:
            order = self.matched(ctx.account, symbol, oid, coid, algo=False)
            if order is None:
                raise errors.no_such_order()
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status = order.order_id, order.status
        return wire.order_json(order, self.specs[symbol], with_time=True)

    async def open_orders(self, ctx: Ctx) -> Any:
        spec = ctx.optional_symbol(self.specs)
        return [
            wire.order_json(o, self.specs[o.symbol], with_time=True)
            for o in self.engine.open_orders(ctx.account, spec.symbol if spec else None, algo=False)
        ]

    async def all_orders(self, ctx: Ctx) -> Any:
        """Every order, open or not (symbol optional, as ccxt sends it); the time window is at most
        7 days, the last 7 days when neither it nor ``orderId`` is given."""
        spec = ctx.optional_symbol(self.specs)
        oid = ctx.optional_int("orderId")
        start, end = ctx.optional_int("startTime"), ctx.optional_int("endTime")
        if start is not None and end is not None and end - start > ALL_ORDERS_WINDOW_MS:
            raise errors.window_too_long(ALL_ORDERS_WINDOW_MS // 3_600_000)
        now = self.ex.now_ms()
        if oid is None or start is not None or end is not None:
            if start is None:
                start = (now if end is None else end) - ALL_ORDERS_WINDOW_MS
            if end is None:
                end = start + ALL_ORDERS_WINDOW_MS
        orders = self.engine.accounts[ctx.account].history(
            spec.symbol if spec else None, oid, start, end, ctx.limit(500, 1000), now
        )
        return [wire.order_json(o, self.specs[o.symbol], with_time=True) for o in orders]

    async def cancel_all(self, ctx: Ctx) -> Any:
        self.engine.cancel_all(ctx.account, ctx.symbol(self.specs).symbol, algo=False)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    async def countdown(self, ctx: Ctx) -> Any:
        symbol = ctx.symbol(self.specs).symbol
        countdown = ctx.integer("countdownTime")
        key = (ctx.account, symbol)
        old = self._countdowns.pop(key, None)
        if old is not None:
            old.cancel()
        if countdown > 0:
            account = ctx.account

            def fire() -> None:
                self._countdowns.pop(key, None)
                self.engine.cancel_all(account, symbol, algo=False)  # the Algo Service's stops stay

            self._countdowns[key] = asyncio.get_running_loop().call_later(countdown / 1000, fire)
        return {"symbol": symbol, "countdownTime": str(countdown)}
