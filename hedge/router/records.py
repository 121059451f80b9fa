"""What the router writes to its journals: one typed record per line.

Owns: the payloads of logs/orders_sent.jsonl (every request, written before it is sent; kind
"query": the answer to a query by client order id of an order whose outcome or state was unknown),
orders_denied.jsonl (refused locally by the exchange filters, never sent),
orders_executed.jsonl (every order that filled, fully or partly), orders_success.jsonl and
orders_failed.jsonl (one line per approved intent, when its execution ends).

Must never: hold a secret or a wire-format field name.
"""

from __future__ import annotations

import msgspec

from hedge.events import OrderStatus, Side, TimeInForce


class OrderQuery(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a query by client order id: ``found`` False = the exchange has no such order."""

    client_order_id: str
    intent_id: str
    symbol: str
    found: bool
    status: OrderStatus | None = None  # the exchange's, when found
    filled_qty: float = 0.0


class DeniedOrder(msgspec.Struct, frozen=True, kw_only=True):
    intent_id: str
    symbol: str
    side: Side
    qty: float
    price: float
    filter: str
    reason: str


class ExecutedOrder(msgspec.Struct, frozen=True, kw_only=True):
    client_order_id: str
    intent_id: str
    symbol: str
    side: Side
    tif: TimeInForce
    qty: float
    price: float
    filled_qty: float
    avg_price: float
    maker: bool
    status: OrderStatus
    exchange_order_id: int = 0
    fallback: bool = False  # the taker IOC after a maker-first attempt (jq 'select(.fallback==true)')


class ExecutionReport(msgspec.Struct, frozen=True, kw_only=True):
    """The end of one approved intent: how much of it was done, how, and at what cost."""

    intent_id: str
    symbol: str
    side: Side
    outcome: str  # "filled" | "partial" | "failed"
    qty: float  # wanted (after the approval's cap)
    filled_qty: float
    avg_price: float
    arrival_mid: float
    slippage_bps: float  # signed cost vs the arrival mid (positive = paid)
    maker_qty: float
    slices: int
    orders: int
    fell_back: bool
    reasons: tuple[str, ...] = ()
