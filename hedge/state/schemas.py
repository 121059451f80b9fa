"""The schemas of the state files under logs/state/ (one msgspec Struct per file).

Owns: the shape of every operator surface: field names, types, defaults and each file's
``SCHEMA_VERSION``. ``hedge/state/manifest.py`` lists them with owner and update frequency and
generates logs/state/manifest.json from these classes; the contract tests hold the files, the
manifest and these classes to each other.

Rules (the contract with every reader of these files, dashboards included):
- Changes are strictly additive: a field is never renamed, removed or retyped; a new field gets
  a default (so an older file still decodes) and the file's ``SCHEMA_VERSION`` goes up by one.
  tests/unit/state/schema_baseline.json freezes the fields each version had.
- Readers decode without ``forbid_unknown_fields``: a newer file still reads with older code.
- Times are ``*_ns`` (``time.time_ns()``) or ``*_ms`` (exchange time); fractions are fractions.

Must never: hold a secret (no key, token or signature ever appears in a surface).
"""

from __future__ import annotations

from typing import ClassVar

import msgspec


class StateFile(msgspec.Struct, kw_only=True):
    """Base of every state file: which schema version wrote it and when."""

    SCHEMA_VERSION: ClassVar[int] = 1
    schema_version: int = 1
    updated_ns: int = 0


# ---------------------------------------------------------------------------------- rows


class PositionRow(msgspec.Struct, kw_only=True):
    symbol: str
    qty: float
    entry_price: float
    unrealized_pnl: float = 0.0
    mark_price: float = 0.0
    notional: float = 0.0


class LedgerRow(msgspec.Struct, kw_only=True):
    symbol: str
    qty: float
    entry_price: float
    strategy: str = ""
    tp_price: float = 0.0
    sl_price: float = 0.0
    trail_price: float = 0.0
    realized_pnl: float = 0.0
    opened_ms: int = 0


class SymbolScoreRow(msgspec.Struct, kw_only=True):
    symbol: str
    expectancy_bps: float
    symbol_score: float
    hybrid_score: float
    trades: int
    sprt_llr: float = 0.0
    enabled: bool = True
    updated_ns: int = 0


class HybridRow(msgspec.Struct, kw_only=True):
    rank: int
    symbol: str
    hybrid_score: float
    symbol_score: float = 0.0
    enabled: bool = True
    signals: dict[str, float] = {}  # strategy -> latest signal score


class FundingRow(msgspec.Struct, kw_only=True):
    symbol: str
    funding_rate: float
    next_funding_ms: int
    mark_price: float
    annualized: float = 0.0  # funding_rate x 3 x 365


class BasisRow(msgspec.Struct, kw_only=True):
    symbol: str
    mark_price: float
    index_price: float
    basis_bps: float  # (mark - index) / index in basis points


class FeedRow(msgspec.Struct, kw_only=True):
    connection: str
    connected: bool
    reason: str = ""
    reconnects: int = 0
    messages: int = 0
    parse_errors: int = 0
    gaps: int = 0
    changed_ns: int = 0


class BookRow(msgspec.Struct, kw_only=True):
    symbol: str
    state: str
    reason: str = ""
    resyncs: int = 0
    changed_ns: int = 0
    last_data_age_s: float = -1.0  # -1 = no market data yet


class ComponentRow(msgspec.Struct, kw_only=True):
    component: str
    ok: bool
    detail: str = ""
    beat_ns: int = 0


class ExitPipeline(msgspec.Struct, kw_only=True):
    intents: int = 0  # reduce-only intents (exits) seen
    by_reason: dict[str, int] = {}
    orders_sent: int = 0  # reduce-only order requests
    fills: int = 0  # fills of reduce-only orders


class AlertStats(msgspec.Struct, kw_only=True):
    raised: int = 0
    sent: int = 0
    failed: int = 0
    dropped: int = 0  # queue full
    deduplicated: int = 0


class LeaderboardRow(msgspec.Struct, kw_only=True):
    """One strategy's closed trades on one symbol (net of fees, USDT)."""

    rank: int  # 1 = the highest net PnL
    strategy: str
    symbol: str
    pnl: float  # net PnL: sum of the closed trades' net_pnl
    trades: int
    wins: int = 0  # trades with net_pnl > 0
    win_rate: float = 0.0  # wins / trades
    expectancy: float = 0.0  # mean net PnL per trade, USDT
    expectancy_bps: float = 0.0  # mean of net_pnl / (entry_price x qty), basis points
    fills: int = 0
    maker_fills: int = 0
    maker_share: float = 0.0  # maker_fills / fills
    max_drawdown: float = 0.0  # largest fall of the cumulative net PnL from its peak, USDT (>= 0)
    last_closed_ms: int = 0


