"""The Venue protocol: the only way the router talks to an exchange.

Owns: the small async interface every venue implements (the ccxt Binance adapter, the dry-run
venue, the in-process simulated venue) and ``OrderAck``, the synchronous answer to a placement.

Contract (what the router relies on):
- ``place`` returns an ``OrderAck`` only when the exchange gave a definite answer that the order
  exists (any status, including an IOC's FILLED/EXPIRED). A definite refusal raises
  ``Rejected`` (with the Binance code); anything without a definite answer raises
  ``UnknownOutcome``; a failure that certainly did not execute raises ``Retryable``/
  ``RateLimited``. It never retries an order placement by itself.
- ``cancel`` returns the order's state after the cancel (CANCELED, or FILLED/EXPIRED when it had
  already finished) and raises ``OrderNotFound`` when the exchange does not know the order.
- ``query`` returns ``None`` only when the order is proven absent (the exchange answered "no
  such order"); a failed query raises, it never returns ``None``.
- Later changes of an order (fills, cancels, expiries) arrive as ``OrderUpdate``/``Fill`` events
  on the bus from the venue's user stream; they are not returned by these methods.
- ``load_filters`` returns the exact trading rules of every tradable symbol.
- ``cancel_all`` cancels every open order of one symbol and returns how many there were;
  ``countdown_cancel_all`` arms the exchange's dead-man countdown (0 disarms it).
- ``close`` releases the venue's connections (called once, at shutdown, by its owner).
- ``positions(symbols)`` returns the account's positions (one-way mode, signed qty). For every
  symbol in ``symbols`` that the exchange answered for, there is an entry — qty 0 when flat:
  that entry is the proof of flatness reconciliation relies on. A symbol missing from the answer
  is *unreported* and is never read as flat. ``symbols=None``: every symbol the exchange
  reports (flat ones may be left out). A failed request raises; it never returns a partial list.
  ``ts_ms`` is the exchange's update time of the position when it gives one (0 = unknown).
- ``recent_fills(symbol, since_ms)`` returns the account's fills (trades) of ``symbol`` with an
  exchange time at or after ``since_ms``, oldest first, each with its ``trade_id`` and
  ``exchange_order_id`` and, when the exchange can tell, its ``client_order_id`` ("" otherwise).

Must never: block the event loop, log or return a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import msgspec

from hedge.events import Fill, OrderRequest, OrderStatus, OrderUpdate, Position
from hedge.model.instrument import SymbolFilters


class OrderAck(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The exchange's definite answer to a placement: the order exists, in ``status``."""

    client_order_id: str
    symbol: str
    status: OrderStatus
    exchange_order_id: int = 0
    filled_qty: float = 0.0
    avg_price: float = 0.0
    ts_ms: int = 0


class Venue(Protocol):
    """An exchange as the router sees it (see the module docstring for the contract)."""

    name: str

    async def place(self, req: OrderRequest) -> OrderAck: ...

    async def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate: ...

    async def query(self, symbol: str, client_order_id: str) -> OrderUpdate | None: ...

    async def cancel_all(self, symbol: str) -> int: ...

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]: ...

    async def load_filters(self) -> dict[str, SymbolFilters]: ...

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None: ...

    async def close(self) -> None: ...

    async def positions(self, symbols: Sequence[str] | None = None) -> list[Position]: ...

    async def recent_fills(self, symbol: str, since_ms: int) -> list[Fill]: ...
