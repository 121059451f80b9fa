"""The order desk: every order this process sent, the venue calls that send and cancel them, and
what is learnt about them applied in one place.

Owns: the ``Lifecycle`` (one state machine per order), the pending-orders record, the router
journals (durable: ``orders_sent.jsonl``, each request before it is sent, and
``order_updates.jsonl``, each applied state change; an order leaves only once every durable line
written before its request — the fills and answers its decision rests on — is on disk), the
``RouterHealth`` counters, the memory of intents already acted on (a replayed
approval is refused), the placement and cancel calls to the venue, and ``transition``: the one
door through which a state change enters (published as ``OrderUpdate`` when it was learnt over
REST, then handed to whoever drives that order through ``on_progress``).

Design: the desk never decides what to send next. A placement without a definite answer goes to
the unknown-outcome resolver, a placement that certainly did not execute to ``on_not_sent`` (the
executor retries it), and every applied change to ``on_progress`` (the stage dispatches it to the
executor or the protective stops). Venue calls run in tasks started by ``spawn`` (a placement by
``send``: its first step runs at once, up to the request written; see router/stage.py); their
results are fed back synchronously.

Clock: the engine's ``Clock`` for every stamp, timer and duration, the order-ack latency too
(live: monotonic nanoseconds; replay: event time, so ``router_health.json`` is the same on every
run of the same recording).

Must never: decide what to send next, resend an order (only the resolver may, once proven
absent), or let a state change bypass ``transition``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from hedge.bus import Bus
from hedge.events import (
    Alert,
    OrderCancel,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    TimeInForce,
)
from hedge.handoff import settled
from hedge.model.clock import Clock
from hedge.router.filters import Denial
from hedge.router.health import RouterHealthBook
from hedge.router.lifecycle import Lifecycle, OrderRecord, Outcome
from hedge.router.pending import PendingOrders
from hedge.router.records import DeniedOrder, ExecutedOrder
from hedge.state.journal import ORDER_UPDATES, Journals, encode_payload
from hedge.venue.base import OrderAck, Venue
from hedge.venue.errors import (
    DUPLICATE_CLIENT_ORDER_ID,
    AuthError,
    OrderNotFound,
    Rejected,
    Retryable,
    VenueError,
)

if TYPE_CHECKING:
    from hedge.router.unknown import UnknownResolver

log = logging.getLogger(__name__)

S = OrderStatus
RESTING = (S.NEW, S.PARTIALLY_FILLED)
# Intent ids remembered to refuse a replayed approval (a second RiskDecision for an intent already
# executed). Safe: a duplicate decision follows the first within the bus's chain or a gate retry
# (seconds); 4,096 intents that reached the router take >= 3.4 min even at Binance's order-rate limit
# (1,200 orders/min, one order at least per intent). Was 100,000 (~11 MB, never full in an hour:
# the soak's RSS grew with every intent).
_FINISHED_MEMORY = 4096

Spawn = Callable[[Coroutine[Any, Any, None]], None]


class OrderDesk:
    """The router's orders and the venue calls on them (see the module docstring)."""

    def __init__(
        self,
        bus: Bus,
        venue: Venue,
        journals: Journals,
        *,
        clock: Clock,
        pending: PendingOrders,
        backoff: Callable[[int], float],
        spawn: Spawn,
        spawn_now: Spawn | None = None,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        self.bus = bus
        self.venue = venue
        self.clock = clock
        self.now_ns = clock.now_ns  # stamps recv_ns of what the router publishes (replay: event time)
        self.pending = pending
        self.backoff = backoff
        self.spawn = spawn
        self.spawn_now = spawn_now or spawn  # a placement's task, started eagerly (the stage's)
        self.lifecycle = lifecycle or Lifecycle()
        self.health = RouterHealthBook()
        self.j_sent = journals.writer("orders_sent")
        self.j_updates = journals.writer(ORDER_UPDATES)
        self.group = journals.group  # group commit of the durable journals (orders, answers, fills)
        self._barriers: dict[str, int] = {}  # cid -> durable lines written before its request
        self.j_denied = journals.writer("orders_denied")
        self.j_executed = journals.writer("orders_executed")
        self.j_success = journals.writer("orders_success")
        self.j_failed = journals.writer("orders_failed")
        self._finished: dict[str, None] = {}  # insertion-ordered set of finished/recovered intent ids
        # wired by the stage once every collaborator exists: who resolves an unknown outcome, who drives
        # an order after each applied change, who retries a placement that certainly did not execute
        self.resolver: UnknownResolver
        self.on_progress: Callable[[str], None]
        self.on_not_sent: Callable[[str, Retryable], None]

    # ------------------------------------------------------------------ intents acted on

    def remember(self, iid: str) -> None:
        self._finished[iid] = None
        if len(self._finished) > _FINISHED_MEMORY:
            del self._finished[next(iter(self._finished))]

    def seen(self, iid: str) -> bool:
        return iid in self._finished

    # ------------------------------------------------------------------ state changes

    def transition(
        self,
        cid: str,
        status: OrderStatus,
        *,
        filled_qty: float | None = None,
        avg_price: float | None = None,
        exchange_order_id: int = 0,
        reject_code: int = 0,
        reason: str = "",
        publish: bool = True,
        progress: bool = True,
    ) -> None:
        """Apply one state change; if it is news, publish it (when it did not come from the bus) and react.

        Outcomes learnt over REST (acks, rejects, cancel and query answers) are published as
        ``OrderUpdate`` so that risk, telemetry and journals see them: Binance's user stream never
        reports a rejected order. When the user stream later repeats a state it is a duplicate.
        """
        out = self.lifecycle.apply(cid, status, filled_qty=filled_qty, avg_price=avg_price,
                                   exchange_order_id=exchange_order_id, reject_code=reject_code, reason=reason)
        if out is not Outcome.APPLIED:
            return
        rec = self.lifecycle.orders[cid]
        update = OrderUpdate(
            client_order_id=cid, symbol=rec.symbol, status=rec.status, side=rec.side, type=rec.type,
            exchange_order_id=rec.exchange_order_id, qty=rec.qty, price=rec.price, filled_qty=rec.filled_qty,
            avg_price=rec.avg_price, reduce_only=rec.reduce_only, reject_code=rec.reject_code, reason=rec.reason,
            recv_ns=self.now_ns(),
        )
        self.j_updates.write("update", update, update.recv_ns)  # the answer, in the audit trail
        if publish:
            self.bus.publish(update)
        if progress:
            self.on_progress(cid)

    def apply(self, u: OrderUpdate, *, publish: bool) -> None:
        self.transition(u.client_order_id, u.status, filled_qty=u.filled_qty, avg_price=u.avg_price,
                        exchange_order_id=u.exchange_order_id, reject_code=u.reject_code, reason=u.reason,
                        publish=publish)

    def _apply_ack(self, ack: OrderAck) -> None:
        self.transition(ack.client_order_id, ack.status, filled_qty=ack.filled_qty, avg_price=ack.avg_price,
                        exchange_order_id=ack.exchange_order_id)

    def closed(self, rec: OrderRecord) -> None:
        """An order reached a final state: forget the pending record, journal what it did."""
        self.resolver.deadlines.pop(rec.client_order_id, None)
        self.forget_pending(rec.client_order_id)
        if rec.filled_qty > 0.0:
            self.j_executed.write("order", ExecutedOrder(
                client_order_id=rec.client_order_id, intent_id=rec.intent_id, symbol=rec.symbol, side=rec.side,
                tif=rec.tif, qty=rec.qty, price=rec.price, filled_qty=rec.filled_qty,
                avg_price=rec.avg_price or rec.price, maker=rec.tif is TimeInForce.GTX, status=rec.status,
                exchange_order_id=rec.exchange_order_id, fallback=rec.fallback,
            ))

    def journal_request(self, kind: str, req: OrderRequest) -> bytes:
        """Journal a request about to be sent ("request", "resend"), noting the durable lines before it;
        returns the request encoded (``send`` reuses it for the pending record: one encode per order)."""
        self._barriers[req.client_order_id] = self.group.barrier_seq  # the answers and fills before it
        body = encode_payload(req)
        self.j_sent.write_encoded(kind, body)
        return body

    def forget_pending(self, cid: str) -> None:
        try:
            self.pending.remove(cid)
        except OSError as exc:  # a full disk: the entry stays open and is queried after a restart
            log.error("router: cannot close pending record %s: %s", cid, exc)

    def deny(self, intent: OrderIntent, qty: float, price: float, d: Denial) -> None:
        self.health[intent.symbol].denied += 1
        self.j_denied.write("denied", DeniedOrder(
            intent_id=intent.intent_id, symbol=intent.symbol, side=intent.side, qty=qty, price=price,
            filter=d.filter, reason=d.reason,
        ))

    def not_sent(self, cid: str, e: Retryable) -> bool:
        """A failure that certainly did not execute: close the order. False when its outcome was already
        known (the user stream was faster than this answer): nothing to retry."""
        rec = self.lifecycle.get(cid)
        if rec is None or rec.status is not S.PENDING:
            return False
        self.transition(cid, S.REJECTED, reject_code=e.code, reason=f"not sent: {e.reason}", progress=False)
        self.forget_pending(cid)
        return True

    # ------------------------------------------------------------------ venue calls

    def send(self, rec: OrderRecord, req: OrderRequest, slice_no: int, body: bytes) -> None:
        """Send a new order (its request journaled and published; ``body``: the request as
        ``journal_request`` encoded it): in its task, its pending record, then the venue call. A
        pending record that cannot be written rejects it, never sent. The task's first step runs now
        (``spawn_now``): the pending record, the request line written and, when nothing is to wait
        for, the request itself, from inside the decision."""
        self.spawn_now(self.place_io(rec, req, slice_no, body))

    async def place_io(self, rec: OrderRecord, req: OrderRequest | None = None, slice_no: int = 0,
                       body: bytes | None = None) -> None:
        """Place ``rec`` (``req``: its request as the decision built it, else rebuilt from the record).
        ``body`` (a new order's, from ``send``): its encoded request, for the pending record written
        first (one coroutine per order: a wrapper around this one cost a coroutine and a frame more)."""
        if body is not None and req is not None:
            try:
                self.pending.add(req, slice_no, body)  # before the request leaves: a crash after it finds the order
            except OSError as exc:
                log.error("router: cannot persist pending order %s (%s); not sent", req.client_order_id, exc)
                await asyncio.sleep(0)  # the outcome on the task's own turn, not inside the decision handler
                self.transition(req.client_order_id, S.REJECTED, reason=f"not sent: pending record failed: {exc}")
                return
        cid = rec.client_order_id
        group = self.group
        group.write()  # its request line in the file before it leaves (synced meanwhile, from the next turn)
        barrier = self._barriers.pop(cid, group.seq)
        if barrier > group.synced_seq:  # (``synced``'s own first test: no coroutine when nothing is to wait for)
            await group.synced(barrier)  # what the decision rests on: on disk
        t0_ns = self.clock.now_ns()
        rec.sent_s = self.clock.now_s()
        req = req if req is not None else rec.request()
        try:
            ack = await settled(self.venue.place(req))  # its outcome on the task's own turn
        except Rejected as e:
            if e.code == DUPLICATE_CLIENT_ORDER_ID:  # an order with this id exists: find it
                self.resolver.unknown(cid, f"duplicate client order id ({e.reason})")
            else:
                self.health[rec.symbol].rejects += 1
                self.transition(cid, S.REJECTED, reject_code=e.code, reason=e.reason)
        except Retryable as e:
            if self.not_sent(cid, e):
                self.on_not_sent(cid, e)
        except AuthError as e:
            self.transition(cid, S.REJECTED, reject_code=e.code, reason=f"auth: {e.reason}")
            self.bus.publish(Alert(severity="critical", title="venue auth failed", text=str(e), recv_ns=self.now_ns()))
        except Exception as e:  # UnknownOutcome, a timeout, a reset, a bug below: the order may exist
            self.resolver.unknown(cid, f"{type(e).__name__}: {e}")
        else:
            self.health[rec.symbol].ack_ms.append((self.clock.now_ns() - t0_ns) / 1e6)
            rec.acked_s = self.clock.now_s()
            self._apply_ack(ack)

    def cancel(self, rec: OrderRecord, reason: str) -> None:
        self.bus.publish(OrderCancel(client_order_id=rec.client_order_id, symbol=rec.symbol, reason=reason,
                                     recv_ns=self.now_ns()))
        self.spawn(self._cancel_io(rec, 0))

    async def _cancel_io(self, rec: OrderRecord, attempt: int) -> None:
        cid = rec.client_order_id
        try:
            u = await self.venue.cancel(rec.symbol, cid)
        except OrderNotFound:
            # Already finished (filled or expired) or not yet visible: learn its state by query.
            await self.resolver.query_io(cid, allow_resend=False)
            return
        except VenueError as e:
            if not rec.live:
                return
            delay = max(getattr(e, "retry_after_s", 0.0), self.backoff(attempt))
            log.warning("router: cancel of %s failed (%s); retry in %.2fs", cid, e, delay)
            self.clock.call_later(delay, lambda: self.spawn(self._cancel_io(rec, attempt + 1)) if rec.live else None)
            return
        self.apply(u, publish=True)