# ---------------------------------------------------------------------------------- files


class NavState(StateFile, kw_only=True):
    nav: float = 0.0
    wallet_balance: float = 0.0
    unrealized_pnl: float = 0.0
    source: str = ""
    peak_nav: float = 0.0
    nav_ns: int = 0  # when the NAV reading was taken (0 = none yet)
    readings: int = 0


class PositionsState(StateFile, kw_only=True):
    """Positions as the exchange reports them (the authoritative view)."""

    positions: list[PositionRow] = []
    gross_notional: float = 0.0
    net_notional: float = 0.0


class PositionsLedger(StateFile, kw_only=True):
    """The engine's own ledger: open positions with their exit levels."""

    positions: list[LedgerRow] = []


class RiskSnapshotState(StateFile, kw_only=True):
    SCHEMA_VERSION: ClassVar[int] = 2  # 2: the cooloff in force

    nav: float = 0.0
    peak_nav: float = 0.0
    drawdown: float = 0.0
    daily_drawdown: float = 0.0
    gross_exposure: float = 0.0
    net_exposure: float = 0.0
    var: float = 0.0
    cvar: float = 0.0
    open_orders: int = 0
    trading_state: str = "ACTIVE"
    reason: str = ""
    state_changed_ns: int = 0
    cooloff_until_ms: int = 0  # new exposure is vetoed until then (0 = none ever started)
    cooloff_reason: str = ""


class KpisState(StateFile, kw_only=True):
    realized_pnl: float = 0.0
    unrealized_pnl: float = 0.0
    total_pnl: float = 0.0  # realized - fees + unrealized
    fees: float = 0.0
    fills: int = 0
    maker_fills: int = 0
    maker_ratio: float = 0.0
    closing_fills: int = 0  # fills that realized a PnL
    wins: int = 0
    win_rate: float = 0.0  # wins / closing_fills
    turnover: float = 0.0  # sum of |qty| x price, USDT


class RouterSymbolRow(msgspec.Struct, kw_only=True):
    """One symbol's execution quality (from the router's RouterHealth events)."""

    symbol: str
    executions: int = 0
    orders: int = 0
    maker_fill_ratio: float = 0.0
    fallback_rate: float = 0.0
    reject_rate: float = 0.0
    slippage_bps: float = 0.0  # mean signed cost vs the arrival mid (positive = paid)
    ack_p50_ms: float = 0.0
    ack_p95_ms: float = 0.0
    denied: int = 0
    unknown: int = 0
    liquidity: str = ""  # the symbol's liquidity bucket
    fill_rate: float = 0.0  # filled / wanted quantity
    twap_executions: int = 0  # executions cut into TWAP slices
    quality: float = 0.0  # 0..1 execution quality score (docs/tca.md)


class RouterHealthState(StateFile, kw_only=True):
    symbols: list[RouterSymbolRow] = []
    banned_until_ms: int = 0  # a 418 ban in force (0 = none)
    requests_sent: int = 0
    orders_by_outcome: dict[str, int] = {}
    ack_latency_ms_p50: float = 0.0
    ack_latency_ms_p99: float = 0.0
    throttled_429: int = 0
    banned_418: int = 0


class RouterAutotuneState(StateFile, kw_only=True):
    """Router autotune: parameters in force, the latest window's proposals and evidence (features router_autotune*)."""

    windows: int = 0
    apply: bool = False
    params: dict[str, float | str] = {}
    proposed: dict[str, float | str] = {}
    applied: dict[str, float | str] = {}
    evidence: dict[str, float] = {}


class StrategyScoreRow(SymbolScoreRow, kw_only=True):
    """One strategy's record on one symbol (the round trips it opened)."""

    strategy: str
    budget: float = 1.0  # the feedback allocator's multiplier when this row was made (decays toward 1.0)


class SymbolScores(StateFile, kw_only=True):
    SCHEMA_VERSION: ClassVar[int] = 3  # 2: per-strategy rows; 3: each strategy's risk budget

    symbols: list[SymbolScoreRow] = []
    strategies: list[StrategyScoreRow] = []  # by symbol, then strategy


