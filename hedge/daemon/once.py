"""``--once``: one full cycle of the engine, then stop.

Owns: ``OnceCycle``: connect, sync every book, reconcile (filters, pending orders, the account's
NAV, the portfolio's first reconciliation), one round of decisions (one feature update per
symbol), publish, stop; its ``OnceSummary`` (what completed, what it still waited for, the
trading state at the end) is for the command to print.

Must never: print, make a trading decision, or wait on a fixed sleep (it waits on events, and
re-checks every 0.1 s what loads silently).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import msgspec

from hedge.app import Engine
from hedge.events import (
    BookState,
    BookStatus,
    Features,
    FeedStatus,
    Nav,
    OrderRequest,
    Reconciled,
    RiskDecision,
)
from hedge.pipeline import Pipeline


class OnceSummary(msgspec.Struct, kw_only=True):
    ok: bool = False
    problem: str = ""  # why the cycle did not complete
    venue: str = ""
    elapsed_s: float = 0.0
    books_synced: list[str] = []
    filters: int = 0
    nav: float = 0.0
    reconciled: str = ""  # the portfolio's first reconciliation: symbols compared, drifts, adoptions
    features: int = 0  # the round of decisions: one feature update per symbol
    decisions: int = 0
    approved: int = 0
    orders_sent: int = 0
    trading_state: str = ""  # the risk gate's state at the end of the cycle (ACTIVE, REDUCING, HALTED)
    state_reason: str = ""


class OnceCycle:
    """``--once``: one full cycle, then stop the engine (see the module docstring)."""

    name = "once"

    def __init__(self, engine: Engine, pipe: Pipeline, *, user_stream: str | None, timeout_s: float) -> None:
        self.engine = engine
        self.pipe = pipe
        self.symbols = list(engine.cfg.strategy.universe)
        self.user_stream = user_stream
        self.timeout_s = timeout_s
        self.summary = OnceSummary(venue=pipe.venue.name)
        self._synced: set[str] = set()
        self._user_up = user_stream is None
        self._round: set[str] | None = None  # symbols with a feature update in the round (None: not ready yet)
        self._changed = asyncio.Event()
        bus = engine.bus
        bus.subscribe(BookStatus, self._on_book_status)
        bus.subscribe(FeedStatus, self._on_feed_status)
        bus.subscribe(Nav, self._on_nav)
        bus.subscribe(Reconciled, self._on_reconciled)
        bus.subscribe(Features, self._on_features)
        bus.subscribe(RiskDecision, self._on_decision)
        bus.subscribe(OrderRequest, self._on_request)

    def _on_book_status(self, ev: BookStatus) -> None:
        if ev.state is BookState.VALID:
            self._synced.add(ev.symbol)
        else:
            self._synced.discard(ev.symbol)
        self._changed.set()

    def _on_feed_status(self, ev: FeedStatus) -> None:
        if ev.connection == self.user_stream:
            self._user_up = ev.connected
            self._changed.set()

    def _on_nav(self, ev: Nav) -> None:
        self.summary.nav = ev.nav
        self._changed.set()

    def _on_reconciled(self, ev: Reconciled) -> None:
        if not self.summary.reconciled:
            self.summary.reconciled = (f"{ev.symbols} symbols, {ev.drifts} drifts, {ev.adopted_positions} positions "
                                       f"and {ev.adopted_orders} orders adopted, {ev.fills_replayed} fills replayed")
            self._changed.set()

    def _on_features(self, ev: Features) -> None:
        if self._round is not None:
            self._round.add(ev.symbol)
            self.summary.features += 1
            self._changed.set()

    def _on_decision(self, d: RiskDecision) -> None:
        if self._round is not None:
            self.summary.decisions += 1
            self.summary.approved += d.allow

    def _on_request(self, _r: OrderRequest) -> None:
        if self._round is not None:
            self.summary.orders_sent += 1

    def _ready_problem(self) -> str:
        """What the cycle still waits for before deciding ("" = ready)."""
        if not self.pipe.filters:
            return "exchange filters not loaded"
        missing = [s for s in self.symbols if s not in self._synced]
        if missing:
            return f"books not synced: {', '.join(missing)}"
        if not self._user_up:
            return "user stream not connected"
        if self.summary.nav <= 0.0:
            return "no account NAV"
        if not self.summary.reconciled:
            return "portfolio not reconciled"
        return ""

    async def _until(self, done: Callable[[], bool]) -> None:
        """Wait for ``done``: re-checked on every relevant event, and every 0.1 s (filters load silently)."""
        while not done():
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.1)

    async def _cycle(self) -> None:
        await self._until(lambda: not self._ready_problem())
        self._round = set()
        await self._until(lambda: self._round is not None and set(self.symbols) <= self._round)
        await self.pipe.idle()

    async def run(self) -> None:
        t0 = self.engine.clock.now_s()
        self.summary.problem = "stopped before the cycle completed"
        try:
            await asyncio.wait_for(self._cycle(), self.timeout_s)
            self.summary.ok, self.summary.problem = True, ""
        except TimeoutError:
            self.summary.problem = self._ready_problem() or "no round of decisions within the timeout"
        finally:
            self.summary.elapsed_s = round(self.engine.clock.now_s() - t0, 3)
            self.summary.books_synced = sorted(self._synced)
            self.summary.filters = len(self.pipe.filters)
            machine = self.pipe.risk.machine
            self.summary.trading_state, self.summary.state_reason = machine.state.value, machine.reason
        self.engine.observability.publisher.flush()
        self.engine.request_stop("once")
