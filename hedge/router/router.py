"""The router: approved intents -> orders on a venue, maker first, taker when it must, TWAP when large.

Owns: the execution of every approved ``RiskDecision`` (``allow=True``): sizing to the approval's
``max_qty``, splitting into TWAP slices, pricing each order from the book, the exchange filters,
sending, cancelling, repricing, the taker fallback, the resolution of unknown outcomes, crash
recovery of pending orders, the router journals and ``RouterHealth``.

Behaviour per slice:
1. Maker: a post-only (GTX) limit at the touch (buy at the bid, sell at the ask). When the touch
   moves away by ``router.reprice_ticks`` the order is cancelled and re-placed at the new touch.
   A -5022 (would have taken) is repriced at the current touch, and at least one tick more
   passive than the rejected price, up to ``router.max_post_only_rejects`` times; the next one
   falls back.
2. Taker fallback (after ``router.maker_timeout_s`` from the slice start, after too many -5022,
   or at once for ``urgent`` intents): an IOC limit capped at the slippage model's budget away
   from the *arrival* mid. What it cannot fill within the cap stays unfilled and is reported.
3. TWAP: an intent whose notional is >= ``router.twap.min_notional_usd`` is cut into up to
   ``router.twap.slices`` slices (each large enough for the exchange's minimums), slice i due at
   ``i * duration_s / slices`` after arrival; each slice is maker-first. A slice never starts
   before the previous one has finished: one intent never has two live orders.

Reliability: every order is journaled (orders_sent) and recorded in the pending-orders file
BEFORE its request is sent, under a deterministic client order id. A placement with no definite
answer (``UnknownOutcome``, or any unexpected exception while sending) makes the order UNKNOWN:
it is queried by client order id with backoff while the user stream is watched, for at most
``router.unknown_resolve_s``; found -> adopted; proven absent (not found once the request is older
than recvWindow + 1 s, after which Binance's matching engine refuses it) -> resent once under the SAME id;
unresolved -> a critical ``Alert`` and the intent stays blocked (never a second order). At start,
orders left pending by a previous process are queried and adopted (live ones cancelled: their
intent is stale), and their intents are never executed again.

Concurrency: bus handlers (decisions, book updates, user-stream order updates) are synchronous
and only decide; every venue call runs in its own task, whose result is fed back synchronously.
Timers go through an injectable ``Clock``, so tests advance time instead of sleeping.

Must never: do risk math, send anything without an approval, block a bus handler on I/O, send an
order that fails the exchange filters, or resend an order whose outcome is unknown.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any

from hedge.backoff import backoff_delays
from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    Alert,
    BookUpdate,
    CancelAll,
    FeedStatus,
    MarkPrice,
    OrderCancel,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    RiskDecision,
    Side,
    TimeInForce,
)
from hedge.model.clock import Clock, LiveClock
from hedge.model.instrument import SymbolFilters
from hedge.router.execution import Execution, Phase, cancel_timer, split_slices
from hedge.router.filters import Denial, Mode, OrderFilter, Prepared
from hedge.router.health import RouterHealthBook
from hedge.router.lifecycle import (
    Lifecycle,
    LiveOrderExists,
    OrderRecord,
    Outcome,
    client_order_id,
    is_engine_order_id,
)
from hedge.router.pending import PendingOrders
from hedge.router.protective import ProtectiveStops
from hedge.router.records import DeniedOrder, ExecutedOrder, ExecutionReport
from hedge.router.slippage import SlippageModel
from hedge.state.journal import Journals
from hedge.venue.base import OrderAck, Venue
from hedge.venue.errors import (
    DUPLICATE_CLIENT_ORDER_ID,
    POST_ONLY_REJECT,
    AuthError,
    OrderNotFound,
    RateLimited,
    Rejected,
    Retryable,
    VenueError,
)

log = logging.getLogger(__name__)

S = OrderStatus
_RESTING = (S.NEW, S.PARTIALLY_FILLED)
MAX_SEND_RETRIES = 5
MAX_RESENDS = 1
ABSENT_MARGIN_S = 1.0  # beyond recvWindow: the exchange accepts timestamps up to 1 s ahead of its clock
_FINISHED_MEMORY = 100_000  # intent ids remembered to refuse a replayed approval


class Router:
    """Maker-first order router with taker fallback and TWAP (see the module docstring)."""

    name = "router"

    def __init__(
        self,
        bus: Bus,
        venue: Venue,
        journals: Journals,
        cfg: Config,
        *,
        backoff: Callable[[int], float] | None = None,
        clock: Clock | None = None,
        pending: PendingOrders | None = None,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.bus = bus
        self.venue = venue
        self.cfg = cfg.runtime.router
        self.twap_enabled = cfg.runtime.features.twap
        http = cfg.runtime.http
        self.backoff = backoff or backoff_delays(http.backoff_initial_s, http.backoff_max_s)
        # A request older than recvWindow is refused by Binance's matching engine (-5028), so an order
        # not found once this long after its request left can never appear: it is proven absent.
        self.absent_after_s = http.recv_window_ms / 1000.0 + ABSENT_MARGIN_S
        self.clock: Clock = clock or LiveClock()
        self.now_ns = now_ns  # stamps recv_ns of what the router publishes (replay: event time)
        self.halted = ""  # the reason once ``halt`` was called: nothing new is sent
        self.pending = pending or PendingOrders(f"{cfg.runtime.log_dir}/state/pending_orders.jsonl")
        self.slippage = SlippageModel(cfg.symbols, self.cfg.slippage_budget_bps)
        self.lifecycle = Lifecycle()
        self.health = RouterHealthBook()
        self.filters: dict[str, OrderFilter] = {}
        self.books: dict[str, BookUpdate] = {}
        self.marks: dict[str, float] = {}
        self.positions: dict[str, float] = {}  # the exchange's signed position per symbol
        self.user_stream = cfg.risk.user_stream  # FeedStatus.connection of the user-data stream
        self._user_stream_down = False
        self.protective = ProtectiveStops()
        self.stop_on_mark = cfg.runtime.portfolio.protective_stop_working_price == "mark"
        self.executions: dict[str, Execution] = {}
        self._by_symbol: dict[str, list[Execution]] = {}
        self._by_cid: dict[str, Execution] = {}
        self._finished: dict[str, None] = {}  # insertion-ordered set of finished/recovered intent ids
        self._unknown_deadline: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.in_flight = 0  # venue calls started and not finished (replay settles the loop until none is)
        self.cancel_all_errors = 0
        self.ignored = 0  # decisions without an approval, or replayed
        self.task_errors = 0  # bugs: a venue task raised past its own error handling
        self._j_sent = journals.writer("orders_sent")
        self._j_denied = journals.writer("orders_denied")
        self._j_executed = journals.writer("orders_executed")
        self._j_success = journals.writer("orders_success")
        self._j_failed = journals.writer("orders_failed")
        bus.subscribe(RiskDecision, self.on_decision)
        bus.subscribe(BookUpdate, self.on_book)
        bus.subscribe(MarkPrice, self.on_mark)
        bus.subscribe(OrderUpdate, self.on_order_update)
        bus.subscribe(Position, self.on_position)
        bus.subscribe(CancelAll, self.on_cancel_all)
        bus.subscribe(FeedStatus, self.on_feed_status)

    # ------------------------------------------------------------------ service

    def set_filters(self, filters: dict[str, SymbolFilters]) -> None:
        self.filters = {sym: OrderFilter(f) for sym, f in filters.items()}

    async def start(self) -> None:
        """Load the exchange filters and recover the orders a previous process left pending."""
        self.set_filters(await self.venue.load_filters())
        n = self.recover()
        log.info("router: ready (venue %s, %d symbols, %d pending orders recovered)", self.venue.name,
                 len(self.filters), n)

    async def run(self) -> None:
        """The daemon service: start, refresh the exchange filters every ``filters_refresh_s``; on
        cancellation (shutdown) close the venue it owns."""
        try:
            await self.start()
            while True:
                await asyncio.sleep(self.cfg.filters_refresh_s)
                try:
                    self.set_filters(await self.venue.load_filters())
                except VenueError as e:
                    log.warning("router: filter refresh failed (%s); keeping the previous filters", e)
        except asyncio.CancelledError:
            await self.venue.close()
            raise

    async def idle(self) -> None:
        """Wait until no venue call is in flight (tests, replay, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        self.in_flight += 1
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.in_flight -= 1
        if not task.cancelled() and task.exception() is not None:
            self.task_errors += 1
            log.error("router: venue task failed", exc_info=task.exception())

    # ------------------------------------------------------------------ bus handlers (sync)

    def on_mark(self, m: MarkPrice) -> None:
        self.marks[m.symbol] = m.mark_price

    def on_book(self, u: BookUpdate) -> None:
        self.books[u.symbol] = u
        exs = self._by_symbol.get(u.symbol)
        if not exs or not u.valid:
            return
        for ex in list(exs):
            if ex.waiting_book:
                ex.waiting_book = False
                self._send_next(ex)
            elif ex.phase is Phase.MAKER and not ex.cancel_reason:
                rec = self.lifecycle.live_order(ex.intent.intent_id)
                if rec is None or rec.status not in _RESTING:
                    continue
                away = (u.bid_px - rec.price) if ex.side is Side.BUY else (rec.price - u.ask_px)
                if away >= self.cfg.reprice_ticks * ex.filter.tick_f * (1.0 - 1e-9):
                    self._cancel(ex, rec, "reprice")

    def on_decision(self, d: RiskDecision) -> None:
        intent = d.intent
        iid = intent.intent_id
        if not d.allow or self.halted or iid in self.executions or iid in self._finished:
            self.ignored += 1
            return
        filt = self.filters.get(intent.symbol)
        book = self.books.get(intent.symbol)
        valid = book is not None and book.valid
        ref = intent.limit_px if intent.limit_px > 0.0 else (book.mid if book is not None and valid else 0.0)
        qty = min(intent.notional / ref, d.max_qty) if ref > 0.0 and d.max_qty > 0.0 else 0.0  # NaN -> 0
        if intent.stop_price > 0.0:
            self._protect(intent, filt)
            return
        if filt is None or ref <= 0.0 or not (0.0 < qty < math.inf):
            why = ("no exchange filters" if filt is None else "no valid book" if ref <= 0.0
                   else f"no usable quantity (notional {intent.notional!r}, max_qty {d.max_qty!r})")
            self._deny(intent, 0.0, ref, Denial(filter="INPUT", reason=why))
            self._remember(iid)
            self._j_failed.write("execution", ExecutionReport(
                intent_id=iid, symbol=intent.symbol, side=intent.side, outcome="failed", qty=0.0, filled_qty=0.0,
                avg_price=0.0, arrival_mid=ref, slippage_bps=0.0, maker_qty=0.0, slices=0, orders=0,
                fell_back=False, reasons=(f"denied INPUT: {why}",),
            ))
            return
        arrival = book.mid if book is not None and valid else ref
        twap = self.twap_enabled and not intent.urgent and qty * ref >= self.cfg.twap.min_notional_usd
        slices = split_slices(filt, qty, ref, self.cfg.twap.slices if twap else 1)
        ex = Execution(intent, sum(slices), slices, filt, arrival, self.clock.now_s())
        self.executions[iid] = ex
        self._by_symbol.setdefault(intent.symbol, []).append(ex)
        self._start_slice(ex)

    def on_position(self, p: Position) -> None:
        self.positions[p.symbol] = p.qty
        if p.qty == 0.0:
            self.protective.queued.pop(p.symbol, None)
            cid = self.protective.live.get(p.symbol)
            rec = self.lifecycle.get(cid) if cid is not None else None
            if rec is not None and rec.status in _RESTING:
                self._cancel(None, rec, "position closed")

    def on_cancel_all(self, ev: CancelAll) -> None:
        """Risk's halt (kill switch): stop every execution, cancel every open order, optionally flatten.

        A cancel-all of every symbol also halts the router: later approvals are ignored."""
        active = {ex.symbol for ex in self.executions.values()} | set(self._by_symbol)
        if ev.symbol:
            for ex in list(self.executions.values()):
                if ex.symbol == ev.symbol:
                    self._halt(ex, f"cancel all: {ev.reason}")
        else:
            self.halt(ev.reason)
        self._spawn(self.cancel_everything(ev.symbol, also=active, flatten=ev.flatten, reason=ev.reason))

    def halt(self, reason: str) -> None:
        """No new order from now on; every execution ends (its live order cancelled, not replaced). Idempotent."""
        if not self.halted:
            log.warning("router: halted (%s)", reason)
        self.halted = reason or "halted"
        for ex in list(self.executions.values()):
            self._halt(ex, f"halted: {self.halted}")

    def on_feed_status(self, ev: FeedStatus) -> None:
        """After the user stream was down, query every live order: its updates may have been missed."""
        if ev.connection != self.user_stream:
            return
        if not ev.connected:
            self._user_stream_down = True
        elif self._user_stream_down:
            self._user_stream_down = False
            for cid in list(self.lifecycle.live_by_intent.values()):
                if self.lifecycle.orders[cid].status in _RESTING:
                    self._spawn(self._query_io(cid, allow_resend=False))

    def on_order_update(self, u: OrderUpdate) -> None:
        """The user stream's view of an order (only this process's orders are acted on, plus the
        protective stops reconciliation finds at the exchange)."""
        if self.lifecycle.get(u.client_order_id) is not None:
            self._apply(u, publish=False)
        elif u.type is OrderType.STOP_MARKET and u.status in _RESTING and is_engine_order_id(u.client_order_id):
            self._adopt_protective(u)

    # ------------------------------------------------------------------ protective stops

    def _protect(self, intent: OrderIntent, filt: OrderFilter | None) -> None:
        """An approved protective stop: place it, or cancel the live one first (see ``protective``)."""
        iid = intent.intent_id
        self._remember(iid)
        if filt is None:
            self._deny(intent, 0.0, intent.stop_price, Denial(filter="INPUT", reason="no exchange filters"))
            return
        # away from the market: a long's (SELL) stop down, a short's (BUY) stop up
        stop = filt.price_of(filt.round_price(intent.side, intent.stop_price, Mode.TAKER))
        req = OrderRequest(
            client_order_id=client_order_id(iid, 0, 0), intent_id=iid, symbol=intent.symbol, side=intent.side,
            type=OrderType.STOP_MARKET, qty=0.0, stop_price=stop, reduce_only=True, close_position=True,
            stop_on_mark=self.stop_on_mark, recv_ns=self.now_ns(),
        )
        book = self.protective
        cid = book.live.get(intent.symbol)
        rec = self.lifecycle.get(cid) if cid is not None else None
        if rec is None or not rec.live:
            self._send_protective(req)
            return
        book.queued[intent.symbol] = req  # the newest level wins; placed once the old stop is gone
        book.replaced += 1
        if rec.status in _RESTING:
            self._cancel(None, rec, "protective stop moved")
        # else: PENDING/UNKNOWN; cancelled by _progress once its state is known

    def _send_protective(self, req: OrderRequest) -> None:
        try:
            rec = self.lifecycle.open(req, now_s=self.clock.now_s())
        except LiveOrderExists as exc:
            log.error("router: %s", exc)
            return
        self.protective.track(req.symbol, req.client_order_id)
        self.protective.placed += 1
        self._j_sent.write("request", req)
        try:
            self.pending.add(req, 0)
        except OSError as exc:
            log.error("router: cannot persist pending order %s (%s); not sent", req.client_order_id, exc)
            self._transition(req.client_order_id, S.REJECTED, reason=f"not sent: pending record failed: {exc}")
            return
        self.health[req.symbol].orders += 1
        self.bus.publish(req)
        self._spawn(self._place_io(rec))

    def _adopt_protective(self, u: OrderUpdate) -> None:
        """A resting engine STOP_MARKET found at the exchange (a previous process's protective stop)."""
        rec = OrderRecord(
            client_order_id=u.client_order_id, intent_id=f"adopted-{u.client_order_id}", symbol=u.symbol,
            side=u.side, type=u.type, tif=TimeInForce.GTC, qty=u.qty, price=0.0, reduce_only=True,
            stop_price=u.stop_price, close_position=u.qty == 0.0, status=u.status,
            exchange_order_id=u.exchange_order_id, reason="adopted from the exchange",
        )
        self.lifecycle.adopt(rec)
        current = self.protective.live.get(u.symbol)
        if current is None:
            self.protective.track(u.symbol, rec.client_order_id)
            log.info("router: adopted protective stop %s on %s @ %g", rec.client_order_id, u.symbol, u.stop_price)
            return
        self.protective.cids.add(rec.client_order_id)  # never two: the extra one is cancelled
        log.warning("router: %s already has protective stop %s; cancelling %s", u.symbol, current,
                    rec.client_order_id)
        self._cancel(None, rec, "second protective stop")

    def _protective_progress(self, rec: OrderRecord) -> None:
        cid = rec.client_order_id
        if rec.live:
            if rec.status in _RESTING:
                self._forget_pending(cid)  # acknowledged: reconciliation finds it at the exchange from now on
                if rec.symbol in self.protective.queued or self.protective.live.get(rec.symbol) != cid:
                    self._cancel(None, rec, "protective stop moved")
            return
        self._closed(rec)
        self.lifecycle.forget(cid)
        nxt = self.protective.closed(rec.symbol, cid)
        if rec.filled_qty > 0.0:
            self.protective.queued.pop(rec.symbol, None)  # it fired: the position is closed
            log.warning("router: protective stop %s on %s fired (%g @ %g)", cid, rec.symbol, rec.filled_qty,
                        rec.avg_price)
        elif nxt is not None and not self.halted:
            self._send_protective(nxt)

    # ------------------------------------------------------------------ slicing

    def _start_slice(self, ex: Execution) -> None:
        ex.timer = None
        ex.attempt = 0
        ex.slice_filled = 0.0
        ex.post_only_rejects = 0
        ex.rejected_px = 0.0
        ex.send_retries = 0
        ex.fell_back = ex.intent.urgent
        ex.phase = Phase.TAKER if ex.intent.urgent else Phase.MAKER
        if ex.phase is Phase.MAKER:
            ex.maker_deadline = self.clock.now_s() + self.cfg.maker_timeout_s
            ex.maker_timer = self.clock.call_later(self.cfg.maker_timeout_s, lambda: self._maker_timeout(ex))
        self._send_next(ex)

    def _maker_timeout(self, ex: Execution) -> None:
        ex.maker_timer = None
        if ex.phase is not Phase.MAKER:
            return
        rec = self.lifecycle.live_order(ex.intent.intent_id)
        if rec is not None:
            self._cancel(ex, rec, "timeout")  # the fallback follows once the cancel is confirmed
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
        h = self.health[ex.symbol]
        h.slices += 1
        h.fallbacks += ex.fell_back
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
        iid = ex.intent.intent_id
        self.executions.pop(iid, None)
        exs = self._by_symbol.get(ex.symbol)
        if exs is not None and ex in exs:
            exs.remove(ex)
        self._remember(iid)
        for cid in ex.cids:  # a finished execution's orders are all final: stop tracking them
            self._by_cid.pop(cid, None)
            self.lifecycle.forget(cid)
        avg = ex.filled_notional / ex.filled_qty if ex.filled_qty > 0 else 0.0
        slip = ex.side.sign * (avg - ex.arrival_mid) / ex.arrival_mid * 1e4 if avg > 0 and ex.arrival_mid > 0 else 0.0
        done = ex.qty - ex.filled_qty < ex.filter.step_f / 2
        outcome = "filled" if done and ex.filled_qty > 0 else "partial" if ex.filled_qty > 0 else "failed"
        report = ExecutionReport(
            intent_id=iid, symbol=ex.symbol, side=ex.side, outcome=outcome, qty=ex.qty, filled_qty=ex.filled_qty,
            avg_price=avg, arrival_mid=ex.arrival_mid, slippage_bps=slip, maker_qty=ex.maker_qty,
            slices=len(ex.slices), orders=ex.orders, fell_back=ex.fell_back, reasons=tuple(ex.reasons),
        )
        (self._j_success if outcome == "filled" else self._j_failed).write("execution", report)
        h = self.health[ex.symbol]
        h.executions += 1
        if ex.filled_qty > 0:
            h.slip_bps_sum += slip
            h.slip_n += 1
        self.publish_health(ex.symbol)

    def publish_health(self, symbol: str) -> None:
        self.bus.publish(self.health[symbol].event(self.now_ns()))

    def _remember(self, iid: str) -> None:
        self._finished[iid] = None
        if len(self._finished) > _FINISHED_MEMORY:
            del self._finished[next(iter(self._finished))]

    # ------------------------------------------------------------------ sending

    def _send_next(self, ex: Execution) -> None:
        """Place the current slice's next order (maker, taker or, for a flatten, market)."""
        ex.timer = None
        if ex.phase is Phase.DONE:
            return
        if ex.halted:
            self._finish(ex)
            return
        book = self.books.get(ex.symbol)
        if book is None or not book.valid:
            ex.waiting_book = True  # never price from an invalid book; resume on the next valid one
            return
        if ex.phase is Phase.MAKER and self.clock.now_s() >= ex.maker_deadline:
            ex.phase, ex.fell_back = Phase.TAKER, True  # the maker time ran out while this order was pending
        remaining = ex.slice_remaining()
        ref = self.marks.get(ex.symbol) or book.mid
        otype, reduce_only = OrderType.LIMIT, ex.intent.reduce_only
        if ex.market:  # a flatten: the market lot, notional at the reference price
            px, tif, otype = 0.0, TimeInForce.GTC, OrderType.MARKET
            prep = ex.filter.prepare(ex.side, remaining, px, Mode.MARKET, reference=ref, reduce_only=reduce_only)
        elif ex.phase is Phase.MAKER:
            px, tif = (book.bid_px if ex.side is Side.BUY else book.ask_px), TimeInForce.GTX
            if ex.rejected_px > 0.0:  # after a -5022 at a touch that has not moved: one tick more passive
                ticks = ex.filter.round_price(ex.side, ex.rejected_px, Mode.MAKER) - ex.side.sign
                step_back = ex.filter.price_of(ticks)
                px = min(px, step_back) if ex.side is Side.BUY else max(px, step_back)
            prep = ex.filter.prepare(ex.side, remaining, px, Mode.MAKER, reference=ref, reduce_only=reduce_only)
        else:
            cap_bps = self.slippage.cap_bps(ex.symbol, ex.side, remaining, book)
            px, tif = SlippageModel.cap_price(ex.arrival_mid, ex.side, cap_bps), TimeInForce.IOC
            prep = ex.filter.prepare(ex.side, remaining, px, Mode.TAKER, reference=ref, cap=px,
                                     reduce_only=reduce_only)
        if isinstance(prep, Denial):
            self._deny(ex.intent, remaining, px, prep)
            ex.reasons.append(f"denied {prep.filter}: {prep.reason}")
            self._slice_done(ex)
            return
        self._send(ex, prep, tif, otype)

    def _send(self, ex: Execution, prep: Prepared, tif: TimeInForce, otype: OrderType = OrderType.LIMIT) -> None:
        intent = ex.intent
        cid = client_order_id(intent.intent_id, ex.slice_no, ex.attempt)
        ex.attempt += 1
        req = OrderRequest(
            client_order_id=cid, intent_id=intent.intent_id, symbol=intent.symbol, side=intent.side,
            type=otype, qty=prep.qty, price=prep.price, tif=tif, reduce_only=intent.reduce_only,
            recv_ns=self.now_ns(),
        )
        try:
            rec = self.lifecycle.open(req, slice_no=ex.slice_no, now_s=self.clock.now_s())
        except LiveOrderExists as exc:
            log.error("router: %s", exc)
            return
        self._by_cid[cid] = ex
        ex.cids.append(cid)
        ex.acc_qty = ex.acc_notional = 0.0
        ex.cancel_reason, ex.cancel_sent = "", False
        self._j_sent.write("request", req)
        try:
            self.pending.add(req, ex.slice_no)
        except OSError as exc:
            log.error("router: cannot persist pending order %s (%s); not sent", cid, exc)
            self.lifecycle.apply(cid, S.REJECTED, reason=f"not sent: pending record failed: {exc}")
            ex.reasons.append("pending record failed")
            self._slice_done(ex)
            return
        ex.orders += 1
        self.health[ex.symbol].orders += 1
        self.bus.publish(req)
        self._spawn(self._place_io(rec))

    async def _place_io(self, rec: OrderRecord) -> None:
        cid = rec.client_order_id
        t0 = time.perf_counter()
        rec.sent_s = self.clock.now_s()
        try:
            ack = await self.venue.place(rec.request())
        except Rejected as e:
            if e.code == DUPLICATE_CLIENT_ORDER_ID:  # an order with this id exists: find it
                self._unknown(cid, f"duplicate client order id ({e.reason})")
            else:
                self.health[rec.symbol].rejects += 1
                self._transition(cid, S.REJECTED, reject_code=e.code, reason=e.reason)
        except Retryable as e:
            self._not_sent(cid, e)
        except AuthError as e:
            self._transition(cid, S.REJECTED, reject_code=e.code, reason=f"auth: {e.reason}")
            self.bus.publish(Alert(severity="critical", title="venue auth failed", text=str(e), recv_ns=self.now_ns()))
        except Exception as e:  # UnknownOutcome, a timeout, a reset, a bug below: the order may exist
            self._unknown(cid, f"{type(e).__name__}: {e}")
        else:
            self.health[rec.symbol].ack_ms.append((time.perf_counter() - t0) * 1e3)
            rec.acked_s = self.clock.now_s()
            self._apply_ack(ack)

    def _apply_ack(self, ack: OrderAck) -> None:
        self._transition(ack.client_order_id, ack.status, filled_qty=ack.filled_qty, avg_price=ack.avg_price,
                         exchange_order_id=ack.exchange_order_id)

    def _apply(self, u: OrderUpdate, *, publish: bool) -> None:
        self._transition(u.client_order_id, u.status, filled_qty=u.filled_qty, avg_price=u.avg_price,
                         exchange_order_id=u.exchange_order_id, reject_code=u.reject_code, reason=u.reason,
                         publish=publish)

    def _transition(
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
        if publish:
            self.bus.publish(OrderUpdate(
                client_order_id=cid, symbol=rec.symbol, status=rec.status, side=rec.side, type=rec.type,
                exchange_order_id=rec.exchange_order_id, qty=rec.qty, price=rec.price, filled_qty=rec.filled_qty,
                avg_price=rec.avg_price, reduce_only=rec.reduce_only, reject_code=rec.reject_code, reason=rec.reason,
                recv_ns=self.now_ns(),
            ))
        if progress:
            self._progress(cid)

    def _not_sent(self, cid: str, e: Retryable) -> None:
        """A failure that certainly did not execute: close the order and retry later (bounded)."""
        rec = self.lifecycle.get(cid)
        if rec is None or rec.status is not S.PENDING:
            return  # its outcome is already known (the user stream was faster than this answer)
        self._transition(cid, S.REJECTED, reject_code=e.code, reason=f"not sent: {e.reason}", progress=False)
        self._forget_pending(cid)
        ex = self._by_cid.get(cid)
        if ex is None or ex.phase is Phase.DONE:
            return
        ex.send_retries += 1
        banned = isinstance(e, RateLimited) and e.banned
        if banned or ex.send_retries > MAX_SEND_RETRIES:
            ex.reasons.append(f"not sent: {e.reason}")
            self._slice_done(ex)
            return
        delay = max(e.retry_after_s, self.backoff(ex.send_retries - 1))
        log.warning("router: %s not sent (%s); retry in %.2fs", rec.client_order_id, e, delay)
        ex.timer = self.clock.call_later(delay, lambda: self._send_next(ex))

    # ------------------------------------------------------------------ progress of one order

    def _progress(self, cid: str) -> None:
        """React to a change of order ``cid``: count fills; when it ends, decide what comes next."""
        rec = self.lifecycle.orders[cid]
        if self.protective.owns(cid):
            self._protective_progress(rec)
            return
        ex = self._by_cid.get(cid)
        if ex is not None and ex.phase is not Phase.DONE:
            self._count_fills(ex, rec)
        if rec.live:
            if rec.status in _RESTING and (ex is None or (ex.cancel_reason and not ex.cancel_sent)):
                self._cancel(ex, rec, ex.cancel_reason if ex is not None else "recovery")
            return
        self._closed(rec)
        if ex is None or ex.phase is Phase.DONE:
            return
        reason, ex.cancel_reason, ex.cancel_sent = ex.cancel_reason, "", False
        if ex.halted:
            self._finish(ex)
        elif ex.slice_remaining() < ex.filter.step_f / 2:
            self._slice_done(ex)
        elif ex.phase is Phase.TAKER:
            if rec.status is S.REJECTED:
                ex.reasons.append(f"taker rejected {rec.reject_code}: {rec.reason}")
            else:
                ex.reasons.append(f"taker IOC left {ex.slice_remaining():g} unfilled within the slippage cap")
            self._slice_done(ex)
        elif reason == "timeout":
            self._go_taker(ex)
        elif (rec.status is S.REJECTED and rec.reject_code == POST_ONLY_REJECT) or (
            rec.status is S.EXPIRED and not reason  # Binance may also expire a crossing GTX
        ):
            ex.post_only_rejects += 1
            ex.rejected_px = rec.price
            if ex.post_only_rejects > self.cfg.max_post_only_rejects:
                self._go_taker(ex)
            else:
                self._send_next(ex)
        elif rec.status is S.REJECTED and rec.reason != "proven absent":
            ex.reasons.append(f"rejected {rec.reject_code}: {rec.reason}")
            self._slice_done(ex)
        else:  # repriced, absent, or cancelled/expired by someone else: place again at the touch
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
        h = self.health[ex.symbol]
        h.filled_qty += dq
        if rec.tif is TimeInForce.GTX:
            ex.maker_qty += dq
            h.maker_filled_qty += dq

    def _closed(self, rec: OrderRecord) -> None:
        """An order reached a final state: forget the pending record, journal what it did."""
        self._unknown_deadline.pop(rec.client_order_id, None)
        self._forget_pending(rec.client_order_id)
        if rec.filled_qty > 0.0:
            self._j_executed.write("order", ExecutedOrder(
                client_order_id=rec.client_order_id, intent_id=rec.intent_id, symbol=rec.symbol, side=rec.side,
                tif=rec.tif, qty=rec.qty, price=rec.price, filled_qty=rec.filled_qty,
                avg_price=rec.avg_price or rec.price, maker=rec.tif is TimeInForce.GTX, status=rec.status,
                exchange_order_id=rec.exchange_order_id,
            ))

    def _forget_pending(self, cid: str) -> None:
        try:
            self.pending.remove(cid)
        except OSError as exc:  # a full disk: the entry stays open and is queried after a restart
            log.error("router: cannot close pending record %s: %s", cid, exc)

    def _deny(self, intent: OrderIntent, qty: float, price: float, d: Denial) -> None:
        self.health[intent.symbol].denied += 1
        self._j_denied.write("denied", DeniedOrder(
            intent_id=intent.intent_id, symbol=intent.symbol, side=intent.side, qty=qty, price=price,
            filter=d.filter, reason=d.reason,
        ))

    # ------------------------------------------------------------------ cancelling

    def _cancel(self, ex: Execution | None, rec: OrderRecord, reason: str) -> None:
        if ex is not None:
            ex.cancel_reason = reason
            if ex.cancel_sent or rec.status not in _RESTING:
                return  # sent once the order is acknowledged
            ex.cancel_sent = True
        self.bus.publish(OrderCancel(client_order_id=rec.client_order_id, symbol=rec.symbol, reason=reason,
                                     recv_ns=self.now_ns()))
        self._spawn(self._cancel_io(rec, 0))

    async def _cancel_io(self, rec: OrderRecord, attempt: int) -> None:
        cid = rec.client_order_id
        try:
            u = await self.venue.cancel(rec.symbol, cid)
        except OrderNotFound:
            # Already finished (filled or expired) or not yet visible: learn its state by query.
            await self._query_io(cid, allow_resend=False)
            return
        except VenueError as e:
            if not rec.live:
                return
            delay = max(getattr(e, "retry_after_s", 0.0), self.backoff(attempt))
            log.warning("router: cancel of %s failed (%s); retry in %.2fs", cid, e, delay)
            self.clock.call_later(delay, lambda: self._spawn(self._cancel_io(rec, attempt + 1)) if rec.live else None)
            return
        self._apply(u, publish=True)

    # ------------------------------------------------------------------ unknown outcomes

    def _unknown(self, cid: str, reason: str) -> None:
        rec = self.lifecycle.get(cid)
        if rec is None:
            return  # the user stream reported it final and its intent is done: nothing is unknown
        self._transition(cid, S.UNKNOWN, reason=reason, progress=False)
        if rec.status is not S.UNKNOWN:
            return  # the user stream already told us
        self.health[rec.symbol].unknown += 1
        log.warning("router: outcome of %s unknown (%s); resolving", cid, reason)
        self._unknown_deadline[cid] = self.clock.now_s() + self.cfg.unknown_resolve_s
        self.clock.call_later(self.backoff(0), lambda: self._resolve_step(cid, 0, allow_resend=True))

    def _resolve_step(self, cid: str, n: int, *, allow_resend: bool) -> None:
        rec = self.lifecycle.get(cid)
        if rec is None or rec.status is not S.UNKNOWN:
            return  # resolved meanwhile (user stream, cancel answer)
        deadline = self._unknown_deadline.get(cid, 0.0)
        if self.clock.now_s() > deadline:
            self._unknown_deadline.pop(cid, None)
            text = f"order {cid} ({rec.symbol} {rec.side} {rec.qty}) unresolved after {self.cfg.unknown_resolve_s}s"
            log.error("router: %s; intent %s stays blocked", text, rec.intent_id)
            self._j_failed.write("unresolved", rec)
            self.bus.publish(Alert(severity="critical", title="order outcome unknown", text=text,
                                   recv_ns=self.now_ns()))
            return
        self._spawn(self._query_io(cid, allow_resend=allow_resend, n=n))

    async def _query_io(self, cid: str, *, allow_resend: bool, n: int = 0) -> None:
        rec = self.lifecycle.get(cid)
        if rec is None:
            return  # finished and forgotten meanwhile
        try:
            u = await self.venue.query(rec.symbol, cid)
        except Exception as e:
            log.warning("router: query of %s failed (%s)", cid, e)
            if rec.status is S.UNKNOWN:  # bounded by router.unknown_resolve_s
                self.clock.call_later(self.backoff(n + 1),
                                      lambda: self._resolve_step(cid, n + 1, allow_resend=allow_resend))
            elif rec.live:  # a live order whose state must be learnt (a cancel found nothing, a stream gap)
                self.clock.call_later(self.backoff(n + 1), lambda: self._spawn(
                    self._query_io(cid, allow_resend=allow_resend, n=n + 1)) if rec.live else None)
            return
        if u is not None:
            self._apply(u, publish=True)
            return
        early = rec.sent_s + self.absent_after_s - self.clock.now_s()
        if rec.status is S.UNKNOWN and early > 0.0:
            # "Not found" so soon may be a request still in flight inside the exchange: ask again once
            # it is too old to ever be executed.
            self.clock.call_later(early, lambda: self._resolve_step(cid, n + 1, allow_resend=allow_resend))
            return
        if rec.status is not S.UNKNOWN and rec.live:
            # A cancel found nothing, and neither does the query: it never reached the book.
            self._transition(cid, S.CANCELED, reason="proven absent")
        elif rec.status is S.UNKNOWN and allow_resend and rec.resends < MAX_RESENDS:
            self.lifecycle.resend(cid)
            log.warning("router: %s proven absent; resending under the same id", cid)
            self._j_sent.write("resend", rec.request())
            self.health[rec.symbol].orders += 1
            await self._place_io(rec)
        elif rec.status is S.UNKNOWN:
            self._transition(cid, S.REJECTED, reason="proven absent")

    # ------------------------------------------------------------------ halt (CancelAll)

    def _halt(self, ex: Execution, reason: str) -> None:
        """Stop an execution: no new order; its live order is cancelled, then it finishes."""
        ex.halted = True
        ex.reasons.append(reason)
        cancel_timer(ex.maker_timer)
        cancel_timer(ex.timer)
        ex.maker_timer = ex.timer = None
        rec = self.lifecycle.live_order(ex.intent.intent_id)
        if rec is None:
            self._finish(ex)
        else:
            self._cancel(ex, rec, "halt")  # sent now if resting, else once the order is acknowledged

    async def cancel_everything(
        self, symbol: str = "", *, also: set[str] | None = None, flatten: bool = False, reason: str = ""
    ) -> None:
        """Cancel every open order of ``symbol`` ("" = of every symbol the venue reports open orders for,
        plus ``also``: the symbols this router was trading), then optionally flatten positions with
        reduce-only market orders. A failure is counted and alerted, and never stops the other symbols'
        cancels; the venue's dead-man countdown is the backstop."""
        symbols = {symbol} if symbol else set(also or ())
        if not symbol:
            try:
                symbols |= {o.symbol for o in await self.venue.open_orders(None)}
            except Exception as e:  # still cancel the symbols we know of
                self._cancel_all_failed("open orders", e)
        for sym in sorted(symbols):
            try:
                n = await self.venue.cancel_all(sym)
            except Exception as e:
                self._cancel_all_failed(sym, e)
            else:
                log.warning("router: cancel-all %s (%s): %d open order(s) cancelled", sym, reason, n)
        if flatten:
            for sym, qty in sorted(self.positions.items()):
                if qty != 0.0 and symbol in ("", sym):
                    self._flatten(sym, qty, reason)

    def _cancel_all_failed(self, what: str, e: Exception) -> None:
        self.cancel_all_errors += 1
        log.error("router: cancel-all %s failed (%s: %s)", what, type(e).__name__, e)
        self.bus.publish(Alert(severity="critical", title="cancel all failed", text=f"{what}: {e}",
                               recv_ns=self.now_ns()))

    def _flatten(self, symbol: str, qty: float, reason: str) -> None:
        filt = self.filters.get(symbol)
        book = self.books.get(symbol)
        ref = self.marks.get(symbol) or (book.mid if book is not None else 0.0)
        intent = OrderIntent(
            intent_id=f"flatten-{symbol}-{self.now_ns()}", symbol=symbol, side=Side.SELL if qty > 0 else Side.BUY,
            notional=abs(qty) * ref, strategy="kill-switch", reason=reason or "flatten", reduce_only=True,
            urgent=True, recv_ns=self.now_ns(),
        )
        if filt is None or ref <= 0.0:
            self._deny(intent, abs(qty), 0.0, Denial(filter="INPUT", reason="flatten: no filters or reference price"))
            return
        ex = Execution(intent, abs(qty), [abs(qty)], filt, ref, self.clock.now_s())
        ex.market = True
        self.executions[intent.intent_id] = ex
        self._by_symbol.setdefault(symbol, []).append(ex)
        self._start_slice(ex)

    # ------------------------------------------------------------------ crash recovery

    def recover(self) -> int:
        """Adopt the orders a previous process left pending and learn their fate by query."""
        entries = self.pending.load()
        for e in entries:
            assert e.request is not None
            req = e.request
            rec = OrderRecord(
                client_order_id=req.client_order_id, intent_id=req.intent_id, symbol=req.symbol, side=req.side,
                type=req.type, tif=req.tif, qty=req.qty, price=req.price, reduce_only=req.reduce_only,
                stop_price=req.stop_price, stop_on_mark=req.stop_on_mark, close_position=req.close_position,
                slice_no=e.slice_no, status=S.UNKNOWN, reason="recovered after restart",
            )
            age_s = (time.time_ns() - req.recv_ns) / 1e9 if req.recv_ns else self.absent_after_s
            rec.sent_s = self.clock.now_s() - age_s
            self.lifecycle.adopt(rec)
            self._remember(req.intent_id)
            self._unknown_deadline[rec.client_order_id] = self.clock.now_s() + self.cfg.unknown_resolve_s
            self._spawn(self._query_io(rec.client_order_id, allow_resend=False))
        if entries:
            log.warning("router: recovering %d pending order(s) from a previous run", len(entries))
        return len(entries)