class ShadowState(StateFile, kw_only=True):
    """The shadow pipeline's comparison with the live one (feature ``shadow_pipeline``; docs/intel.md)."""

    SCHEMA_VERSION: ClassVar[int] = 2  # 2: the cost per tick

    enabled: bool = False
    candidate: str = ""
    ticks: int = 0
    live_intents: int = 0
    shadow_intents: int = 0
    intents_agreed: int = 0
    intent_agreement: float = 1.0
    decisions_agreed: int = 0
    decisions_compared: int = 0
    decision_agreement: float = 1.0
    live_fills: int = 0
    shadow_orders: int = 0
    shadow_fills: int = 0
    live_pnl: float = 0.0
    shadow_pnl: float = 0.0
    errors: int = 0
    # the cost: measured durations (CPU timers, not event time), so two replays differ here only
    cost_samples: int = 0  # sampled ticks timed
    shadow_us_per_tick: float = 0.0  # the shadow's mean handling time of a sampled tick
    live_us_per_tick: float = 0.0  # the live pipeline's on the same ticks
    cost_share: float = 0.0  # shadow / live (goal <= 0.30)
    differences: list[str] = []
    report_ns: int = 0  # when the comparison was made


class HybridScores(StateFile, kw_only=True):
    ranking: list[HybridRow] = []  # best hybrid score first


class FundingSnapshot(StateFile, kw_only=True):
    symbols: list[FundingRow] = []


class BasisSnapshot(StateFile, kw_only=True):
    symbols: list[BasisRow] = []


class Diagnostics(StateFile, kw_only=True):
    SCHEMA_VERSION: ClassVar[int] = 3  # 2: vetoes within the last minute; 3: feature flags

    vetoes: dict[str, int] = {}  # by reason, since the start
    vetoes_recent: dict[str, int] = {}  # by reason, within the last ``vetoes_recent_s``
    vetoes_recent_s: float = 0.0
    decisions_allowed: int = 0
    decisions_vetoed: int = 0
    exits: ExitPipeline = msgspec.field(default_factory=ExitPipeline)
    feeds: list[FeedRow] = []
    books: list[BookRow] = []
    components: list[ComponentRow] = []
    last_event_age_s: dict[str, float] = {}  # by event type
    messages: dict[str, int] = {}  # events published, by type
    handler_errors: dict[str, int] = {}
    inbox_dropped: dict[str, int] = {}  # stage inbox -> dropped + overflowed
    alerts: AlertStats = msgspec.field(default_factory=AlertStats)
    loop_lag_ms: float = 0.0
    loop_lag_ms_max: float = 0.0
    state_writes: int = 0
    state_write_errors: int = 0
    healthy: bool = False
    health_reasons: list[str] = []
    features: dict[str, bool] = {}  # runtime.features, as read at start


class FactorRowState(msgspec.Struct, kw_only=True):
    symbol: str
    factor: str
    samples: int
    ic: float  # rolling Pearson IC against the forward return at the horizon (|return| for vol_regime)
    ir: float  # mean / std of the block ICs
    blocks: int = 0
    hit_rate: float = 0.0
    pnl_bps: float = 0.0  # cumulative sign(factor) * forward return
    mean_pnl_bps: float = 0.0
    attributed_bps: float = 0.0  # realized round-trip returns credited to the factor
    attributed_trips: int = 0


class WeightPoint(msgspec.Struct, kw_only=True):
    ts_ms: int
    signal: float
    expectancy: float
    liquidity: float


class FactorDiagnosticsState(StateFile, kw_only=True):
    """docs/intel.md: the factor table and the hybrid score's weights (adaptive overlay)."""

    enabled: bool = False  # strategy.factor_diagnostics.enabled
    adaptive: bool = False  # strategy.factor_diagnostics.auto_weighting.adaptive
    horizon_s: float = 0.0
    window_samples: int = 0
    report_ms: int = 0  # event time of the report
    factors: list[FactorRowState] = []  # by symbol, then factor
    weights: dict[str, float] = {}  # hybrid score: signal, expectancy, liquidity
    weights_history: list[WeightPoint] = []  # the overlay's newest updates (empty while it is off)


class LeaderboardState(StateFile, kw_only=True):
    """Strategies x symbols ranked by net PnL (from the closed trades, as trades.csv)."""

    rows: list[LeaderboardRow] = []  # best net PnL first
    trades: int = 0
    pnl: float = 0.0
