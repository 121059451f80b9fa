"""Order lifecycle: one state machine per order, deterministic client order ids, one live order per intent.

Owns: the legal transitions between ``OrderStatus`` values, the record of every order this
process sent (``OrderRecord``), the map intent -> its live order, and the counters of refused
transitions.

States (``hedge.events.OrderStatus``)::

    PENDING --ack--> NEW --fill--> PARTIALLY_FILLED --fill--> FILLED
       |              \\----------------------------------------> CANCELED | EXPIRED
       |--definite refusal--> REJECTED
       |--no definite answer--> UNKNOWN --query/user stream--> (any state the exchange reports)
                                   \\--proven absent--> PENDING (resent under the SAME id) | REJECTED

An ack may already be final (an IOC comes back FILLED or EXPIRED), so PENDING and UNKNOWN may
jump to any state the exchange reports. An update that goes backwards (the REST ack NEW arriving
after the user stream's FILLED, a smaller filled quantity) is *stale*: a reordering, refused and
counted. Any other transition the table forbids (FILLED -> CANCELED, NEW -> REJECTED) is
*illegal*: refused and counted. Neither is ever applied; fill quantities never decrease.

Client order ids are a pure function of (intent id, slice, attempt): ``h<16 hex>-<slice>-<attempt>``
(<= 36 chars, Binance's ``^[.A-Z:/a-z0-9_-]{1,36}$``). A restarted process regenerates the same
id for the same intent, and Binance refuses a second open order with the same id (-4116), so a
crash can never double an order.

Must never: let one intent have two live orders, or forget an order whose outcome is unknown.
"""

from __future__ import annotations

import enum
import re
from hashlib import blake2b

import msgspec

from hedge.events import OrderRequest, OrderStatus, OrderType, Side, TimeInForce

S = OrderStatus
CLIENT_ID_RE = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
LIVE = frozenset({S.PENDING, S.UNKNOWN, S.NEW, S.PARTIALLY_FILLED})
_REPORTED = frozenset({S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED, S.REJECTED})

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: _REPORTED | {S.UNKNOWN},
    S.UNKNOWN: _REPORTED | {S.PENDING},
    S.NEW: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.CANCELED, S.EXPIRED}),
    S.FILLED: frozenset(),
    S.CANCELED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REJECTED: frozenset(),
}
# How far along an order is; an update to a lower rank than the current one is stale.
_RANK = {S.PENDING: 0, S.UNKNOWN: 0, S.NEW: 1, S.PARTIALLY_FILLED: 2}


_ENGINE_ID_RE = re.compile(r"^h[0-9a-f]{16}-\d+-\d+$")


def is_engine_order_id(cid: str) -> bool:
    """True for a client order id of ``client_order_id``'s format (sent by this engine, maybe an earlier process)."""
    return _ENGINE_ID_RE.match(cid) is not None


def order_id_prefix(intent_id: str) -> str:
    """The part of every client order id of ``intent_id`` that depends on the intent (its hash): an
    execution computes it once for all its orders (``client_order_id_at``)."""
    return f"h{blake2b(intent_id.encode(), digest_size=8).hexdigest()}"


def client_order_id(intent_id: str, slice_no: int, attempt: int) -> str:
    """The deterministic client order id of one attempt of one slice of an intent."""
    return client_order_id_at(order_id_prefix(intent_id), slice_no, attempt)


def client_order_id_at(prefix: str, slice_no: int, attempt: int) -> str:
    """``client_order_id`` from the intent's ``order_id_prefix``."""
    cid = f"{prefix}-{slice_no}-{attempt}"
    # "h", hex digits, decimal digits and dashes are all in CLIENT_ID_RE's class: only the length can fail
    if len(cid) > 36:
        raise ValueError(f"client order id {cid!r} is not valid for Binance (slice/attempt too large?)")
    return cid


