"""The router stage: approved intents -> orders on a venue, assembled from its collaborators.

Owns: the router's bus subscriptions and their dispatch, the refusal of what must not be
executed (no approval, halted, already executing or already acted on), the exchange filters it
is given (``set_filters``), recovery at start (``recover``), and the tasks every venue call runs
in (``in_flight``, ``idle``, ``task_errors``).

The parts, one concept each:
- ``OrderDesk`` (desk.py): every order sent, its lifecycle, the pending record, journals, health,
  the venue calls that place and cancel, and the one door for state changes;
- ``Executor`` (executor.py): the execution state machine (maker first, reprice, taker
  fallback, TWAP slices, flatten);
- ``ProtectiveStops`` (protective.py): one closePosition STOP_MARKET per symbol;
- ``UnknownResolver`` (unknown.py): query by client order id, resend only when proven absent;
- ``Halt`` (halt.py): the kill switch's CancelAll, halt and flatten, and a 418 ban (halted at once,
  cancel-alls queued until the ban ends);
- ``recover_pending`` (recovery.py): the orders a previous process left pending;
- ``AutoRouter`` (auto.py, ``router.mode: auto``): rest first or cross, per slice, by expected cost;
- ``Autotune`` (autotune.py, features router_autotune / router_autotune_apply): parameters from recent TCA.

Reliability: every order is journaled (orders_sent) and recorded in the pending-orders file
BEFORE its request is sent, under a deterministic client order id (see lifecycle.py).

Concurrency: bus handlers (decisions, book updates, user-stream order updates) are synchronous
and only decide; every venue call runs in its own task, whose result is fed back synchronously.
An order's placement starts eagerly (``hedge.handoff.start_eager``): its first step — the journal
commit, the durability check and, when nothing is to wait for, the venue call up to the request
written to the socket — runs inside the decision handler, not on a later loop turn (that hop was
~140 us of live tick -> order sent at p50: the rest of the frame batch, the next turn's timers and
I/O); its outcome is handled on the task's own turn (``settled``). Every other venue call
(cancel, query) is a plain task and raises ``hedge.handoff``, so the receive loop that delivered
the deciding frame yields to it before its next buffered frame.
Timers go through an injectable ``Clock``, so tests and replay advance time instead of sleeping.
The daemon and replay drive it through ``hedge.pipeline``: ``set_filters`` then ``recover`` at
start, ``set_filters`` again on every refresh.

Must never: do risk math, send anything without an approval, block a bus handler on I/O, send an
order that fails the exchange filters, or resend an order whose outcome is unknown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from hedge.backoff import backoff_delays
from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    BookUpdate,
    CancelAll,
    FeedStatus,
    MarkPrice,
    OrderRequest,
    OrderType,
    OrderUpdate,
    Position,
    RateLimit,
    RiskDecision,
    Trade,
)
from hedge.handoff import HANDOFF, Handoff, start_eager
from hedge.model.clock import Clock, LiveClock
from hedge.model.instrument import SymbolFilters
from hedge.router.auto import AutoRouter
from hedge.router.autotune import Autotune
from hedge.router.desk import RESTING, OrderDesk
from hedge.router.execution import Execution
from hedge.router.executor import Executor
from hedge.router.filters import OrderFilter
from hedge.router.halt import Halt
from hedge.router.lifecycle import Lifecycle, is_engine_order_id
from hedge.router.market_stats import MarketStats
from hedge.router.pending import PendingOrders
from hedge.router.protective import ProtectiveStops
from hedge.router.recovery import recover_pending
from hedge.router.slippage import SlippageModel
from hedge.router.tca import TcaRecorder
from hedge.router.unknown import UnknownResolver
from hedge.state.journal import Journals
from hedge.venue.base import Venue

log = logging.getLogger(__name__)


class RouterStage:
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
        lifecycle: Lifecycle | None = None,
        handoff: Handoff = HANDOFF,
    ) -> None:
        rc = cfg.runtime.router
        http = cfg.runtime.http
        backoff = backoff or backoff_delays(http.backoff_initial_s, http.backoff_max_s)
        self.clock: Clock = clock or LiveClock()
        self.handoff = handoff
        self._tasks: set[asyncio.Task[None]] = set()
        self.in_flight = 0  # venue calls started and not finished (replay settles the loop until none is)
        self.ignored = 0  # decisions without an approval, or replayed
        self.task_errors = 0  # bugs: a venue task raised past its own error handling
        self.desk = desk = OrderDesk(
            bus, venue, journals, clock=self.clock, backoff=backoff, spawn=self._spawn, spawn_now=self._spawn_now,
            pending=pending or PendingOrders(f"{cfg.runtime.log_dir}/state/pending_orders.jsonl"),
            lifecycle=lifecycle,
        )
        self.lifecycle = desk.lifecycle
        self.pending = desk.pending
        self.resolver = desk.resolver = UnknownResolver(
            desk, clock=self.clock, backoff=backoff, resolve_s=rc.unknown_resolve_s,
            recv_window_ms=http.recv_window_ms)
        self.tca = TcaRecorder(bus, self.clock, journals.writer("tca"), mode=rc.mode,
                               budget_bps=rc.slippage_budget_bps)
        slippage = SlippageModel(cfg.symbols, rc.slippage_budget_bps)
        stats = MarketStats(rc.auto.window_s, rc.auto.vol_sample_s)
        self.auto = AutoRouter(rc.auto, slippage, stats) if rc.mode == "auto" else None
        self.executor = Executor(desk, rc, slippage, clock=self.clock, twap=cfg.runtime.features.twap, tca=self.tca,
                                 auto=self.auto)
        desk.health.budget_bps = rc.slippage_budget_bps
        for sym, info in cfg.symbols.symbols.items():
            desk.health[sym].liquidity = info.liquidity
        features = cfg.runtime.features
        self.autotune: Autotune | None = None
        if features.router_autotune or features.router_autotune_apply:
            self.autotune = Autotune(rc, apply=features.router_autotune_apply, bus=bus, clock=self.clock,
                                     journal=journals.writer("router_autotune"), set_config=self.executor.set_config)
            self.tca.listeners.append(self.autotune.observe)
        if self.auto is not None:
            self.tca.listeners.append(self.auto.observe)
        self.executions: dict[str, Execution] = self.executor.executions
        self.books: dict[str, BookUpdate] = self.executor.books
        self.halting = Halt(desk, self.executor, clock=self.clock)
        self.protective = ProtectiveStops(
            desk, self.halting, clock=self.clock,
            stop_on_mark=cfg.runtime.portfolio.protective_stop_working_price == "mark")
        desk.on_progress = self._on_progress
        desk.on_not_sent = self.executor.not_sent
        self.user_stream = cfg.risk.user_stream  # FeedStatus.connection of the user-data stream
        self._user_stream_down = False
        bus.subscribe(RiskDecision, self.on_decision, urgent=True)
        bus.subscribe(BookUpdate, self.executor.on_book, urgent=True)
        bus.subscribe(MarkPrice, self.on_mark, urgent=True)
        bus.subscribe(OrderUpdate, self.on_order_update, urgent=True)
        bus.subscribe(Position, self.on_position, urgent=True)
        bus.subscribe(CancelAll, self.halting.on_cancel_all, urgent=True)
        bus.subscribe(RateLimit, self.halting.on_rate_limit, urgent=True)
        bus.subscribe(FeedStatus, self.on_feed_status, urgent=True)
        if self.auto is not None:
            bus.subscribe(Trade, self.on_trade, urgent=True)

    # ------------------------------------------------------------------ start (the pipeline's)

    @property
    def filters(self) -> dict[str, OrderFilter]:
        return self.executor.filters

    def set_filters(self, filters: dict[str, SymbolFilters]) -> None:
        self.executor.filters = {sym: OrderFilter(f) for sym, f in filters.items()}

    def recover(self) -> int:
        """Adopt the orders a previous process left pending and learn their fate by query."""
        return recover_pending(self.desk, self.resolver, self.clock)

    @property
    def halted(self) -> str:
        """The reason once a CancelAll of every symbol halted the router ("" = not halted)."""
        return self.halting.reason

    @property
    def cancel_all_errors(self) -> int:
        return self.halting.cancel_all_errors

    # ------------------------------------------------------------------ venue tasks

    async def idle(self) -> None:
        """Wait until no venue call is in flight (tests, replay, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._track(asyncio.get_running_loop().create_task(coro))
        self.handoff.request()  # the receive loop yields to it before its next buffered frame

    def _spawn_now(self, coro: Coroutine[Any, Any, None]) -> None:
        """An order's placement: its first step (commit, durability check, the request written) runs now."""
        self._track(start_eager(coro))

    def _track(self, task: asyncio.Task[None]) -> None:
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

    def rehearse(self, symbol: str) -> OrderRequest | None:
        """The pure part of a decision on ``symbol``, kept nowhere (cache warming: ``hedge.daemon.warm``)."""
        return self.executor.rehearse(symbol)

    def on_decision(self, d: RiskDecision) -> None:
        intent = d.intent
        iid = intent.intent_id
        if not d.allow or self.halting.reason or iid in self.executions or self.desk.seen(iid):
            self.ignored += 1
            return
        if intent.stop_price > 0.0:
            self.protective.protect(intent, self.executor.filters.get(intent.symbol))
            return
        self.executor.execute(d)

    def on_trade(self, t: Trade) -> None:
        if self.auto is not None:
            self.auto.stats.on_trade(self.clock.now_s(), t)

    def on_mark(self, m: MarkPrice) -> None:
        self.executor.marks[m.symbol] = m.mark_price

    def on_position(self, p: Position) -> None:
        self.halting.positions[p.symbol] = p.qty
        if p.qty == 0.0:
            self.protective.on_flat(p.symbol)

    def on_feed_status(self, ev: FeedStatus) -> None:
        """After the user stream was down, query every live order: its updates may have been missed."""
        if ev.connection != self.user_stream:
            return
        if not ev.connected:
            self._user_stream_down = True
        elif self._user_stream_down:
            self._user_stream_down = False
            self.resolver.requery_live()

    def on_order_update(self, u: OrderUpdate) -> None:
        """The user stream's view of an order (only this process's orders are acted on, plus the
        protective stops reconciliation finds at the exchange)."""
        if self.lifecycle.get(u.client_order_id) is not None:
            self.desk.apply(u, publish=False)
        elif u.type is OrderType.STOP_MARKET and u.status in RESTING and is_engine_order_id(u.client_order_id):
            self.protective.adopt(u)

    def _on_progress(self, cid: str) -> None:
        rec = self.lifecycle.orders[cid]
        if self.protective.owns(cid):
            self.protective.progress(rec)
        else:
            self.executor.progress(rec)
