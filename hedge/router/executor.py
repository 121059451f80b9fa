"""The execution state machine: an approved intent -> maker-first orders, reprice, taker fallback, TWAP.

Owns: every ``Execution`` in progress, the router's view of the market it prices from (books,
mark prices, the exchange filters), its orders, timers and fill accounting, acting out this plan
(the decisions in it, which leg a slice starts with, when the maker leg reprices or gives up and
what follows an order's end, are ``SlicePolicy``'s, in slice_policy.py):
1. Maker: a post-only (GTX) limit at the touch (buy at the bid, sell at the ask), or
   ``router.maker_offset_ticks`` behind it. When the touch moves away by ``router.reprice_ticks``
   the order is cancelled and re-placed at the new touch; after ``router.max_reprices`` such
   reprices in a slice (0 = no limit) the next one falls back to the taker instead.
   A -5022 (would have taken) is repriced at the current touch, and at least one tick more
   passive than the rejected price, up to ``router.max_post_only_rejects`` times; the next one
   falls back.
2. Taker fallback (after ``router.maker_timeout_s`` from the slice start, after too many -5022,
   or at once for ``urgent`` intents): an IOC limit capped at the slippage model's budget away
   from the *arrival* mid. What it cannot fill within the cap stays unfilled and is reported.
3. Mode: ``taker`` skips step 1 (every slice is the capped IOC, the baseline); ``auto`` decides per
   slice, from ``AutoRouter``'s expected costs, whether step 1 is worth trying.
4. TWAP: an intent whose notional is >= ``router.twap.min_notional_usd`` is cut into up to
   ``router.twap.slices`` slices (each large enough for the exchange's minimums), slice i due at
   ``i * duration_s / slices`` after arrival; each slice is maker-first. A slice never starts
   before the previous one has finished: one intent never has two live orders.
5. A flatten (the kill switch's) is one reduce-only MARKET order.
An execution ends with one ``ExecutionReport`` (orders_success / orders_failed) and a
``RouterHealth``.

Design: synchronous; timers go through the injected ``Clock`` (tests and replay advance time).
Orders are sent and cancelled through the ``OrderDesk``; it hands every applied change back
through ``progress``. A retryable failure that certainly did not execute is retried here
(``not_sent``: ``Retry-After`` or backoff, at most ``MAX_SEND_RETRIES``).

Cost (issue 16: the decision, approved intent -> ``OrderRequest`` published, hot ~21 us, was ~35):
the decision does only what the request needs: size, slice, round and check (``OrderFilter``'s
integer fast path), the client order id, the lifecycle record, the orders_sent journal line (in
memory; its encoding is reused for the pending record) and the publish. The pending record (a
system call) and the group commit run in the order's task, before the venue call
(``OrderDesk.send``), whose first step runs inside the decision. Everything an answer reads (the
order counters, the TCA's order entry, the maker timer) is in place before that step: a venue that
answers without suspending delivers its fills inside it. ``rehearse`` runs the pure part of a
decision and keeps nothing (``features.warm_decision_path``, ``hedge.daemon.warm``): live, an
intent's path runs cold, several times its hot cost on this machine; rehearsed every 2 ms it stays warm.

Must never: price from an invalid book, send an order that fails the exchange filters, have two
live orders for one intent, or send anything for an intent that was not approved.
"""

from __future__ import annotations

import logging
import math

from hedge.config import RouterConfig
from hedge.events import (
    BookUpdate,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    RiskDecision,
    Side,
    TimeInForce,
)
from hedge.model.clock import Clock
from hedge.router.auto import AutoRouter
from hedge.router.desk import RESTING, OrderDesk
from hedge.router.execution import Execution, Phase, cancel_timer, next_order, split_slices
from hedge.router.filters import Denial, OrderFilter, Prepared
from hedge.router.lifecycle import Lifecycle, LiveOrderExists, OrderRecord, client_order_id_at
from hedge.router.records import ExecutionReport
from hedge.router.slice_policy import Next, SlicePolicy
from hedge.router.slippage import SlippageModel
from hedge.router.tca import TcaRecorder
from hedge.state.journal import encode_payload
from hedge.venue.errors import RateLimited, Retryable

