"""The in-memory model behind the state files: latest values from the bus, built into schemas.

Owns: turning events into the content of each surface of ``hedge/state/manifest.py`` (NAV,
positions, ledger, risk, KPIs, router health, scores, funding, basis, diagnostics) and telling
the publisher which surfaces changed. KPIs are computed here from fills and NAV: PnL and fees are
sums over fills, the win rate counts fills that realized a profit among those that realized any
PnL, the maker ratio counts maker fills, turnover is the sum of |qty| x price.

Design: handlers are synchronous and only store the latest event (or add to a sum) and mark the
surface dirty; the Struct for a file is built only when the publisher writes it (at most once per
``state.min_interval_s``), so a burst of events costs one build. No market-data-per-tick event is
subscribed here (MarkPrice arrives about once a second per symbol). A row mirrors its event: every
row field named like an event field is copied from it (``mirror``), and only derived fields are
spelled out, so a field added to both the event and the row reaches the file without a copy line.

Must never: do I/O (the publisher writes), or hold a secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from hedge.bus import Bus
from hedge.events import (
    Fill,
    LedgerPosition,
    MarkPrice,
    Nav,
    OrderRequest,
    OrderUpdate,
    Position,
    RateLimit,
    RiskSnapshot,
    RouterHealth,
    Signal,
    StrategyScore,
    SymbolScore,
    TradingState,
    TradingStateChange,
)
from hedge.state import schemas as s
from hedge.state.health import HealthMonitor
from hedge.state.manifest import SURFACES
from hedge.state.telemetry import Telemetry

Row = TypeVar("Row", bound=msgspec.Struct)
Open = TypeVar("Open", Position, LedgerPosition)


def mirror(row_type: type[Row], src: msgspec.Struct, **computed: Any) -> Row:
    """A ``row_type`` holding every field it shares by name with the event ``src``, plus ``computed``."""
    shared = {f: getattr(src, f) for f in row_type.__struct_fields__ if f not in computed and hasattr(src, f)}
    return row_type(**shared, **computed)


class WriteStats:
    def __init__(self) -> None:
        self.writes = 0
        self.errors = 0


class StateModel:
    """Latest values per surface; ``build(name)`` makes the Struct the publisher writes."""

    def __init__(
        self,
        telemetry: Telemetry,
        health: HealthMonitor,
        bus: Bus,
        *,
        alert_stats: Callable[[], s.AlertStats] = s.AlertStats,
        write_stats: WriteStats | None = None,
    ) -> None:
        self.t = telemetry
        self.health = health
        self.bus = bus
        self.alert_stats = alert_stats
        self.write_stats = write_stats or WriteStats()
        self.on_dirty: Callable[[str], None] = lambda name: None
        self.nav: Nav | None = None
        self.peak_nav = 0.0
        self.nav_readings = 0
        self.positions: dict[str, Position] = {}
        self.ledger: dict[str, LedgerPosition] = {}
        self.risk: RiskSnapshot | None = None
        self.trading_state = TradingState.ACTIVE
        self.trading_reason = ""
        self.state_changed_ns = 0
        self.kpis = s.KpisState()
        self.router: dict[str, RouterHealth] = {}
        self.banned_until_ms = 0
        self.scores: dict[str, SymbolScore] = {}
        self.strategy_scores: dict[tuple[str, str], StrategyScore] = {}
        self.signals: dict[str, dict[str, float]] = {}
        self.marks: dict[str, MarkPrice] = {}
        self._builders: dict[str, Callable[[], s.StateFile]] = {
            "nav_state": self._nav_state,
            "positions_state": self._positions_state,
            "positions_ledger": self._positions_ledger,
            "risk_snapshot": self._risk_snapshot,
            "kpis": self._kpis,
            "router_health": self._router_health,
            "symbol_scores": self._symbol_scores,
            "hybrid_scores": self._hybrid_scores,
            "funding_snapshot": self._funding,
            "basis_snapshot": self._basis,
            "diagnostics": self._diagnostics,
        }
        missing = {x.name for x in SURFACES} ^ set(self._builders)
        if missing:
            raise RuntimeError(f"surfaces without a builder (or builders without a surface): {sorted(missing)}")

    def attach(self, bus: Bus) -> None:
        subs: tuple[tuple[type[Any], Callable[[Any], None]], ...] = (
            (Nav, self.on_nav),
            (Position, self.on_position),
            (LedgerPosition, self.on_ledger),
            (RiskSnapshot, self.on_risk),
            (TradingStateChange, self.on_trading_state),
            (Fill, self.on_fill),
            (RouterHealth, self.on_router),
            (OrderRequest, self.on_order_flow),
            (OrderUpdate, self.on_order_flow),
            (RateLimit, self.on_order_flow),
            (SymbolScore, self.on_score),
            (StrategyScore, self.on_strategy_score),
            (Signal, self.on_signal),
            (MarkPrice, self.on_mark),
        )
        for etype, handler in subs:
            bus.subscribe(etype, handler)

    # ------------------------------------------------------------------ handlers

    def on_nav(self, ev: Nav) -> None:
        self.nav = ev
        self.nav_readings += 1
        self.peak_nav = max(self.peak_nav, ev.nav)
        self.on_dirty("nav_state")
        self.on_dirty("kpis")

    def on_position(self, ev: Position) -> None:
        self._keep_open(self.positions, ev, "positions_state")

    def on_ledger(self, ev: LedgerPosition) -> None:
        self._keep_open(self.ledger, ev, "positions_ledger")

    def _keep_open(self, table: dict[str, Open], ev: Open, surface: str) -> None:
        """Keep ``ev`` as its symbol's open position, or forget the symbol when it is flat (qty 0)."""
        if ev.qty == 0.0:
            table.pop(ev.symbol, None)
        else:
            table[ev.symbol] = ev
        self.on_dirty(surface)

    def on_risk(self, ev: RiskSnapshot) -> None:
        self.risk = ev
        if ev.state is not self.trading_state:
            self.trading_state = ev.state
            self.trading_reason = ev.reason
            self.state_changed_ns = ev.recv_ns
        self.on_dirty("risk_snapshot")

    def on_trading_state(self, ev: TradingStateChange) -> None:
        self.trading_state = ev.state
        self.trading_reason = ev.reason
        self.state_changed_ns = ev.recv_ns or time.time_ns()
        self.on_dirty("risk_snapshot")

    def on_fill(self, ev: Fill) -> None:
        k = self.kpis
        k.fills += 1
        k.fees += ev.fee
        k.turnover += abs(ev.qty) * ev.price
        if ev.maker:
            k.maker_fills += 1
        if ev.realized_pnl != 0.0:
            k.realized_pnl += ev.realized_pnl
            k.closing_fills += 1
            if ev.realized_pnl > 0.0:
                k.wins += 1
        self.on_dirty("kpis")

    def on_router(self, ev: RouterHealth) -> None:
        self.router[ev.symbol] = ev
        self.on_dirty("router_health")

    def on_order_flow(self, ev: OrderRequest | OrderUpdate | RateLimit) -> None:
        # Order counts and latencies are counted by Telemetry; a ban is remembered here.
        if isinstance(ev, RateLimit) and ev.banned_until_ms:
            self.banned_until_ms = max(self.banned_until_ms, ev.banned_until_ms)
        self.on_dirty("router_health")

    def on_score(self, ev: SymbolScore) -> None:
        self.scores[ev.symbol] = ev
        self.on_dirty("symbol_scores")
        self.on_dirty("hybrid_scores")

    def on_strategy_score(self, ev: StrategyScore) -> None:
        self.strategy_scores[(ev.symbol, ev.strategy)] = ev
        self.on_dirty("symbol_scores")

    def on_signal(self, ev: Signal) -> None:
        self.signals.setdefault(ev.symbol, {})[ev.strategy] = ev.score
        self.on_dirty("hybrid_scores")

    def on_mark(self, ev: MarkPrice) -> None:
        self.marks[ev.symbol] = ev
        self.on_dirty("funding_snapshot")
        self.on_dirty("basis_snapshot")

    # ------------------------------------------------------------------ building

    def build(self, name: str, now_ns: int | None = None) -> s.StateFile:
        """The current content of surface ``name``, stamped with its schema version and time."""
        f = self._builders[name]()
        f.schema_version = type(f).SCHEMA_VERSION
        f.updated_ns = now_ns if now_ns is not None else time.time_ns()
        return f

    def _nav_state(self) -> s.NavState:
        n = self.nav
        if n is None:
            return s.NavState()
        return mirror(s.NavState, n, peak_nav=self.peak_nav, nav_ns=n.recv_ns, readings=self.nav_readings)

    def _mark(self, p: Position) -> float:
        """The position's mark, else the feed's latest (Binance's ACCOUNT_UPDATE carries none)."""
        m = self.marks.get(p.symbol)
        return p.mark_price or (m.mark_price if m is not None else 0.0)

    def _positions_state(self) -> s.PositionsState:
        rows = [
            mirror(s.PositionRow, p, mark_price=(mark := self._mark(p)), notional=p.qty * (mark or p.entry_price))
            for _, p in sorted(self.positions.items())
        ]
        return s.PositionsState(
            positions=rows,
            gross_notional=sum(abs(r.notional) for r in rows),
            net_notional=sum(r.notional for r in rows),
        )

    def _positions_ledger(self) -> s.PositionsLedger:
        return s.PositionsLedger(
            positions=[mirror(s.LedgerRow, p) for _, p in sorted(self.ledger.items())]
        )

    def _risk_snapshot(self) -> s.RiskSnapshotState:
        state: dict[str, Any] = {
            "trading_state": self.trading_state.value,
            "reason": self.trading_reason,
            "state_changed_ns": self.state_changed_ns,
        }
        if self.risk is None:
            return s.RiskSnapshotState(**state)
        return mirror(s.RiskSnapshotState, self.risk, **state)

    def _kpis(self) -> s.KpisState:
        k = self.kpis
        unrealized = self.nav.unrealized_pnl if self.nav is not None else 0.0
        return s.KpisState(
            realized_pnl=k.realized_pnl,
            unrealized_pnl=unrealized,
            total_pnl=k.realized_pnl - k.fees + unrealized,
            fees=k.fees,
            fills=k.fills,
            maker_fills=k.maker_fills,
            maker_ratio=k.maker_fills / k.fills if k.fills else 0.0,
            closing_fills=k.closing_fills,
            wins=k.wins,
            win_rate=k.wins / k.closing_fills if k.closing_fills else 0.0,
            turnover=k.turnover,
        )

    def _router_health(self) -> s.RouterHealthState:
        t = self.t
        return s.RouterHealthState(
            symbols=[mirror(s.RouterSymbolRow, r) for _, r in sorted(self.router.items())],
            banned_until_ms=self.banned_until_ms,
            requests_sent=t.requests_sent,
            orders_by_outcome=dict(sorted(t.orders_by_outcome.items())),
            ack_latency_ms_p50=t.order_ack.quantile(0.5) * 1e3,
            ack_latency_ms_p99=t.order_ack.quantile(0.99) * 1e3,
            throttled_429=t.throttled_429,
            banned_418=t.banned_418,
        )

    def _symbol_scores(self) -> s.SymbolScores:
        return s.SymbolScores(
            symbols=[mirror(s.SymbolScoreRow, x, updated_ns=x.recv_ns) for _, x in sorted(self.scores.items())],
            strategies=[mirror(s.StrategyScoreRow, x, updated_ns=x.recv_ns)
                        for _, x in sorted(self.strategy_scores.items())],
        )

    def _hybrid_scores(self) -> s.HybridScores:
        symbols = set(self.scores) | set(self.signals)

        def key(sym: str) -> tuple[float, str]:
            sc = self.scores.get(sym)
            return (-(sc.hybrid_score if sc is not None else float("-inf")), sym)

        rows = []
        for rank, sym in enumerate(sorted(symbols, key=key), start=1):
            sc = self.scores.get(sym)
            rows.append(
                s.HybridRow(
                    rank=rank,
                    symbol=sym,
                    hybrid_score=sc.hybrid_score if sc is not None else 0.0,
                    symbol_score=sc.symbol_score if sc is not None else 0.0,
                    enabled=sc.enabled if sc is not None else True,
                    signals=dict(sorted(self.signals.get(sym, {}).items())),
                )
            )
        return s.HybridScores(ranking=rows)

    def _funding(self) -> s.FundingSnapshot:
        return s.FundingSnapshot(
            symbols=[
                mirror(s.FundingRow, m, annualized=m.funding_rate * 3 * 365) for _, m in sorted(self.marks.items())
            ]
        )

    def _basis(self) -> s.BasisSnapshot:
        def bps(m: MarkPrice) -> float:
            return (m.mark_price - m.index_price) / m.index_price * 1e4 if m.index_price else 0.0

        return s.BasisSnapshot(symbols=[mirror(s.BasisRow, m, basis_bps=bps(m)) for _, m in sorted(self.marks.items())])

    def _diagnostics(self) -> s.Diagnostics:
        t = self.t
        now = t.clock_ns()
        stats = self.bus.stats()
        report = self.health.evaluate(now)
        feeds: dict[str, s.FeedRow] = {}
        for conn in sorted(set(t.feed_status) | set(t.feed_stats)):
            st, fs = t.feed_status.get(conn), t.feed_stats.get(conn)
            feeds[conn] = s.FeedRow(
                connection=conn,
                connected=st.connected if st is not None else True,
                reason=st.reason if st is not None else "",
                reconnects=max(st.reconnects if st else 0, fs.reconnects if fs else 0),
                messages=fs.messages if fs is not None else 0,
                parse_errors=fs.parse_errors if fs is not None else 0,
                gaps=fs.gaps if fs is not None else 0,
                changed_ns=t.feed_status_ns.get(conn, 0),
            )
        books = [
            s.BookRow(
                symbol=sym,
                state=t.books[sym].state.value if sym in t.books else "UNKNOWN",
                reason=t.books[sym].reason if sym in t.books else "",
                resyncs=t.books[sym].resyncs if sym in t.books else 0,
                changed_ns=t.books_ns.get(sym, 0),
                last_data_age_s=round((now - t.last_data_ns[sym]) * 1e-9, 3) if sym in t.last_data_ns else -1.0,
            )
            for sym in sorted(set(t.books) | set(t.last_data_ns))
        ]
        return s.Diagnostics(
            vetoes=dict(sorted(t.vetoes.items())),
            decisions_allowed=t.allowed,
            decisions_vetoed=t.vetoed,
            exits=s.ExitPipeline(
                intents=t.exit_intents,
                by_reason=dict(sorted(t.exit_by_reason.items())),
                orders_sent=t.exit_orders_sent,
                fills=t.exit_fills,
            ),
            feeds=list(feeds.values()),
            books=books,
            components=[
                s.ComponentRow(component=c, ok=hb.ok, detail=hb.detail, beat_ns=hb.recv_ns)
                for c, hb in sorted(t.components.items())
            ],
            last_event_age_s=dict(sorted(t.last_event_ages_s(now).items())),
            messages=dict(sorted(stats.published.items())),
            handler_errors=dict(sorted(stats.handler_errors.items())),
            inbox_dropped={i.name: i.dropped + i.overflow for i in stats.inboxes},
            alerts=self.alert_stats(),
            loop_lag_ms=t.loop_lag_last_s * 1e3,
            loop_lag_ms_max=t.loop_lag_max_s * 1e3,
            state_writes=self.write_stats.writes,
            state_write_errors=self.write_stats.errors,
            healthy=report.ok,
            health_reasons=list(report.reasons),
        )
