"""The risk stage: keeps a ``RiskContext`` current from bus events and answers every ``OrderIntent``.

Owns: the engine's risk view (NAV via ``NavTracker``, positions with their open orders, books,
feed lag, order-ack latency, user-stream liveness, cooloff, ALT-EXT switch), the trading state
machine, the veto journal (logs/risk_vetoes.jsonl) and the per-reason counters.

Design: every subscription is synchronous (hot path: plain calls, no awaits). On an intent it
builds an immutable ``RiskContext`` (the dicts inside are replaced on change, never mutated, so
building one copies nothing), calls the pure ``check_order`` and publishes the
``RiskDecision``. The engine's view is deliberately pessimistic between exchange reports, so
that in each direction it never shows less exposure than the exchange has, whatever order the
reports arrive in:
- open orders count as if those on the order's side had filled (``PositionRisk.worst``);
- a fill, learnt from the increase of an ``OrderUpdate``'s cumulative ``filled_qty`` (one event
  moves it from "open" to "filled": nothing is ever in neither), stays counted on its side as
  *unconfirmed* until a ``Position`` of its symbol stamped strictly later (``ts_ms``) arrives —
  that position includes it. A ``Position`` older than one already applied (a slow
  reconciliation) is ignored; one with ``ts_ms`` 0 is taken to include every fill so far;
- a final order's late non-final update does not bring it back.
``Fill`` events only feed the cooloff (realized PnL). An order still waiting for its first
answer counts in the order-ack latency with its age.
Transitions: a drawdown breach -> REDUCING and ALT-EXT off; stale NAV -> ALT-EXT off; a new
UTC day re-arms both when the daily drawdown was the cause; ``halt`` (the kill switch) ->
HALTED plus a ``CancelAll`` request for the venue; an unresolved ``PositionDrift`` (the
portfolio's reconciliation found the ledger and the exchange disagreeing without explanation) ->
REDUCING, left only by an operator restart. Until the portfolio publishes its first
``Reconciled`` every order is vetoed (``not_reconciled``; ``risk.require_reconciliation``).
With a ``state_file`` (the daemon's ``logs/state/risk_state.json``) the stage starts from the
memory a previous process left (day-start NAV, high-water mark, returns, cooloff, a drawdown's
REDUCING: ``hedge.risk.persisted`` decides what still holds) and tells its ``store`` — a service
the caller runs — whenever that memory may have changed; the store writes, off the hot path.

It publishes a ``RiskSnapshot`` (NAV, drawdowns, exposures, VaR/CVaR, open orders, state) when
NAV, a position, a mark or the open orders change, at most every ``SNAPSHOT_INTERVAL_NS`` on its
clock (the state files, /metrics and the drawdown alert read it).

Must never: send or cancel an order itself, do I/O on the hot path other than the in-memory
journal buffer, or approve an intent without ``check_order``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    Alert,
    Balance,
    BookState,
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
    Reconciled,
    RiskDecision,
    RiskSnapshot,
    TradingState,
    TradingStateChange,
)
from hedge.risk.check import check_order, historical_cvar, historical_var
from hedge.risk.context import BookRisk, PositionRisk, RiskContext
from hedge.risk.cooloff import Cooloff, is_genuine_reject
from hedge.risk.limits import RiskLimits
from hedge.risk.nav import NavTracker
from hedge.risk.persisted import Loaded, PersistedRisk, RiskStateStore, account_key
from hedge.risk.reasons import Reason
from hedge.risk.trading_state import TradingStateMachine
from hedge.state.journal import JournalWriter

log = logging.getLogger(__name__)

VETO_JOURNAL = "risk_vetoes"


class RiskCounters(msgspec.Struct, frozen=True, kw_only=True):
    """What the risk stage has decided so far (for metrics and state files)."""

    decisions: int
    allowed: int
    reduced: int  # allowed with a smaller max_qty than asked
    vetoed: int
    vetoes: dict[str, int]  # per reason (a veto with two reasons counts under both)
    reductions: dict[str, int]  # per reason, allowed-but-reduced decisions
    cooloffs: int
    state: TradingState
    state_reason: str
    alt_ext_disabled: bool


class _OpenOrder(msgspec.Struct, gc=False):
    symbol: str
    sign: int
    remaining: float
    filled: float = 0.0


SNAPSHOT_INTERVAL_NS = 250_000_000
FINISHED_MEMORY = 4096  # final orders remembered, so a late update cannot resurrect them


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
        clock: Callable[[], int] = time.time_ns,
        state_file: str | Path | None = None,
    ) -> None:
        self.bus = bus
        self.cfg = cfg
        self.limits = RiskLimits.from_config(cfg)
        self.journal = journal
        self.clock = clock
        risk = cfg.risk
        self.nav = NavTracker(return_period_s=risk.return_period_s, return_window=risk.return_window)
        self.machine = TradingStateMachine(self._state_changed, clock())
        self.cooloff = Cooloff(risk.cooloff)
        self.user_stream_up = False
        self.reconciled = not risk.require_reconciliation
        self.alt_ext_disabled = False
        self.ack_latency_ms = 0.0  # the latest measured
        self._ack_at_ns = 0  # when it was measured
        self._ack_window_ns = int(risk.ack_latency_window_s * 1e9)
        self.min_notional: dict[str, float] = {}
        self.step_size: dict[str, float] = {}
        self._books: dict[str, BookRisk] = {}
        self._qty: dict[str, float] = {}
        self._marks: dict[str, float] = {}
        self._orders: dict[str, _OpenOrder] = {}
        self._sent_ns: dict[str, int] = {}  # unanswered requests, oldest first
        self._finished: dict[str, None] = {}  # recently final client order ids, oldest first
        self._unconfirmed: dict[str, list[tuple[int, int, float]]] = {}  # (ts_ms, sign, qty) not in a Position
        self._pos_ts: dict[str, int] = {}  # ts_ms of the Position applied last, per symbol
        self._positions: dict[str, PositionRisk] = {}
        self._decisions = 0
        self._allowed = 0
        self._reduced = 0
        self._vetoes: dict[str, int] = {}
        self._reductions: dict[str, int] = {}
        self._snapshot_ns = -SNAPSHOT_INTERVAL_NS  # when the last RiskSnapshot was published
        self._changed: Callable[[], None] = _nothing  # the memory may have changed (the store's mark_dirty)
        self.store: RiskStateStore | None = None
        if state_file is not None:
            self.store = RiskStateStore(state_file, self.memory)
            now = clock()
            self.restore(self.store.load(account=account_key(cfg), now_ms=now // 1_000_000,
                                         return_period_s=risk.return_period_s, return_window=risk.return_window), now)
            self._changed = self.store.mark_dirty
            self._changed()  # the file exists (and says what was carried over) from the start

    def attach(self) -> None:
        sub = self.bus.subscribe
        sub(OrderIntent, self.on_intent)
        sub(Nav, self.on_nav)
        sub(Balance, self.on_balance)
        sub(Position, self.on_position)
        sub(MarkPrice, self.on_mark)
        sub(BookUpdate, self.on_book)
        sub(BookStatus, self.on_book_status)
        sub(OrderRequest, self.on_order_request)
        sub(OrderUpdate, self.on_order_update)
        sub(Fill, self.on_fill)
        sub(FeedStatus, self.on_feed_status)
        sub(Heartbeat, self.on_heartbeat)
        sub(Reconciled, self.on_reconciled)
        sub(PositionDrift, self.on_drift)

    # ------------------------------------------------------------------ the decision

    def context(self, symbol: str, now_ns: int) -> RiskContext:
        now_ms = now_ns // 1_000_000
        nav = self.nav
        return RiskContext(
            now_ns=now_ns,
            state=self.machine.state,
            nav=nav.nav_health_snapshot(now_ms),
            day_start_nav=nav.day_start_nav,
            nav_hwm=nav.hwm,
            positions=self._positions,
            open_orders=len(self._orders),
            book=self._books.get(symbol),
            ack_latency_ms=self._ack_latency(now_ns),
            user_stream_up=self.user_stream_up,
            reconciled=self.reconciled,
            returns=nav.returns,
            cooloff_until_ms=self.cooloff.until_ms,
            cooloff_reason=self.cooloff.reason,
            alt_ext_disabled=self.alt_ext_disabled,
            min_notional=self.min_notional.get(symbol, 0.0),
            step_size=self.step_size.get(symbol, 0.0),
        )

    def _ack_latency(self, now_ns: int) -> float:
        """The latest ack latency measured within the window, or the oldest unanswered request's age if larger."""
        measured = self.ack_latency_ms if now_ns - self._ack_at_ns <= self._ack_window_ns else 0.0
        if self._sent_ns:
            oldest = next(iter(self._sent_ns.values()))
            return max(measured, (now_ns - oldest) / 1e6)
        return measured

    def on_intent(self, intent: OrderIntent) -> None:
        decision = check_order(intent, self.context(intent.symbol, self.clock()), self.limits)
        self._count(decision)
        if not decision.allow and self.journal is not None:
            self.journal.write("veto", decision, decision.recv_ns)
        self.bus.publish(decision)

    def _count(self, d: RiskDecision) -> None:
        self._decisions += 1
        if d.allow:
            self._allowed += 1
            if not d.reasons:
                return
            self._reduced += 1
            table = self._reductions
        else:
            table = self._vetoes
        for r in d.reasons:
            table[r] = table.get(r, 0) + 1

    def counters(self) -> RiskCounters:
        return RiskCounters(
            decisions=self._decisions,
            allowed=self._allowed,
            reduced=self._reduced,
            vetoed=self._decisions - self._allowed,
            vetoes={str(k): v for k, v in self._vetoes.items()},
            reductions={str(k): v for k, v in self._reductions.items()},
            cooloffs=self.cooloff.started,
            state=self.machine.state,
            state_reason=self.machine.reason,
            alt_ext_disabled=self.alt_ext_disabled,
        )

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
            alt_ext_disabled=self.alt_ext_disabled,
        )

    def restore(self, loaded: Loaded, now_ns: int) -> None:
        """Start from a previous process's memory (before any event); an unusable file -> REDUCING."""
        m = loaded.memory
        self.nav.restore(day=m.day, day_start_nav=m.day_start_nav, hwm=m.hwm, returns=m.returns,
                         sample=(m.sample_nav, m.sample_ms))
        self.cooloff.restore(until_ms=m.cooloff_until_ms, reason=m.cooloff_reason, losses=m.consecutive_losses,
                             rejects=m.consecutive_rejects)
        self.alt_ext_disabled = m.alt_ext_disabled
        if loaded.problem:
            self.alt_ext_disabled = True
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
        now = self.clock()
        self.machine.set(TradingState.HALTED, reason, now)
        self.bus.publish(
            CancelAll(reason=reason, flatten=self.cfg.risk.kill_switch.flatten, ts_ms=now // 1_000_000, recv_ns=now)
        )

    def snapshot(self, now_ns: int) -> RiskSnapshot:
        """The risk view now: exposures at the latest marks as multiples of NAV, VaR/CVaR of the returns."""
        nav = self.nav
        value = nav.value
        gross = net = 0.0
        for p in self._positions.values():
            x = p.qty * p.mark
            gross += abs(x)
            net += x
        lim = self.limits
        enough = len(nav.returns) >= lim.cvar_min_samples
        return RiskSnapshot(
            nav=value, peak_nav=nav.hwm, drawdown=nav.portfolio_drawdown(), daily_drawdown=nav.daily_drawdown(),
            gross_exposure=gross / value if value > 0.0 else 0.0, net_exposure=net / value if value > 0.0 else 0.0,
            var=historical_var(nav.returns, lim.cvar_alpha) if enough else 0.0,
            cvar=historical_cvar(nav.returns, lim.cvar_alpha) if enough else 0.0,
            open_orders=len(self._orders), state=self.machine.state, reason=self.machine.reason,
            ts_ms=now_ns // 1_000_000, recv_ns=now_ns,
        )

    def _publish_snapshot(self) -> None:
        now = self.clock()
        if now - self._snapshot_ns >= SNAPSHOT_INTERVAL_NS:
            self._snapshot_ns = now
            self.bus.publish(self.snapshot(now))

    def evaluate(self, now_ns: int) -> None:
        """Apply the state rules to the current NAV: drawdowns, staleness, a new day."""
        nav, lim = self.nav, self.limits
        now_ms = now_ns // 1_000_000
        daily = nav.daily_drawdown() > lim.daily_dd_limit
        total = nav.portfolio_drawdown() > lim.portfolio_dd_limit
        stale = nav.updated_ms > 0 and nav.nav_health_snapshot(now_ms).age_s > lim.nav_freshness_s
        if nav.new_day:
            nav.new_day = False
            if not (daily or total or stale):
                if self.alt_ext_disabled:
                    log.info("risk: new UTC day, ALT-EXT re-enabled")
                self.alt_ext_disabled = False
                if self.machine.state is TradingState.REDUCING and self.machine.reason == Reason.DAILY_DRAWDOWN:
                    self.machine.set(TradingState.ACTIVE, "new UTC day", now_ns)
        if daily or total or stale:
            if not self.alt_ext_disabled:
                log.warning("risk: ALT-EXT disabled (%s)", "stale NAV" if stale else "drawdown breach")
            self.alt_ext_disabled = True
        if self.machine.state is TradingState.ACTIVE and (daily or total):
            self.machine.set(
                TradingState.REDUCING, Reason.DAILY_DRAWDOWN if daily else Reason.PORTFOLIO_DRAWDOWN, now_ns
            )
        self._changed()  # day start, high-water mark, returns, ALT-EXT (the store compares and throttles)
        self._publish_snapshot()

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

    def on_drift(self, ev: PositionDrift) -> None:
        """Unexplained drift between the ledger and the exchange: REDUCING until an operator restart."""
        if not ev.resolved:
            self.machine.set(TradingState.REDUCING, f"position drift {ev.symbol}", self.clock())

    # ------------------------------------------------------------------ account events

    def on_nav(self, ev: Nav) -> None:
        now = self.clock()
        self.nav.on_nav(ev, now // 1_000_000)
        self.evaluate(now)

    def on_balance(self, ev: Balance) -> None:
        now = self.clock()
        self.nav.on_balance(ev, now // 1_000_000)
        self.evaluate(now)

    def on_position(self, ev: Position) -> None:
        now = self.clock()
        sym, ts = ev.symbol, ev.ts_ms
        if ts and ts < self._pos_ts.get(sym, 0):
            return  # older than the position already applied (a slow reconciliation)
        self._pos_ts[sym] = ts
        self._qty[sym] = ev.qty
        pending = self._unconfirmed.get(sym)
        if pending:  # fills strictly before this position are in it
            self._unconfirmed[sym] = [f for f in pending if ts and f[0] >= ts]
        mark = ev.mark_price or ev.entry_price
        if mark > 0.0:
            self._marks[ev.symbol] = mark
        self._refresh(ev.symbol)
        self.nav.on_position(ev, now // 1_000_000)
        self.evaluate(now)

    def on_mark(self, ev: MarkPrice) -> None:
        if ev.mark_price > 0.0:
            self._marks[ev.symbol] = ev.mark_price
            if ev.symbol in self._positions:
                self._refresh(ev.symbol)
                self._publish_snapshot()

    def on_fill(self, ev: Fill) -> None:
        self._marks.setdefault(ev.symbol, ev.price)
        self.cooloff.on_realized(ev.realized_pnl, self.clock() // 1_000_000)
        self._changed()

    def _refresh(self, symbol: str) -> None:
        buy = sell = 0.0
        for _ts, sign, qty in self._unconfirmed.get(symbol, ()):
            if sign > 0:
                buy += qty
            else:
                sell += qty
        for o in self._orders.values():
            if o.symbol == symbol:
                if o.sign > 0:
                    buy += o.remaining
                else:
                    sell += o.remaining
        qty = self._qty.get(symbol, 0.0)
        positions = dict(self._positions)
        if qty == 0.0 and buy == 0.0 and sell == 0.0:
            positions.pop(symbol, None)
        else:
            positions[symbol] = PositionRisk(qty=qty, mark=self._marks.get(symbol, 0.0), open_buy=buy, open_sell=sell)
        self._positions = positions  # replaced, never mutated: contexts already built stay valid

    # ------------------------------------------------------------------ orders

    def on_order_request(self, ev: OrderRequest) -> None:
        self._orders[ev.client_order_id] = _OpenOrder(ev.symbol, ev.side.sign, ev.qty)
        self._sent_ns[ev.client_order_id] = ev.recv_ns or self.clock()
        if ev.price > 0.0:
            self._marks.setdefault(ev.symbol, ev.price)
        self._refresh(ev.symbol)

    def on_order_update(self, ev: OrderUpdate) -> None:
        coid = ev.client_order_id
        status = ev.status
        if status is not OrderStatus.PENDING and status is not OrderStatus.UNKNOWN:
            sent = self._sent_ns.pop(coid, 0)
            if sent:
                self._ack_at_ns = ev.recv_ns or self.clock()
                self.ack_latency_ms = (self._ack_at_ns - sent) / 1e6
        if status is OrderStatus.REJECTED:
            if is_genuine_reject(ev.reject_code, ev.reason):
                self.cooloff.on_reject(self.clock() // 1_000_000)
                self._changed()
        elif status is OrderStatus.NEW and self.cooloff.rejects:
            self.cooloff.on_accept()
            self._changed()
        if coid in self._finished:
            return  # a late update of an order already final
        final = status.is_final
        o = self._orders.get(coid)
        if o is None:  # an order placed before this process (or elsewhere): count it
            if final and ev.filled_qty <= 0.0:
                return
            o = _OpenOrder(ev.symbol, ev.side.sign, ev.qty)
            if not final:
                self._orders[coid] = o
        if ev.filled_qty > o.filled:  # newly filled: from "open" to "unconfirmed", in one step
            self._unconfirmed.setdefault(ev.symbol, []).append((ev.ts_ms, o.sign, ev.filled_qty - o.filled))
            o.filled = ev.filled_qty
        if final:
            self._orders.pop(coid, None)
            self._sent_ns.pop(coid, None)
            self._finished[coid] = None
            if len(self._finished) > FINISHED_MEMORY:
                del self._finished[next(iter(self._finished))]
        elif ev.qty > 0.0:
            o.remaining = max(0.0, ev.qty - o.filled)
        self._refresh(ev.symbol)
        self._publish_snapshot()

    # ------------------------------------------------------------------ market data and health

    def on_book(self, ev: BookUpdate) -> None:
        lag = (ev.recv_ns / 1e6 - ev.ts_ms) if ev.ts_ms > 0 and ev.recv_ns > 0 else 0.0
        self._books[ev.symbol] = BookRisk(
            valid=ev.valid, bid=ev.bid_px, ask=ev.ask_px, spread_bps=ev.spread_bps, lag_ms=lag
        )

    def on_book_status(self, ev: BookStatus) -> None:
        book = self._books.get(ev.symbol)
        if ev.state is not BookState.VALID and book is not None and book.valid:
            self._books[ev.symbol] = msgspec.structs.replace(book, valid=False)

    def on_feed_status(self, ev: FeedStatus) -> None:
        if ev.connection == self.cfg.risk.user_stream:
            self._user_stream(ev.connected, ev.reason)

    def on_heartbeat(self, ev: Heartbeat) -> None:
        if ev.component == self.cfg.risk.user_stream:
            self._user_stream(ev.ok, ev.detail)
        elif ev.component == "engine":
            self.evaluate(self.clock())  # once a second: NAV staleness

    def _user_stream(self, up: bool, why: str) -> None:
        if up != self.user_stream_up:
            level = logging.INFO if up else logging.WARNING
            log.log(level, "risk: user-data stream %s%s", "up" if up else "DOWN", f" ({why})" if why else "")
        self.user_stream_up = up