log = logging.getLogger(__name__)

S = OrderStatus
# the hot path's enum members as module constants: a global read, not an Enum class attribute lookup (~70 ns)
_MAKER, _TAKER, _DONE = Phase.MAKER, Phase.TAKER, Phase.DONE
_IOC = TimeInForce.IOC
MAX_SEND_RETRIES = 5
REHEARSAL_INTENT = "rehearsal"  # the intent id (and strategy) of ``Executor.rehearse``'s request, never sent


class Executor:
    """Drives every approved intent's execution (see the module docstring)."""

    def __init__(self, desk: OrderDesk, cfg: RouterConfig, slippage: SlippageModel, *, clock: Clock,
                 twap: bool, tca: TcaRecorder, auto: AutoRouter | None = None) -> None:
        self.desk = desk
        self.tca = tca
        self.policy = SlicePolicy(cfg, tca, auto)  # each slice's leg; when the maker leg gives up
        self.lifecycle = desk.lifecycle
        self.cfg = cfg
        self.slippage = slippage
        self.clock = clock
        self.twap_enabled = twap
        self.filters: dict[str, OrderFilter] = {}
        self.books: dict[str, BookUpdate] = {}
        self.marks: dict[str, float] = {}
        self.executions: dict[str, Execution] = {}
        self.by_symbol: dict[str, list[Execution]] = {}
        self.by_cid: dict[str, Execution] = {}

    # ------------------------------------------------------------------ arrivals

    def execute(self, d: RiskDecision) -> None:
        """An approved intent (not seen before, not a protective stop): size, slice and start it."""
        intent = d.intent
        iid = intent.intent_id
        filt = self.filters.get(intent.symbol)
        book = self.books.get(intent.symbol)
        valid = book is not None and book.valid
        ref = intent.limit_px if intent.limit_px > 0.0 else (book.mid if book is not None and valid else 0.0)
        qty = min(intent.notional / ref, d.max_qty) if ref > 0.0 and d.max_qty > 0.0 else 0.0  # NaN -> 0
        if filt is None or ref <= 0.0 or not (0.0 < qty < math.inf):
            why = ("no exchange filters" if filt is None else "no valid book" if ref <= 0.0
                   else f"no usable quantity (notional {intent.notional!r}, max_qty {d.max_qty!r})")
            self.desk.deny(intent, 0.0, ref, Denial(filter="INPUT", reason=why))
            self.desk.remember(iid)
            self.desk.j_failed.write("execution", ExecutionReport(
                intent_id=iid, symbol=intent.symbol, side=intent.side, outcome="failed", qty=0.0, filled_qty=0.0,
                avg_price=0.0, arrival_mid=ref, slippage_bps=0.0, maker_qty=0.0, slices=0, orders=0,
                fell_back=False, reasons=(f"denied INPUT: {why}",),
            ))
            return
        arrival = book.mid if book is not None and valid else ref
        twap = self.twap_enabled and not intent.urgent and qty * ref >= self.cfg.twap.min_notional_usd
        slices = split_slices(filt, qty, ref, self.cfg.twap.slices if twap else 1)
        self.start(Execution(intent, sum(slices), slices, filt, arrival, self.clock.now_s()))

    def rehearse(self, symbol: str) -> OrderRequest | None:
        """Run the pure part of a decision on ``symbol`` (a small maker buy at the current book: slice,
        price, filters, client order id, the request, its two encoded lines and an order record in a
        throwaway ``Lifecycle``) and keep nothing: no execution, order record, timer, journal line,
        file write or event. Cache warming (``hedge.daemon.warm``): on this machine code not run for
        a few milliseconds runs many times slower, and an intent's path otherwise runs ~10 times a second."""
        filt = self.filters.get(symbol)
        book = self.books.get(symbol)
        if filt is None or book is None or not book.valid or not book.mid > 0.0:
            return None
        ref = book.mid
        notional = 2.0 * max(float(filt.f.min_notional), float(filt.f.min_qty) * ref)
        intent = OrderIntent(intent_id=REHEARSAL_INTENT, symbol=symbol, side=Side.BUY, notional=notional,
                             strategy=REHEARSAL_INTENT, reason=REHEARSAL_INTENT)
        slices = split_slices(filt, notional / ref, ref, 1)
        ex = Execution(intent, sum(slices), slices, filt, ref, self.clock.now_s())
        _, tif, otype, prep = next_order(ex, book, self.marks.get(symbol) or ref, self.slippage,
                                         self.cfg.maker_offset_ticks)
        if isinstance(prep, Denial):
            return None
        req = self._request(ex, prep, tif, otype)
        body = encode_payload(req)  # the orders_sent line's payload, masked as its writer does
        masker = self.desk.j_sent.masker
        if masker is not None:
            masker.mask_bytes(body)
        self.desk.pending.open_line(req, ex.slice_no, body)  # the pending record's line
        Lifecycle().open(req, slice_no=ex.slice_no, now_s=ex.t0)  # the order record, in a lifecycle of its own
        return req  # (dropped by the warmer)

    def start(self, ex: Execution) -> None:
        intent = ex.intent
        self.executions[intent.intent_id] = ex
        if not ex.market:
            self.tca.started(intent.intent_id, intent.symbol, intent.side, ex.qty, ex.arrival_mid)
        exs = self.by_symbol.get(intent.symbol)
        if exs is None:
            exs = self.by_symbol[intent.symbol] = []
        exs.append(ex)
        self._start_slice(ex)

    def set_config(self, cfg: RouterConfig) -> None:
        """New router parameters (autotune): they apply from the next slice or order."""
        self.cfg = cfg
        self.policy.set_config(cfg)

    def on_book(self, u: BookUpdate) -> None:
        self.books[u.symbol] = u
        self.policy.on_book(self.clock.now_s(), u)
        exs = self.by_symbol.get(u.symbol)
        if not exs or not u.valid:
            return
        for ex in list(exs):
            if ex.waiting_book:
                ex.waiting_book = False
                self._send_next(ex)
            elif ex.phase is Phase.MAKER and not ex.cancel_reason:
                rec = self.lifecycle.live_order(ex.intent.intent_id)
                if rec is None or rec.status not in RESTING:
                    continue
                why = self.policy.reprice(ex, rec.price, u)
                if why:
                    self.cancel(ex, rec, why)  # reprice_limit: the fallback follows the cancel
                    if why == "reprice":
                        self.tca.reprice(ex.intent.intent_id)

    def stop(self, ex: Execution, reason: str) -> None:
        """Stop an execution (halt): no new order; its live order is cancelled, then it finishes."""
        ex.halted = True
        ex.reasons.append(reason)
        cancel_timer(ex.maker_timer)
        cancel_timer(ex.timer)
        ex.maker_timer = ex.timer = None
        rec = self.lifecycle.live_order(ex.intent.intent_id)
        if rec is None:
            self._finish(ex)
        else:
            self.cancel(ex, rec, "halt")  # sent now if resting, else once the order is acknowledged

    # ------------------------------------------------------------------ slices

    def _start_slice(self, ex: Execution) -> None:
        ex.timer = None
        ex.attempt = 0
        ex.slice_filled = 0.0
        ex.slice_reprices = 0
        ex.post_only_rejects = 0
        ex.rejected_px = 0.0
        ex.send_retries = 0
        ex.slice_maker0 = ex.maker_qty
        now = self.clock.now_s()
        if self.policy.opens_maker(ex, self.books.get(ex.intent.symbol), now):
            ex.phase = _MAKER
            # Armed before the send: a venue may answer (and a fill end the slice) inside ``_send_next``.
            timeout = self.policy.maker_timeout_s(ex)  # auto: the horizon it chose
            ex.maker_deadline = now + timeout
            ex.maker_timer = self.clock.call_later(timeout, lambda: self._maker_timeout(ex))
        else:
            ex.phase = _TAKER
        self._send_next(ex)

    def _maker_timeout(self, ex: Execution) -> None:
        ex.maker_timer = None
        if ex.phase is not Phase.MAKER:
            return
        rec = self.lifecycle.live_order(ex.intent.intent_id)
        if rec is not None:
            self.cancel(ex, rec, "timeout")  # the fallback follows once the cancel is confirmed
        else:
            cancel_timer(ex.timer)
            self._go_taker(ex)

    def _go_taker(self, ex: Execution) -> None:
        ex.phase = Phase.TAKER
        ex.fell_back = True
        self._send_next(ex)

    def _slice_done(self, ex: Execution) -> None:
        cancel_timer(ex.maker_timer)
        ex.maker_timer = None
        h = self.desk.health[ex.symbol]
        h.slices += 1
        h.fallbacks += ex.fell_back
        self.policy.slice_done(ex)
        if ex.slice_no + 1 >= len(ex.slices):
            self._finish(ex)
            return
        ex.slice_no += 1
        due = ex.t0 + ex.slice_no * self.cfg.twap.duration_s / len(ex.slices)
        delay = due - self.clock.now_s()
        if delay > 0:
            ex.timer = self.clock.call_later(delay, lambda: self._start_slice(ex))
        else:
            self._start_slice(ex)

    def _finish(self, ex: Execution) -> None:
        ex.phase = Phase.DONE
        cancel_timer(ex.maker_timer)
        cancel_timer(ex.timer)
        desk = self.desk
        iid = ex.intent.intent_id
        self.executions.pop(iid, None)
        exs = self.by_symbol.get(ex.symbol)
        if exs is not None and ex in exs:
            exs.remove(ex)
        desk.remember(iid)
        for cid in ex.cids:  # a finished execution's orders are all final: stop tracking them
            self.by_cid.pop(cid, None)
            self.lifecycle.forget(cid)
        report = ex.report()
        (desk.j_success if report.outcome == "filled" else desk.j_failed).write("execution", report)
        self.tca.finished(iid, report.outcome, ex.filled_qty)
        h = desk.health[ex.symbol]
        h.executions += 1
        h.wanted_qty += ex.qty
        h.twap_executions += len(ex.slices) > 1
        if ex.filled_qty > 0:
            h.slip_bps_sum += report.slippage_bps
            h.slip_n += 1
        desk.bus.publish(h.event(desk.now_ns()))

    # ------------------------------------------------------------------ sending

    def _send_next(self, ex: Execution) -> None:
        """Place the current slice's next order (maker, taker or, for a flatten, market)."""
        ex.timer = None
        phase = ex.phase
        if phase is _DONE:
            return
        if ex.halted:
            self._finish(ex)
            return
        symbol = ex.intent.symbol
        book = self.books.get(symbol)
        if book is None or not book.valid:
            ex.waiting_book = True  # never price from an invalid book; resume on the next valid one
            return
        if phase is _MAKER and self.clock.now_s() >= ex.maker_deadline:
            ex.phase, ex.fell_back = _TAKER, True  # the maker time ran out while this order was pending
        px, tif, otype, prep = next_order(ex, book, self.marks.get(symbol) or book.mid, self.slippage,
                                          self.cfg.maker_offset_ticks)
        if isinstance(prep, Denial):
            self.desk.deny(ex.intent, ex.slice_remaining(), px, prep)
            ex.reasons.append(f"denied {prep.filter}: {prep.reason}")
            self._slice_done(ex)
            return
        self._send(ex, prep, tif, otype)

    def _request(self, ex: Execution, prep: Prepared, tif: TimeInForce, otype: OrderType) -> OrderRequest:
        """The request of ``ex``'s next attempt (its client order id from the slice and attempt numbers)."""
        intent = ex.intent
        return OrderRequest(
            client_order_id=client_order_id_at(ex.cid_prefix, ex.slice_no, ex.attempt), intent_id=intent.intent_id,
            symbol=intent.symbol, side=intent.side, type=otype, qty=prep.qty, price=prep.price, tif=tif,
            reduce_only=intent.reduce_only, recv_ns=self.desk.now_ns(),
        )

    def _send(self, ex: Execution, prep: Prepared, tif: TimeInForce, otype: OrderType = OrderType.LIMIT) -> None:
        desk = self.desk
        intent = ex.intent
        req = self._request(ex, prep, tif, otype)
        cid = req.client_order_id
        ex.attempt += 1
        try:
            rec = self.lifecycle.open(req, slice_no=ex.slice_no, now_s=self.clock.now_s())
        except LiveOrderExists as exc:
            log.error("router: %s", exc)
            return
        self.by_cid[cid] = ex
        ex.cids.append(cid)
        rec.fallback = ex.fell_back and tif is _IOC
        ex.acc_qty = ex.acc_notional = 0.0
        ex.cancel_reason, ex.cancel_sent = "", False
        # Bookkeeping before the send: the send's first step runs now and a venue that answers at once
        # (no await inside ``place``) delivers its fills inside it; TCA must know the order by then.
        self.tca.order(intent.intent_id, cid, rec.fallback)
        ex.orders += 1
        desk.health[intent.symbol].orders += 1
        body = desk.journal_request("request", req)
        desk.bus.publish(req)
        desk.send(rec, req, ex.slice_no, body)  # the pending record and the venue call, in the order's task

    def cancel(self, ex: Execution | None, rec: OrderRecord, reason: str) -> None:
        """Cancel ``rec`` (of ``ex``, when it is an execution's): once per order, as soon as it rests."""
        if ex is not None:
            ex.cancel_reason = reason
            if ex.cancel_sent or rec.status not in RESTING:
                return  # sent once the order is acknowledged
            ex.cancel_sent = True
        self.desk.cancel(rec, reason)

    def not_sent(self, cid: str, e: Retryable) -> None:
        """The desk closed ``cid`` after a failure that certainly did not execute: retry later (bounded)."""
        ex = self.by_cid.get(cid)
        if ex is None or ex.phase is Phase.DONE:
            return
        ex.send_retries += 1
        banned = isinstance(e, RateLimited) and e.banned
        if banned or ex.send_retries > MAX_SEND_RETRIES:
            ex.reasons.append(f"not sent: {e.reason}")
            self._slice_done(ex)
            return
        delay = max(e.retry_after_s, self.desk.backoff(ex.send_retries - 1))
        log.warning("router: %s not sent (%s); retry in %.2fs", cid, e, delay)
        ex.timer = self.clock.call_later(delay, lambda: self._send_next(ex))

    # ------------------------------------------------------------------ progress of one order

    def progress(self, rec: OrderRecord) -> None:
        """React to a change of an order that is not a protective stop: count fills; when it ends,
        decide what comes next."""
        cid = rec.client_order_id
        ex = self.by_cid.get(cid)
        if ex is not None and ex.phase is not Phase.DONE:
            self._count_fills(ex, rec)
        if rec.live:
            if rec.status in RESTING and (ex is None or (ex.cancel_reason and not ex.cancel_sent)):
                self.cancel(ex, rec, ex.cancel_reason if ex is not None else "recovery")
            return
        self.desk.closed(rec)
        if ex is None or ex.phase is Phase.DONE:
            return
        reason, ex.cancel_reason, ex.cancel_sent = ex.cancel_reason, "", False
        nxt = self.policy.after_close(ex, rec, reason)
        if nxt is Next.FINISH:
            self._finish(ex)
        elif nxt is Next.SLICE_DONE:
            self._slice_done(ex)
        elif nxt is Next.TAKER:
            self._go_taker(ex)
        else:
            self._send_next(ex)

    def _count_fills(self, ex: Execution, rec: OrderRecord) -> None:
        dq = rec.filled_qty - ex.acc_qty
        if dq <= 0.0:
            return
        notional = rec.filled_qty * (rec.avg_price or rec.price)
        dn = notional - ex.acc_notional
        ex.acc_qty, ex.acc_notional = rec.filled_qty, notional
        ex.slice_filled += dq
        ex.filled_qty += dq
        ex.filled_notional += dn
        h = self.desk.health[ex.symbol]
        h.filled_qty += dq
        if rec.tif is TimeInForce.GTX:
            ex.maker_qty += dq
            h.maker_filled_qty += dq
