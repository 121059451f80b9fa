"""The order-request log of the local exchange: every order request received and its outcome.

Owns: ``OrderLogEntry`` (one per order request — POST, DELETE, and GET: a query of one order —
with its outcome: HTTP status, Binance code, order id and status, fault applied) and ``OrderLog``
(the newest ``MAX_ORDER_LOG`` entries, numbered). Tests read it through ``GET /_hedge/orders`` to
prove that no order was duplicated.

Must never: change an order; it only records what the order routes did.
"""

from __future__ import annotations

import msgspec

MAX_ORDER_LOG = 200_000


class OrderLogEntry(msgspec.Struct, kw_only=True):
    seq: int
    time_ms: int
    account: str
    method: str  # POST (new order), DELETE (cancel) or GET (query of one order)
    symbol: str
    side: str
    type: str
    client_order_id: str
    http_status: int  # 0 = connection closed with no answer
    code: int = 0
    msg: str = ""
    order_id: int = 0
    status: str = ""
    fault: str = ""
    sent_ms: int = 0  # the request's own ``timestamp`` (when the client sent it; 0 = none)


class OrderLog:
    def __init__(self) -> None:
        self.entries: list[OrderLogEntry] = []
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        if len(self.entries) >= MAX_ORDER_LOG:
            del self.entries[: MAX_ORDER_LOG // 2]
        return self._seq
