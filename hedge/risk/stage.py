"""The risk stage: keeps a ``RiskContext`` current from bus events and answers every ``OrderIntent``.

Owns: the bus wiring of the engine's risk view and the decision: it composes the NAV
(``NavTracker``) and its rules (``NavRules``: drawdowns, staleness, a new day, the ALT-EXT
switch), the exposure view (``Exposure``: positions with their open orders and unconfirmed
fills), the market links (``MarketView``: books, user-stream liveness), the order-ack latency
(``AckLatency``), the cooloff, the trading state machine, the ``RiskSnapshot`` publisher, the
decision tally (``DecisionTally``) and the veto journal (logs/risk_vetoes.jsonl); it owns the
reconciliation gate, the kill switch's ``halt`` and the memory carried over a restart.

Design: every subscription is synchronous (hot path: plain calls, no awaits). On an intent it
builds an immutable ``RiskContext`` (the dicts inside are replaced on change, never mutated, so
building one copies nothing), calls the pure ``check_order`` and publishes the
``RiskDecision``. ``Fill`` events only feed the cooloff (realized PnL). An order still waiting
for its first answer counts in the order-ack latency with its age.
Transitions: see ``NavRules`` for NAV; ``halt`` (the kill switch) -> HALTED plus a ``CancelAll``
request for the venue; a 418 ban (``RateLimit``) -> HALTED at once, reason "venue ban (418) until
<ISO time>" (no ``CancelAll`` of its own: nothing can reach the venue during the ban, the router
stops its executions and cancels their orders the moment the ban ends, and the protective stops
keep resting at the exchange); an unresolved ``PositionDrift`` (the portfolio's reconciliation found the
ledger and the exchange disagreeing without explanation) -> REDUCING, left only by an operator
restart. Until the portfolio publishes its first ``Reconciled`` every order is vetoed
(``not_reconciled``; ``risk.require_reconciliation``).
With a ``state_file`` (the daemon's ``logs/state/risk_state.json``) the stage starts from the
memory a previous process left (day-start NAV, high-water mark, returns, cooloff, a drawdown's
REDUCING: ``hedge.risk.persisted`` decides what still holds) and tells its ``store`` — a service
the caller runs — whenever that memory may have changed; the store writes, off the hot path.
With a ``remote`` second opinion (the daemon's ``risk.gate_url``: ``hedge.gate.remote``) an intent
``check_order`` allows is published only once the remote gate has answered, in a task of its own
(the remote fails closed: it answers a veto on a timeout or an error; a veto is never re-asked).
``rehearse`` checks a probe intent against the live context and drops the verdict (cache warming,
``hedge.daemon.warm``: the check runs ~45 us cold live, ~3 us hot).

Must never: send or cancel an order itself, do I/O on the hot path other than the in-memory
journal buffer, or approve an intent without ``check_order``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from pathlib import Path

from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    Alert,
    Balance,
    BookStatus,
    BookUpdate,
    CancelAll,
    FeedStatus,
    Fill,
    Heartbeat,
    MarkPrice,
    Nav,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    Position,
    PositionDrift,
    RateLimit,
    Reconciled,
    RiskDecision,
    Side,
    TradingState,
    TradingStateChange,
)
from hedge.model.clock import Clock, LiveClock, iso_utc
from hedge.risk.ack_latency import AckLatency
from hedge.risk.check import check_order
from hedge.risk.context import RiskContext
from hedge.risk.cooloff import Cooloff, is_genuine_reject
from hedge.risk.counters import DecisionTally, RiskCounters
from hedge.risk.exposure import Exposure
from hedge.risk.limits import RiskLimits
from hedge.risk.market_view import MarketView
from hedge.risk.nav import NavTracker
from hedge.risk.nav_rules import NavRules
from hedge.risk.persisted import Loaded, PersistedRisk, RiskStateStore, account_key
from hedge.risk.snapshot import SnapshotPublisher
from hedge.risk.trading_state import TradingStateMachine
from hedge.state.journal import JournalWriter

log = logging.getLogger(__name__)

VETO_JOURNAL = "risk_vetoes"
REHEARSAL = "rehearsal"  # the intent id and strategy of ``RiskStage.rehearse``'s probe, never published


def _nothing() -> None:
    pass


class RiskStage:
    """Wire with ``attach()``; ``halt(reason)`` is the kill switch's entry point; run ``store`` (when
    there is a ``state_file``) as a service."""

    def __init__(
        self,
        bus: Bus,
        cfg: Config,
        journal: JournalWriter | None = None,
        *,
        clock: Clock | None = None,
        state_file: str | Path | None = None,
    ) -> None:
        self.bus = bus
        self.cfg = cfg
        self.limits = RiskLimits.from_config(cfg)
        self.journal = journal
        self.clock: Clock = clock or LiveClock()
        now_ns = self.clock.now_ns
        risk = cfg.risk
        self.nav = NavTracker(return_period_s=risk.return_period_s, return_window=risk.return_window)
        self.machine = TradingStateMachine(self._state_changed, now_ns())
        self.rules = NavRules(self.nav, self.machine, self.limits)
        self.cooloff = Cooloff(risk.cooloff)
        self.exposure = Exposure()
        self.market = MarketView(risk.user_stream)
        self.acks = AckLatency(risk.ack_latency_window_s, self.clock)
        self.snapshots = SnapshotPublisher(bus, self.clock, nav=self.nav, exposure=self.exposure, machine=self.machine,
                                           limits=self.limits, cooloff=self.cooloff)
        self.tally = DecisionTally()
        self.reconciled = not risk.require_reconciliation
        self.min_notional: dict[str, float] = {}
        self.step_size: dict[str, float] = {}
        # risk.gate_url (set by the daemon): asked after every local approval; it never raises (fails closed)
        self.remote: Callable[[RiskDecision], Awaitable[RiskDecision]] | None = None
        self._remote_tasks: set[asyncio.Task[None]] = set()
        self._changed: Callable[[], None] = _nothing  # the memory may have changed (the store's mark_dirty)
        self.store: RiskStateStore | None = None
        if state_file is not None:
            self.store = RiskStateStore(state_file, self.memory, clock=self.clock)
            now = now_ns()
            self.restore(self.store.load(account=account_key(cfg), now_ms=now // 1_000_000,
                                         return_period_s=risk.return_period_s, return_window=risk.return_window), now)
            self._changed = self.store.mark_dirty
            self._changed()  # the file exists (and says what was carried over) from the start

    def attach(self) -> None:
        sub = self.bus.subscribe
        sub(OrderIntent, self.on_intent, urgent=True)
        sub(Nav, self.on_nav, urgent=True)
        sub(Balance, self.on_balance, urgent=True)
        sub(Position, self.on_position, urgent=True)
        sub(MarkPrice, self.on_mark, urgent=True)
        sub(BookUpdate, self.market.on_book, urgent=True)
        sub(BookStatus, self.market.on_book_status, urgent=True)
        sub(OrderRequest, self.on_order_request, urgent=True)
        sub(OrderUpdate, self.on_order_update, urgent=True)
        sub(Fill, self.on_fill, urgent=True)
        sub(FeedStatus, self.market.on_feed_status, urgent=True)
        sub(Heartbeat, self.on_heartbeat, urgent=True)
        sub(Reconciled, self.on_reconciled, urgent=True)
        sub(PositionDrift, self.on_drift, urgent=True)
        sub(RateLimit, self.on_rate_limit, urgent=True)

    @property
    def alt_ext_disabled(self) -> bool:
        return self.rules.alt_ext_disabled

    @property
    def user_stream_up(self) -> bool:
        return self.market.user_stream_up

    # ------------------------------------------------------------------ the decision

    def context(self, symbol: str, now_ns: int) -> RiskContext:
        now_ms = now_ns // 1_000_000
        nav = self.nav
        exposure = self.exposure
        market = self.market
        return RiskContext(
            now_ns=now_ns,
            state=self.machine.state,
            nav=nav.nav_health_snapshot(now_ms),
            day_start_nav=nav.day_start_nav,
            nav_hwm=nav.hwm,
            positions=exposure.positions,
            open_orders=len(exposure.orders),
            book=market.book(symbol),
            ack_latency_ms=self.acks.value(now_ns),
            user_stream_up=market.user_stream_up,
            reconciled=self.reconciled,
            returns=nav.returns,
            cooloff_until_ms=self.cooloff.until_ms,
            cooloff_reason=self.cooloff.reason,
            alt_ext_disabled=self.rules.alt_ext_disabled,
            min_notional=self.min_notional.get(symbol, 0.0),
            step_size=self.step_size.get(symbol, 0.0),
        )

    def on_intent(self, intent: OrderIntent) -> None:
        decision = check_order(intent, self.context(intent.symbol, self.clock.now_ns()), self.limits)
        if decision.allow and self.remote is not None:  # risk.gate_url: a second opinion, off the hot path
            task = asyncio.get_running_loop().create_task(self._ask_remote(decision), name="risk:remote-gate")
            self._remote_tasks.add(task)
            task.add_done_callback(self._remote_tasks.discard)
            return
        self._decided(decision)

    def rehearse(self, symbol: str) -> RiskDecision:
        """The check of a small buy on ``symbol`` against the current context, kept nowhere (no count,
        journal line or event): cache warming (``hedge.daemon.warm``), which drops the verdict."""
        book = self.market.book(symbol)
        price = book.ask if book is not None and book.valid else 0.0
        notional = 2.0 * max(self.min_notional.get(symbol, 0.0), self.step_size.get(symbol, 0.0) * price)
        probe = OrderIntent(intent_id=REHEARSAL, symbol=symbol, side=Side.BUY, notional=notional, strategy=REHEARSAL,
                            reason=REHEARSAL, limit_px=price, e_pi_bps=math.inf)  # past the expected-return gate
        return check_order(probe, self.context(symbol, self.clock.now_ns()), self.limits)

    async def _ask_remote(self, decision: RiskDecision) -> None:
        assert self.remote is not None
        self._decided(await self.remote(decision))

    def _decided(self, decision: RiskDecision) -> None:
        self.tally.count(decision)
        if not decision.allow and self.journal is not None:
            self.journal.write("veto", decision, decision.recv_ns)
        self.bus.publish(decision)

    def counters(self) -> RiskCounters:
        return self.tally.counters(cooloffs=self.cooloff.started, state=self.machine.state,
                                   state_reason=self.machine.reason, alt_ext_disabled=self.rules.alt_ext_disabled)

    # ------------------------------------------------------------------ the memory that outlives the process

    def memory(self) -> PersistedRisk:
        """What ``hedge.risk.persisted`` saves of this stage (the store's snapshot)."""
        nav, cool, machine = self.nav, self.cooloff, self.machine
        sample_nav, sample_ms = nav.sample
        return PersistedRisk(
            account=account_key(self.cfg),
            day=nav.day,
            day_start_nav=nav.day_start_nav,
            hwm=nav.hwm,
            return_period_s=self.cfg.risk.return_period_s,
            returns=nav.returns,
            sample_nav=sample_nav,
            sample_ms=sample_ms,
            cooloff_until_ms=cool.until_ms,
            cooloff_reason=cool.reason,
            consecutive_losses=cool.losses,
            consecutive_rejects=cool.rejects,
            state=machine.state,
            state_reason=machine.reason,
            state_since_ns=machine.since_ns,
            alt_ext_disabled=self.rules.alt_ext_disabled,
        )

    def restore(self, loaded: Loaded, now_ns: int) -> None:
        """Start from a previous process's memory (before any event); an unusable file -> REDUCING."""
        m = loaded.memory
        self.nav.restore(day=m.day, day_start_nav=m.day_start_nav, hwm=m.hwm, returns=m.returns,
                         sample=(m.sample_nav, m.sample_ms))
        self.cooloff.restore(until_ms=m.cooloff_until_ms, reason=m.cooloff_reason, losses=m.consecutive_losses,
                             rejects=m.consecutive_rejects)
        self.rules.alt_ext_disabled = m.alt_ext_disabled
        if loaded.problem:
            self.rules.alt_ext_disabled = True
            self.machine.set(TradingState.REDUCING, f"risk state unusable: {loaded.problem}", now_ns)
            self.bus.publish(Alert(
                severity="critical", title="risk state unusable",
                text=f"the risk state file was unusable ({loaded.problem}) and was moved aside: trading is "
                     "REDUCING (no new exposure) until an operator restart",
                ts_ms=now_ns // 1_000_000, recv_ns=now_ns,
            ))
        elif m.state is TradingState.REDUCING and self.machine.set(TradingState.REDUCING, m.state_reason, now_ns):
            self.machine.since_ns = m.state_since_ns or now_ns

    # ------------------------------------------------------------------ trading state

    def _state_changed(self, ev: TradingStateChange) -> None:
        self.bus.publish(ev)
        self._changed()

    def halt(self, reason: str) -> None:
        """Kill switch: HALTED (sticky) and a request that the venue cancel every open order."""
        now = self.clock.now_ns()
        self.machine.set(TradingState.HALTED, reason, now)
        self.bus.publish(
            CancelAll(reason=reason, flatten=self.cfg.risk.kill_switch.flatten, ts_ms=now // 1_000_000, recv_ns=now)
        )

    def evaluate(self, now_ns: int) -> None:
        """Apply the state rules to the current NAV: drawdowns, staleness, a new day (see ``NavRules``)."""
        self.rules.apply(now_ns)
        self._changed()  # day start, high-water mark, returns, ALT-EXT (the store compares and throttles)
        self.snapshots.publish()

    def on_reconciled(self, ev: Reconciled) -> None:
        if not self.reconciled:
            m = self.machine
            if m.state is TradingState.ACTIVE:
                log.info("risk: first reconciliation done (%s); orders may be sent", ev.trigger)
            else:
                log.warning("risk: first reconciliation done (%s); trading state %s (%s): %s", ev.trigger,
                            m.state.value, m.reason,
                            "only cancels pass" if m.state is TradingState.HALTED else "only reducing orders pass")
        self.reconciled = True

    def on_rate_limit(self, ev: RateLimit) -> None:
        """A 418 ban: HALTED at once (sticky, like the kill switch: a ban means the engine broke the rules)."""
        if ev.status == 418:
            reason = f"venue ban (418) until {iso_utc(ev.banned_until_ms)}"
            self.machine.set(TradingState.HALTED, reason, self.clock.now_ns())

    def on_drift(self, ev: PositionDrift) -> None:
        """Unexplained drift between the ledger and the exchange: REDUCING until an operator restart."""
        if not ev.resolved:
            self.machine.set(TradingState.REDUCING, f"position drift {ev.symbol}", self.clock.now_ns())

    # ------------------------------------------------------------------ account events

    def on_nav(self, ev: Nav) -> None:
        now = self.clock.now_ns()
        self.nav.on_nav(ev, now // 1_000_000)
        self.evaluate(now)

    def on_balance(self, ev: Balance) -> None:
        now = self.clock.now_ns()
        self.nav.on_balance(ev, now // 1_000_000)
        self.evaluate(now)

    def on_position(self, ev: Position) -> None:
        now = self.clock.now_ns()
        if not self.exposure.on_position(ev):
            return  # older than the position already applied (a slow reconciliation)
        self.nav.on_position(ev, now // 1_000_000)
        self.evaluate(now)

    def on_mark(self, ev: MarkPrice) -> None:
        if self.exposure.on_mark(ev):
            self.snapshots.publish()

    def on_fill(self, ev: Fill) -> None:
        self.exposure.note_price(ev.symbol, ev.price)
        self.cooloff.on_realized(ev.realized_pnl, self.clock.now_ns() // 1_000_000)
        self._changed()

    # ------------------------------------------------------------------ orders

    def on_order_request(self, ev: OrderRequest) -> None:
        self.exposure.on_order_request(ev)
        self.acks.sent(ev.client_order_id, ev.recv_ns)

    def on_order_update(self, ev: OrderUpdate) -> None:
        status = ev.status
        if status is not OrderStatus.PENDING and status is not OrderStatus.UNKNOWN:
            self.acks.answered(ev.client_order_id, ev.recv_ns)
        if status is OrderStatus.REJECTED:
            if is_genuine_reject(ev.reject_code, ev.reason):
                self.cooloff.on_reject(self.clock.now_ns() // 1_000_000)
                self._changed()
        elif status is OrderStatus.NEW and self.cooloff.rejects:
            self.cooloff.on_accept()
            self._changed()
        if self.exposure.on_order_update(ev):
            self.snapshots.publish()

    # ------------------------------------------------------------------ health

    def on_heartbeat(self, ev: Heartbeat) -> None:
        if ev.component == self.market.user_stream:
            self.market.user_stream_status(ev.ok, ev.detail)
        elif ev.component == "engine":
            self.evaluate(self.clock.now_ns())  # once a second: NAV staleness
