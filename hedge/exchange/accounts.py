"""Accounts of the local exchange: wallet, positions, orders and executions of one API key.

Owns: ``AccountPosition`` (one symbol's one-way position: signed amount, entry price, leverage,
realized PnL), ``Account`` (the USDT wallet, positions, every order and the open ones, the
client-id indexes, the executions), the bounded history (``MAX_HISTORY`` closed orders and
executions kept), order lookup by id or client id, the order history Binance's ``allOrders``
lists, and the ``Listener`` protocol through which every order and balance change is reported.

Must never: compute prices or margins (the matching engine does, from its markets), or do I/O.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from hedge.exchange.orders import ExecType, Execution, Order

MAX_HISTORY = 100_000  # closed orders and executions kept per account (older ones are forgotten)
UNFILLED_KEPT_MS = 3 * 86_400_000  # allOrders no longer lists a canceled/expired order with no fill after this
DEFAULT_LEVERAGE = 20


class AccountPosition(msgspec.Struct, kw_only=True):
    amount: float = 0.0  # signed: > 0 long
    entry_price: float = 0.0
    leverage: int = DEFAULT_LEVERAGE
    realized: float = 0.0  # accumulated realized PnL of this symbol
    update_ms: int = 0


class Account(msgspec.Struct, kw_only=True):
    key: str
    wallet: float
    positions: dict[str, AccountPosition] = msgspec.field(default_factory=dict)
    orders: dict[int, Order] = msgspec.field(default_factory=dict)  # every order, open or closed
    open_orders: dict[int, Order] = msgspec.field(default_factory=dict)  # NEW or PARTIALLY_FILLED
    open_by_client_id: dict[tuple[str, str], int] = msgspec.field(default_factory=dict)
    last_by_client_id: dict[tuple[str, str], int] = msgspec.field(default_factory=dict)
    fills: list[Execution] = msgspec.field(default_factory=list)

    def position(self, symbol: str) -> AccountPosition:
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = AccountPosition()
        return pos

    def register(self, order: Order) -> None:
        """A new open order: indexed by id and client id (the oldest history forgotten first)."""
        if len(self.orders) > 2 * MAX_HISTORY:
            self.forget_history()
        self.orders[order.order_id] = order
        self.last_by_client_id[(order.symbol, order.client_order_id)] = order.order_id
        self.open_by_client_id[(order.symbol, order.client_order_id)] = order.order_id
        self.open_orders[order.order_id] = order

    def closed(self, order: Order) -> None:
        """``order`` is no longer open (filled, canceled or expired)."""
        self.open_by_client_id.pop((order.symbol, order.client_order_id), None)
        self.open_orders.pop(order.order_id, None)

    def forget_history(self) -> None:
        """Drop the oldest closed orders and executions beyond MAX_HISTORY (open orders are kept)."""
        closed = [oid for oid, o in self.orders.items() if not o.is_open]
        for oid in closed[: max(0, len(closed) - MAX_HISTORY)]:
            o = self.orders.pop(oid)
            if self.last_by_client_id.get((o.symbol, o.client_order_id)) == oid:
                del self.last_by_client_id[(o.symbol, o.client_order_id)]
        if len(self.fills) > MAX_HISTORY:
            del self.fills[: len(self.fills) - MAX_HISTORY]

    def find(self, symbol: str, order_id: int | None, client_order_id: str | None) -> Order | None:
        if order_id is None and client_order_id:
            order_id = self.last_by_client_id.get((symbol, client_order_id))
        order = self.orders.get(order_id) if order_id is not None else None
        return order if order is not None and order.symbol == symbol else None

    def history(
        self, symbol: str | None, order_id: int | None, start: int | None, end: int | None, limit: int, now_ms: int
    ) -> list[Order]:
        """Binance's allOrders, oldest first: the orders of ``symbol`` (None: every symbol) placed in
        [start, end] — from ``order_id`` on the first ``limit``, else the last ``limit`` — less the
        untriggered conditional orders (the algo endpoints list those) and the canceled or expired
        orders with no fill placed more than 3 days ago."""
        def listed(o: Order) -> bool:
            if o.untriggered or (symbol is not None and o.symbol != symbol):
                return False
            if o.status in ("CANCELED", "EXPIRED") and o.filled <= 0 and o.time_ms + UNFILLED_KEPT_MS < now_ms:
                return False
            if order_id is not None and o.order_id < order_id:
                return False
            return (start is None or o.time_ms >= start) and (end is None or o.time_ms <= end)

        out = [o for o in self.orders.values() if listed(o)]
        return out[:limit] if order_id is not None else out[-limit:]


class Listener(Protocol):
    """Receives every change the user-data stream reports."""

    def on_order(self, account: Account, order: Order, exec_type: ExecType, fill: Execution | None) -> None: ...

    def on_balance(self, account: Account, reason: str, symbols: list[str]) -> None: ...
