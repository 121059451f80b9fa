"""Orders of the local exchange: what a client asks for, the order it becomes, and its executions.

Owns: the order vocabulary (sides, types, time in force, working types, execution types),
``NewOrder`` (a client's request, as parsed from REST or built by replay's simulated venue),
``Order`` (an order's state through NEW -> PARTIALLY_FILLED -> FILLED | CANCELED | EXPIRED) and
``Execution`` (one fill of an order), and the tolerance ``EPS`` every quantity comparison uses.
Names are the exchange's own, distinct from the engine's events (``OrderRequest``, ``Fill``).

Must never: hold matching logic or import the engine (``hedge.events``): these are plain values.
"""

from __future__ import annotations

from typing import Literal

import msgspec

OrderSide = Literal["BUY", "SELL"]
OrderKind = Literal["LIMIT", "MARKET", "STOP_MARKET", "TAKE_PROFIT_MARKET", "LIQUIDATION"]
WorkingType = Literal["MARK_PRICE", "CONTRACT_PRICE"]
CONDITIONAL: tuple[str, ...] = ("STOP_MARKET", "TAKE_PROFIT_MARKET")
TimeInForce = Literal["GTC", "IOC", "FOK", "GTX"]
ExecType = Literal["NEW", "TRADE", "CANCELED", "EXPIRED", "CALCULATED"]  # CALCULATED: a liquidation fill

EPS = 1e-9


class NewOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A client's order request."""

    symbol: str
    side: OrderSide
    type: OrderKind
    quantity: float
    price: float = 0.0
    time_in_force: TimeInForce = "GTC"
    reduce_only: bool = False
    client_order_id: str = ""
    stop_price: float = 0.0  # STOP_MARKET / TAKE_PROFIT_MARKET
    working_type: WorkingType = "CONTRACT_PRICE"
    close_position: bool = False  # close whatever the position is at trigger (quantity 0)

    def closes_only_request(self) -> bool:
        return self.reduce_only or self.close_position


class Order(msgspec.Struct, kw_only=True):
    order_id: int
    client_order_id: str
    account: str
    symbol: str
    side: OrderSide
    type: OrderKind
    time_in_force: TimeInForce
    price: float
    quantity: float
    reduce_only: bool
    time_ms: int
    update_ms: int
    status: str = "NEW"
    filled: float = 0.0
    cum_quote: float = 0.0
    queue_ahead: float = 0.0  # estimated market quantity ahead of this order at its price
    orig_type: OrderKind = "LIMIT"  # a triggered stop keeps its original type here; ``type`` is MARKET
    stop_price: float = 0.0
    working_type: WorkingType = "CONTRACT_PRICE"
    close_position: bool = False

    @property
    def untriggered(self) -> bool:
        """A conditional order still waiting for its trigger (an algo order, not in the matching engine)."""
        return self.type in CONDITIONAL

    @property
    def closes_only(self) -> bool:
        """Reduce-only semantics: never opens or flips a position."""
        return self.reduce_only or self.close_position

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled

    @property
    def avg_price(self) -> float:
        return self.cum_quote / self.filled if self.filled > 0 else 0.0

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


class Execution(msgspec.Struct, frozen=True, kw_only=True):
    """One fill of an order."""

    trade_id: int
    order_id: int
    client_order_id: str
    symbol: str
    side: OrderSide
    price: float
    qty: float
    maker: bool
    commission: float
    realized_pnl: float
    time_ms: int
