"""Recovery at start: the orders a previous process left pending are adopted and their fate learnt.

Owns: turning each open entry of the pending-orders record into an UNKNOWN ``OrderRecord`` (its
age from the request's timestamp, so "not found" is proof of absence once it is old enough),
marking its intent as acted on, and handing it to the unknown-outcome resolver for a query.

Design: a recovered order is never resent (its intent is stale): found live -> cancelled by the
executor's progress ("recovery"); found final -> recorded; proven absent -> REJECTED.

Must never: resend a recovered order, or execute its intent again.
"""

from __future__ import annotations

import logging

from hedge.events import OrderStatus
from hedge.model.clock import Clock
from hedge.router.desk import OrderDesk
from hedge.router.lifecycle import OrderRecord
from hedge.router.unknown import UnknownResolver

log = logging.getLogger(__name__)


def recover_pending(desk: OrderDesk, resolver: UnknownResolver, clock: Clock) -> int:
    """Adopt the orders a previous process left pending and query them; how many there were."""
    entries = desk.pending.load()
    for e in entries:
        assert e.request is not None
        req = e.request
        rec = OrderRecord(
            client_order_id=req.client_order_id, intent_id=req.intent_id, symbol=req.symbol, side=req.side,
            type=req.type, tif=req.tif, qty=req.qty, price=req.price, reduce_only=req.reduce_only,
            stop_price=req.stop_price, stop_on_mark=req.stop_on_mark, close_position=req.close_position,
            slice_no=e.slice_no, status=OrderStatus.UNKNOWN, reason="recovered after restart",
        )
        age_s = (clock.now_ns() - req.recv_ns) / 1e9 if req.recv_ns else resolver.absent_after_s
        rec.sent_s = clock.now_s() - age_s
        desk.lifecycle.adopt(rec)
        desk.remember(req.intent_id)
        resolver.watch(rec.client_order_id)
    if entries:
        log.warning("router: recovering %d pending order(s) from a previous run", len(entries))
    return len(entries)