class Outcome(enum.Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # same state, nothing new
    STALE = "stale"  # the order is already further along
    ILLEGAL = "illegal"  # the table forbids it
    UNKNOWN_ORDER = "unknown_order"  # not an order of this process


class LiveOrderExists(RuntimeError):
    """An intent already has a live order; a second one is refused."""


class OrderRecord(msgspec.Struct, kw_only=True, gc=False):
    """This process's view of one order (mutable; owned by ``Lifecycle``). ``gc=False``: it holds only
    scalars and strings (no cycle), so the cyclic GC never scans it (fewer, shorter gen-0 passes)."""

    client_order_id: str
    intent_id: str
    symbol: str
    side: Side
    type: OrderType
    tif: TimeInForce
    qty: float
    price: float
    reduce_only: bool = False
    stop_price: float = 0.0  # a protective STOP_MARKET (closes the whole position)
    stop_on_mark: bool = True
    close_position: bool = False
    slice_no: int = 0
    status: OrderStatus = S.PENDING
    exchange_order_id: int = 0
    filled_qty: float = 0.0
    avg_price: float = 0.0
    reject_code: int = 0
    reason: str = ""
    resends: int = 0
    created_s: float = 0.0
    sent_s: float = 0.0  # when the last request for it left (router clock)
    acked_s: float = 0.0
    fallback: bool = False  # the taker IOC of a maker-first slice (orders_executed "fallback")

    @property
    def live(self) -> bool:
        return self.status in LIVE

    def request(self) -> OrderRequest:
        return OrderRequest(
            client_order_id=self.client_order_id,
            intent_id=self.intent_id,
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            qty=self.qty,
            price=self.price,
            tif=self.tif,
            reduce_only=self.reduce_only,
            stop_price=self.stop_price,
            stop_on_mark=self.stop_on_mark,
            close_position=self.close_position,
        )


class LifecycleStats(msgspec.Struct, kw_only=True):
    opened: int = 0
    applied: int = 0
    duplicate: int = 0
    stale: int = 0
    illegal: int = 0
    unknown_order: int = 0
    resent: int = 0


class Lifecycle:
    """Every order of this process, its state machine, and the intent -> live order map."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderRecord] = {}
        self.live_by_intent: dict[str, str] = {}
        self.stats = LifecycleStats()

    def get(self, cid: str) -> OrderRecord | None:
        return self.orders.get(cid)

    def live_order(self, intent_id: str) -> OrderRecord | None:
        cid = self.live_by_intent.get(intent_id)
        return self.orders[cid] if cid is not None else None

    def open(self, req: OrderRequest, *, slice_no: int = 0, now_s: float = 0.0) -> OrderRecord:
        """Record a new order in PENDING. Refuses a second live order for the same intent."""
        live = self.live_by_intent.get(req.intent_id)
        if live is not None:
            raise LiveOrderExists(f"intent {req.intent_id} already has live order {live}")
        if req.client_order_id in self.orders:
            raise LiveOrderExists(f"client order id {req.client_order_id} was already used")
        rec = OrderRecord(
            client_order_id=req.client_order_id,
            intent_id=req.intent_id,
            symbol=req.symbol,
            side=req.side,
            type=req.type,
            tif=req.tif,
            qty=req.qty,
            price=req.price,
            reduce_only=req.reduce_only,
            stop_price=req.stop_price,
            stop_on_mark=req.stop_on_mark,
            close_position=req.close_position,
            slice_no=slice_no,
            created_s=now_s,
        )
        self.orders[rec.client_order_id] = rec
        self.live_by_intent[rec.intent_id] = rec.client_order_id
        self.stats.opened += 1
        return rec

    def adopt(self, rec: OrderRecord) -> None:
        """Take over an order found at start-up (from the pending record); it counts as live."""
        self.orders[rec.client_order_id] = rec
        if rec.live:
            self.live_by_intent[rec.intent_id] = rec.client_order_id

    def apply(
        self,
        cid: str,
        status: OrderStatus,
        *,
        filled_qty: float | None = None,
        avg_price: float | None = None,
        exchange_order_id: int = 0,
        reject_code: int = 0,
        reason: str = "",
    ) -> Outcome:
        """Move order ``cid`` to ``status`` if the state machine allows it."""
        rec = self.orders.get(cid)
        if rec is None:
            self.stats.unknown_order += 1
            return Outcome.UNKNOWN_ORDER
        cur = rec.status
        if filled_qty is not None and filled_qty < rec.filled_qty:
            self.stats.stale += 1
            return Outcome.STALE
        more_filled = filled_qty is not None and filled_qty > rec.filled_qty
        if status is cur and not more_filled:
            self.stats.duplicate += 1
            return Outcome.DUPLICATE
        if status not in TRANSITIONS[cur]:
            if not cur.is_final and status in _RANK and _RANK[status] < _RANK[cur]:
                self.stats.stale += 1
                return Outcome.STALE
            if cur.is_final and status is not cur and not status.is_final:
                self.stats.stale += 1  # e.g. the ack's NEW after the stream's FILLED
                return Outcome.STALE
            self.stats.illegal += 1
            return Outcome.ILLEGAL
        rec.status = status
        if filled_qty is not None:
            rec.filled_qty = filled_qty
        if avg_price is not None and avg_price > 0.0:
            rec.avg_price = avg_price
        if exchange_order_id:
            rec.exchange_order_id = exchange_order_id
        if reject_code:
            rec.reject_code = reject_code
        if reason:
            rec.reason = reason
        if not rec.live and self.live_by_intent.get(rec.intent_id) == cid:
            del self.live_by_intent[rec.intent_id]
        self.stats.applied += 1
        return Outcome.APPLIED

    def forget(self, cid: str) -> None:
        """Drop a final order's record (its intent is done); a live one is never forgotten."""
        rec = self.orders.get(cid)
        if rec is not None and not rec.live:
            del self.orders[cid]

    def resend(self, cid: str) -> OrderRecord:
        """UNKNOWN and proven absent -> PENDING again, under the same client order id."""
        rec = self.orders[cid]
        if rec.status is not S.UNKNOWN:
            raise ValueError(f"{cid}: only an UNKNOWN order proven absent may be resent (is {rec.status})")
        rec.status = S.PENDING
        rec.resends += 1
        self.stats.resent += 1
        return rec
