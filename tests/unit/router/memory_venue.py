"""TEST DOUBLE: a small, honest in-memory venue implementing hedge.venue.base.Venue.

The real local exchange is being built on another branch; until it is on main, router tests run
against this. It behaves like Binance where the router cares: client order ids unique among open
orders (-4116), post-only (GTX) rejected with -5022 when it would take, IOC limits sweep the
opposite levels up to their price and expire the rest, cancels of finished/unknown orders raise
-2011, queries return None only for orders it never accepted. Resting orders fill when the test
calls ``trade()``; those fills reach the router as OrderUpdate events on the bus, like a user
stream. Faults are injected per call with ``fail_next``.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from hedge.bus import Bus
from hedge.events import OrderRequest, OrderStatus, OrderType, OrderUpdate, Side, TimeInForce
from hedge.model.instrument import SymbolFilters
from hedge.venue.base import OrderAck
from hedge.venue.errors import (
    DUPLICATE_CLIENT_ORDER_ID,
    POST_ONLY_REJECT,
    OrderNotFound,
    Rejected,
    UnknownOutcome,
    VenueError,
)

LIVE = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


@dataclass
class Fault:
    """Raise ``error`` for the next call of ``op``; ``accept`` = the order was placed anyway."""

    op: str
    error: VenueError
    accept: bool = False


@dataclass
class MemOrder:
    req: OrderRequest
    exchange_id: int
    status: OrderStatus = OrderStatus.NEW
    filled: float = 0.0
    notional: float = 0.0

    def update(self) -> OrderUpdate:
        return OrderUpdate(
            client_order_id=self.req.client_order_id, symbol=self.req.symbol, status=self.status,
            side=self.req.side, exchange_order_id=self.exchange_id, qty=self.req.qty, price=self.req.price,
            filled_qty=self.filled, avg_price=self.notional / self.filled if self.filled else 0.0,
        )


@dataclass
class MemoryVenue:
    bus: Bus
    filters: dict[str, SymbolFilters]
    name: str = "memory"
    bids: list[tuple[float, float]] = field(default_factory=list)  # best first
    asks: list[tuple[float, float]] = field(default_factory=list)
    orders: dict[str, MemOrder] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    on_place: Callable[[OrderRequest], None] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, op: str, error: VenueError, *, accept: bool = False) -> None:
        self.faults.append(Fault(op, error, accept))

    def _fault(self, op: str) -> Fault | None:
        for f in self.faults:
            if f.op == op:
                self.faults.remove(f)
                return f
        return None

    async def _faultable(self, op: str, arg: str) -> None:
        """A call that a queued fault can fail: yields to the loop once, is recorded, then raises the fault."""
        await asyncio.sleep(0)
        self.calls.append((op, arg))
        fault = self._fault(op)
        if fault is not None:
            raise fault.error

    def placed(self) -> list[OrderRequest]:
        return [o.req for o in self.orders.values()]

    def live(self) -> list[MemOrder]:
        return [o for o in self.orders.values() if o.status in LIVE]

    # ---------------------------------------------------------------- Venue protocol

    async def load_filters(self) -> dict[str, SymbolFilters]:
        return dict(self.filters)

    async def place(self, req: OrderRequest) -> OrderAck:
        await asyncio.sleep(0)
        self.calls.append(("place", req.client_order_id))
        if self.on_place is not None:
            self.on_place(req)
        fault = self._fault("place")
        if fault is not None and not fault.accept:
            raise fault.error
        old = self.orders.get(req.client_order_id)
        if old is not None and old.status in LIVE:
            raise Rejected("Duplicate clientOrderId.", code=DUPLICATE_CLIENT_ORDER_ID, http_status=400)
        opposite = self.asks if req.side is Side.BUY else self.bids
        crosses = bool(opposite) and (
            req.price >= opposite[0][0] if req.side is Side.BUY else req.price <= opposite[0][0]
        )
        if req.tif is TimeInForce.GTX and crosses:
            raise Rejected("Due to the order could not be executed as maker, the Post Only order will be rejected.",
                           code=POST_ONLY_REJECT, http_status=400)
        o = MemOrder(req, next(self._ids))
        self.orders[req.client_order_id] = o
        if req.tif is TimeInForce.IOC or req.type is OrderType.MARKET:
            self._sweep(o, opposite)
            o.status = OrderStatus.FILLED if o.filled >= req.qty - 1e-12 else OrderStatus.EXPIRED
        if fault is not None:
            raise fault.error
        return OrderAck(client_order_id=req.client_order_id, symbol=req.symbol, status=o.status,
                        exchange_order_id=o.exchange_id, filled_qty=o.filled,
                        avg_price=o.notional / o.filled if o.filled else 0.0)

    def _sweep(self, o: MemOrder, levels: list[tuple[float, float]]) -> None:
        buy = o.req.side is Side.BUY
        while levels and o.filled < o.req.qty - 1e-12:
            px, qty = levels[0]
            if o.req.type is not OrderType.MARKET and ((px > o.req.price) if buy else (px < o.req.price)):
                break
            take = min(qty, o.req.qty - o.filled)
            o.filled += take
            o.notional += take * px
            if take >= qty - 1e-12:
                levels.pop(0)
            else:
                levels[0] = (px, qty - take)

    async def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        await self._faultable("cancel", client_order_id)
        o = self.orders.get(client_order_id)
        if o is None or o.status not in LIVE:
            raise OrderNotFound("Unknown order sent.", code=-2011, http_status=400)
        o.status = OrderStatus.CANCELED
        return o.update()

    async def query(self, symbol: str, client_order_id: str) -> OrderUpdate | None:
        await self._faultable("query", client_order_id)
        o = self.orders.get(client_order_id)
        return o.update() if o is not None else None

    async def cancel_all(self, symbol: str) -> int:
        await asyncio.sleep(0)
        self.calls.append(("cancel_all", symbol))
        live = [o for o in self.live() if o.req.symbol == symbol]
        for o in live:
            o.status = OrderStatus.CANCELED
            self.bus.publish(o.update())  # the user stream reports each cancel
        return len(live)

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        await asyncio.sleep(0)
        self.calls.append(("open_orders", symbol or ""))
        return [o.update() for o in self.live() if symbol in (None, o.req.symbol)]

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        self.calls.append(("countdown_cancel_all", f"{symbol}:{countdown_ms}"))

    async def close(self) -> None:
        self.calls.append(("close", ""))

    # ---------------------------------------------------------------- market simulation

    def trade(self, price: float, qty: float = 1e9, *, stream: bool = True) -> None:
        """A trade at ``price``: resting orders it reaches fill (up to ``qty``); the user stream reports it
        (unless ``stream`` is False: the stream was down)."""
        for o in self.live():
            reached = price <= o.req.price if o.req.side is Side.BUY else price >= o.req.price
            if not reached or qty <= 0:
                continue
            take = min(qty, o.req.qty - o.filled)
            qty -= take
            o.filled += take
            o.notional += take * o.req.price
            o.status = OrderStatus.FILLED if o.filled >= o.req.qty - 1e-12 else OrderStatus.PARTIALLY_FILLED
            if stream:
                self.bus.publish(o.update())


def unknown(text: str = "Unknown error, please check your request or try again later.") -> UnknownOutcome:
    return UnknownOutcome(text, code=-1000, http_status=503)
