"""The in-memory model behind the state files: latest values from the bus, built into schemas.

Owns: keeping the latest value of everything a surface of ``hedge/state/manifest.py`` shows (NAV,
positions, ledger, risk, KPI sums, router health, scores, signals, marks, the leaderboard's sums,
the shadow's report), telling the publisher
which surfaces changed, and which builder makes each surface (``account_surfaces``,
``market_surfaces``, ``engine_surfaces``).

Design: handlers are synchronous and only store the latest event (or add to a sum) and mark the
surface dirty; the Struct for a file is built only when the publisher writes it (at most once per
``state.min_interval_s``), so a burst of events costs one build. No market-data-per-tick event is
subscribed here (MarkPrice arrives about once a second per symbol). A row mirrors its event
(``hedge.state.mirror``).

Must never: do I/O (the publisher writes), or hold a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hedge.bus import Bus
from hedge.events import (
    ClosedTrade,
    FactorReport,
    Fill,
    LedgerPosition,
    MarkPrice,
    Nav,
    OrderRequest,
    OrderUpdate,
    Position,
    RateLimit,
    RiskSnapshot,
    RouterAutotune,
    RouterHealth,
    ShadowReport,
    Signal,
    StrategyScore,
    SymbolScore,
    TradingState,
    TradingStateChange,
)
from hedge.state import account_surfaces as account
from hedge.state import engine_surfaces as engine
from hedge.state import market_surfaces as market
from hedge.state import schemas as s
from hedge.state.engine_surfaces import WriteStats
from hedge.state.health import HealthMonitor
from hedge.state.leaderboard import Leaderboard
from hedge.state.manifest import SURFACES
from hedge.state.telemetry import Telemetry

Open = TypeVar("Open", Position, LedgerPosition)


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
        features: dict[str, bool] | None = None,
        factors_enabled: bool = False,
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
        self.autotune: RouterAutotune | None = None
        self.scores: dict[str, SymbolScore] = {}
        self.strategy_scores: dict[tuple[str, str], StrategyScore] = {}
        self.signals: dict[str, dict[str, float]] = {}
        self.marks: dict[str, MarkPrice] = {}
        self.features = dict(sorted((features or {}).items()))  # runtime.features, read once at start
        self.factors_enabled = factors_enabled
        self.factor_report: FactorReport | None = None
        self.leaderboard = Leaderboard()
        self.shadow: ShadowReport | None = None
        self._builders: dict[str, Callable[[], s.StateFile]] = {
            "nav_state": lambda: account.nav_state(self.nav, self.peak_nav, self.nav_readings),
            "positions_state": lambda: account.positions_state(self.positions, self.marks),
            "positions_ledger": lambda: account.positions_ledger(self.ledger),
            "risk_snapshot": lambda: account.risk_snapshot(self.risk, self.trading_state, self.trading_reason,
                                                           self.state_changed_ns),
            "kpis": lambda: account.kpis(self.kpis, self.nav),
            "router_health": lambda: engine.router_health(self.t, self.router, self.t.banned_until_ms),
            "router_autotune": lambda: engine.router_autotune(self.autotune),
            "symbol_scores": lambda: market.symbol_scores(self.scores, self.strategy_scores),
            "hybrid_scores": lambda: market.hybrid_scores(self.scores, self.signals),
            "shadow_state": lambda: engine.shadow_state(self.shadow),
            "funding_snapshot": lambda: market.funding(self.marks),
            "basis_snapshot": lambda: market.basis(self.marks),
            "diagnostics": lambda: engine.diagnostics(self.t, self.health, self.bus, self.alert_stats(),
                                                      self.write_stats, self.features),
            "factor_diagnostics": lambda: market.factor_diagnostics(self.factor_report, self.factors_enabled),
            "leaderboard_state": self.leaderboard.build,
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
            (RouterAutotune, self.on_autotune),
            (OrderRequest, self.on_order_flow),
            (OrderUpdate, self.on_order_flow),
            (RateLimit, self.on_order_flow),
            (SymbolScore, self.on_score),
            (StrategyScore, self.on_strategy_score),
            (Signal, self.on_signal),
            (MarkPrice, self.on_mark),
            (FactorReport, self.on_factors),
            (ClosedTrade, self.on_closed_trade),
            (ShadowReport, self.on_shadow),
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
        self.state_changed_ns = ev.recv_ns or self.t.clock.now_ns()
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
        self.leaderboard.on_fill(ev)
        self.on_dirty("kpis")

    def on_closed_trade(self, ev: ClosedTrade) -> None:
        self.leaderboard.on_closed_trade(ev)
        self.on_dirty("leaderboard_state")

    def on_router(self, ev: RouterHealth) -> None:
        self.router[ev.symbol] = ev
        self.on_dirty("router_health")

    def on_autotune(self, ev: RouterAutotune) -> None:
        self.autotune = ev
        self.on_dirty("router_autotune")

    def on_order_flow(self, ev: OrderRequest | OrderUpdate | RateLimit) -> None:
        # Order counts, latencies and the ban are counted by Telemetry.
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

    def on_shadow(self, ev: ShadowReport) -> None:
        self.shadow = ev
        self.on_dirty("shadow_state")

    # ------------------------------------------------------------------ building

    def build(self, name: str, now_ns: int | None = None) -> s.StateFile:
        """The current content of surface ``name``, stamped with its schema version and time."""
        f = self._builders[name]()
        f.schema_version = type(f).SCHEMA_VERSION
        f.updated_ns = now_ns if now_ns is not None else self.t.clock.now_ns()
        return f

    def on_factors(self, ev: FactorReport) -> None:
        self.factor_report = ev
        self.on_dirty("factor_diagnostics")
