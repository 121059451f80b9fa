"""The dry-run venue: the whole pipeline runs, no order leaves the process.

Owns: ``DryRunVenue``, a ``Venue`` that journals every placement and cancel it is asked for
(logs/orders_dry_run.jsonl: what would have been sent) and answers like an exchange with no
liquidity: a post-only or GTC limit, and a STOP_MARKET (never triggered), rests (NEW) until
cancelled, an IOC expires unfilled. Its
filters come from the caller (the real venue's, loaded read-only, or the bundled exchangeInfo).

Positions: it never fills, so every symbol asked about is reported flat (qty 0), and it has no
fills to report.

Must never: open a network connection or produce a fill (a dry run must not look like trading).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hedge.events import Fill, OrderRequest, OrderStatus, OrderUpdate, Position, TimeInForce
from hedge.model.clock import Clock, LiveClock
from hedge.model.instrument import SymbolFilters
from hedge.state.journal import Journals, JournalWriter
from hedge.venue.base import OrderAck
from hedge.venue.errors import DUPLICATE_CLIENT_ORDER_ID, OrderNotFound, Rejected

_LIVE = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class DryRunVenue:
    name = "dry-run"

    def __init__(self, journals: Journals, filters: dict[str, SymbolFilters], *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or LiveClock()
        self._journal: JournalWriter = journals.writer("orders_dry_run")
        self._filters = dict(filters)
        self._orders: dict[str, OrderUpdate] = {}
        self._ids = itertools.count(1)

    async def load_filters(self) -> dict[str, SymbolFilters]:
        return dict(self._filters)

    async def place(self, req: OrderRequest) -> OrderAck:
        old = self._orders.get(req.client_order_id)
        if old is not None and old.status in _LIVE:
            raise Rejected("Duplicate clientOrderId", code=DUPLICATE_CLIENT_ORDER_ID, http_status=400)
        self._journal.write("place", req)
        status = OrderStatus.EXPIRED if req.tif in (TimeInForce.IOC, TimeInForce.FOK) else OrderStatus.NEW
        upd = OrderUpdate(
            client_order_id=req.client_order_id, symbol=req.symbol, status=status, side=req.side, type=req.type,
            exchange_order_id=next(self._ids), qty=req.qty, price=req.price, reduce_only=req.reduce_only,
            stop_price=req.stop_price, reason="dry run", recv_ns=self.clock.now_ns(),
        )
        self._orders[req.client_order_id] = upd
        return OrderAck(client_order_id=req.client_order_id, symbol=req.symbol, status=status,
                        exchange_order_id=upd.exchange_order_id)

    async def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        upd = self._orders.get(client_order_id)
        if upd is None or upd.symbol != symbol or upd.status not in _LIVE:
            raise OrderNotFound("Unknown order sent.", code=-2011, http_status=400)
        self._journal.write("cancel", {"symbol": symbol, "client_order_id": client_order_id})
        upd = self._orders[client_order_id] = OrderUpdate(
            client_order_id=client_order_id, symbol=symbol, status=OrderStatus.CANCELED, side=upd.side,
            type=upd.type, exchange_order_id=upd.exchange_order_id, qty=upd.qty, price=upd.price,
            reduce_only=upd.reduce_only, stop_price=upd.stop_price, reason="dry run", recv_ns=self.clock.now_ns(),
        )
        return upd

    async def query(self, symbol: str, client_order_id: str) -> OrderUpdate | None:
        upd = self._orders.get(client_order_id)
        return upd if upd is not None and upd.symbol == symbol else None

    async def cancel_all(self, symbol: str) -> int:
        live = [u.client_order_id for u in self._orders.values() if u.symbol == symbol and u.status in _LIVE]
        for cid in live:
            await self.cancel(symbol, cid)
        return len(live)

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        return [u for u in self._orders.values() if u.status in _LIVE and symbol in (None, u.symbol)]

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        self._journal.write("countdown_cancel_all", {"symbol": symbol, "countdown_ms": countdown_ms})

    async def close(self) -> None:
        self._journal.flush()

    async def positions(self, symbols: Sequence[str] | None = None) -> list[Position]:
        now = self.clock.now_ns()
        return [Position(symbol=s, qty=0.0, entry_price=0.0, recv_ns=now) for s in symbols or ()]

    async def recent_fills(self, symbol: str, since_ms: int) -> list[Fill]:
        del symbol, since_ms
        return []
