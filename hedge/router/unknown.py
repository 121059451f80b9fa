"""Unknown outcomes: an order whose placement had no definite answer is found, or proven absent.

Owns: the resolution of UNKNOWN orders and the queries by client order id. A placement with no
definite answer (``UnknownOutcome``, a timeout, a reset, a -4116 duplicate id) makes the order
UNKNOWN: it is queried with backoff while the user stream is watched, for at most
``router.unknown_resolve_s`` (at least recvWindow + 2 s: a shorter window could never prove an
order absent; a query refused with Retry-After — 429, a 418 ban — waits that long and the window
starts again after it); found -> adopted (whatever state the exchange reports); proven
absent (not found by a query *asked* once the request is older than recvWindow + 1 s, after which
Binance's matching engine refuses it; an answer arriving late proves nothing about the time it
arrives) -> resent once under the SAME client order id; unresolved -> a critical
``Alert`` and the intent stays blocked. Also the queries of live orders whose state must be
learnt (a cancel that found nothing, a user-stream gap, orders recovered after a restart).

Every answered query is journaled (orders_sent, kind "query": found or not), so the journal shows
the proof behind each resend.

Must never: resend an order that may exist (not found is proof only once the request is too old
to ever be executed), act on a "not found" older than what it learnt meanwhile (the user stream's
NEW of a late placement: closing it would orphan a resting order), resend more than
``MAX_RESENDS`` times, or give up on an order silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hedge.events import Alert, OrderStatus
from hedge.model.clock import Clock
from hedge.router.desk import RESTING, OrderDesk
from hedge.router.records import OrderQuery
from hedge.venue.errors import Retryable

log = logging.getLogger(__name__)

S = OrderStatus
MAX_RESENDS = 1
ABSENT_MARGIN_S = 1.0  # beyond recvWindow: the exchange accepts timestamps up to 1 s ahead of its clock


class UnknownResolver:
    """Finds out what became of the desk's UNKNOWN orders (see the module docstring)."""

    def __init__(self, desk: OrderDesk, *, clock: Clock, backoff: Callable[[int], float], resolve_s: float,
                 recv_window_ms: int) -> None:
        self.desk = desk
        self.clock = clock
        self.backoff = backoff
        self.resolve_s = resolve_s
        # A request older than recvWindow is refused by Binance's matching engine (-5028), so an order
        # not found once this long after its request left can never appear: it is proven absent.
        self.absent_after_s = recv_window_ms / 1000.0 + ABSENT_MARGIN_S
        if resolve_s <= self.absent_after_s + ABSENT_MARGIN_S:
            # A shorter window would give up on every order that never reached the exchange before it
            # could be proven absent: it would never be resent, only alerted as unresolved.
            log.warning("router: unknown_resolve_s %gs is too short to prove an order absent (recvWindow + %gs); "
                        "using %gs", resolve_s, ABSENT_MARGIN_S, self.absent_after_s + 2 * ABSENT_MARGIN_S)
            self.resolve_s = self.absent_after_s + 2 * ABSENT_MARGIN_S
        self.deadlines: dict[str, float] = {}  # client order id -> clock time after which it is unresolved

    def unknown(self, cid: str, reason: str) -> None:
        """The placement of ``cid`` had no definite answer: resolve it."""
        desk = self.desk
        rec = desk.lifecycle.get(cid)
        if rec is None:
            return  # the user stream reported it final and its intent is done: nothing is unknown
        desk.transition(cid, S.UNKNOWN, reason=reason, progress=False)
        if rec.status is not S.UNKNOWN:
            return  # the user stream already told us
        desk.health[rec.symbol].unknown += 1
        log.warning("router: outcome of %s unknown (%s); resolving", cid, reason)
        self.deadlines[cid] = self.clock.now_s() + self.resolve_s
        self.clock.call_later(self.backoff(0), lambda: self._resolve_step(cid, 0, allow_resend=True))

    def watch(self, cid: str) -> None:
        """A recovered order (UNKNOWN since a restart): query it now, within the same deadline."""
        self.deadlines[cid] = self.clock.now_s() + self.resolve_s
        self.desk.spawn(self.query_io(cid, allow_resend=False))

    def requery_live(self) -> None:
        """Query every resting order (the user stream was down: its updates may have been missed)."""
        lifecycle = self.desk.lifecycle
        for cid in list(lifecycle.live_by_intent.values()):
            if lifecycle.orders[cid].status in RESTING:
                self.desk.spawn(self.query_io(cid, allow_resend=False))

    def _resolve_step(self, cid: str, n: int, *, allow_resend: bool) -> None:
        desk = self.desk
        rec = desk.lifecycle.get(cid)
        if rec is None or rec.status is not S.UNKNOWN:
            return  # resolved meanwhile (user stream, cancel answer)
        deadline = self.deadlines.get(cid, 0.0)
        if self.clock.now_s() > deadline:
            self.deadlines.pop(cid, None)
            text = f"order {cid} ({rec.symbol} {rec.side} {rec.qty}) unresolved after {self.resolve_s}s"
            log.error("router: %s; intent %s stays blocked", text, rec.intent_id)
            desk.j_failed.write("unresolved", rec)
            desk.bus.publish(Alert(severity="critical", title="order outcome unknown", text=text,
                                   recv_ns=desk.now_ns()))
            return
        desk.spawn(self.query_io(cid, allow_resend=allow_resend, n=n))

    async def query_io(self, cid: str, *, allow_resend: bool, n: int = 0) -> None:
        desk = self.desk
        rec = desk.lifecycle.get(cid)
        if rec is None:
            return  # finished and forgotten meanwhile
        # "Not found" describes the exchange when it handled the query, at the latest when it was asked:
        # proof is judged at that time and against what the router knew then, never at the answer's arrival.
        asked_s, status0, resends0 = self.clock.now_s(), rec.status, rec.resends
        try:
            u = await desk.venue.query(rec.symbol, cid)
        except Exception as e:
            log.warning("router: query of %s failed (%s)", cid, e)
            wait = self.backoff(n + 1)
            if isinstance(e, Retryable) and e.retry_after_s > 0.0:
                # 429/418: no query may go out before then, so that time proves nothing; the order
                # gets its whole window again once asking is allowed (a ban must not end in "unresolved")
                wait = max(wait, e.retry_after_s)
                if cid in self.deadlines:
                    self.deadlines[cid] = max(self.deadlines[cid], self.clock.now_s() + wait + self.resolve_s)
            if rec.status is S.UNKNOWN:  # bounded by router.unknown_resolve_s (plus any enforced wait)
                self.clock.call_later(wait, lambda: self._resolve_step(cid, n + 1, allow_resend=allow_resend))
            elif rec.live:  # a live order whose state must be learnt (a cancel found nothing, a stream gap)
                self.clock.call_later(wait, lambda: desk.spawn(
                    self.query_io(cid, allow_resend=allow_resend, n=n + 1)) if rec.live else None)
            return
        desk.j_sent.write("query", OrderQuery(
            client_order_id=cid, intent_id=rec.intent_id, symbol=rec.symbol, found=u is not None,
            status=u.status if u is not None else None, filled_qty=u.filled_qty if u is not None else 0.0))
        if u is not None:
            desk.apply(u, publish=True)
            return
        if rec.status is not status0 or rec.resends != resends0:
            # Learnt meanwhile (the user stream's NEW of a placement that was still inside the exchange, a
            # resend): this "not found" is older than what the router knows now. It proves nothing.
            log.info("router: %s not found by a query asked while %s, but %s since: the answer is stale",
                     cid, status0.value, rec.status.value)
            return
        if rec.status is S.UNKNOWN and asked_s < rec.sent_s + self.absent_after_s:
            # "Not found" when asked so soon may be a request still in flight inside the exchange: ask again
            # once it is too old to ever be executed (the answer may arrive after that: it was asked before).
            early = max(0.0, rec.sent_s + self.absent_after_s - self.clock.now_s())
            self.clock.call_later(early, lambda: self._resolve_step(cid, n + 1, allow_resend=allow_resend))
            return
        if rec.status is not S.UNKNOWN and rec.live:
            # A cancel found nothing, and neither does the query: it never reached the book.
            desk.transition(cid, S.CANCELED, reason="proven absent")
        elif rec.status is S.UNKNOWN and allow_resend and rec.resends < MAX_RESENDS:
            desk.lifecycle.resend(cid)
            log.warning("router: %s proven absent; resending under the same id", cid)
            desk.journal_request("resend", rec.request())
            desk.health[rec.symbol].orders += 1
            await desk.place_io(rec)
        elif rec.status is S.UNKNOWN:
            desk.transition(cid, S.REJECTED, reason="proven absent")
