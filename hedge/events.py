"""Every event that crosses a stage boundary, as a frozen msgspec Struct.

Owns: the vocabulary of the engine — the flow of one tick, from a decoded market frame to a
fill, a position, a NAV reading and a health beat (see docs/architecture.md). Each event
carries ``ts_ms`` (the exchange's event time in ms, 0 when the exchange gave none) and
``recv_ns`` (local ``time.time_ns()`` when the event entered the process or was created).

Must never: know a wire format. Field names here are hedge's own; Binance's short names
(``U``, ``pu``, ``m`` ...) live only in ``hedge/feeds`` and the venue adapter, which map them
onto these types. Events are immutable values: a stage that needs a changed copy uses
``msgspec.structs.replace``. Structs holding only scalars (or tuples of scalars) are declared
``gc=False``: they cannot form reference cycles, and skipping GC tracking makes the
per-tick allocations cheaper.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import msgspec

# Order book levels travel as (price, qty) pairs; qty 0.0 deletes a level in a diff.
Level = tuple[float, float]


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(enum.StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    STOP_MARKET = "STOP_MARKET"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    LIQUIDATION = "LIQUIDATION"  # the exchange's own order closing a liquidated position (never sent by hedge)


class TimeInForce(enum.StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"  # post-only


class OrderStatus(enum.StrEnum):
    """Lifecycle of one order as hedge tracks it (a superset of the exchange's ``X``)."""

    PENDING = "PENDING"  # journaled, request not yet answered
    UNKNOWN = "UNKNOWN"  # request sent, no definite answer: must be resolved, never resent blindly
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATUSES


_FINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED}
)


class TradingState(enum.StrEnum):
    ACTIVE = "ACTIVE"  # everything the limits allow
    REDUCING = "REDUCING"  # only exposure-reducing orders
    HALTED = "HALTED"  # only cancels


class Tier(enum.StrEnum):
    CORE = "CORE"
    SATELLITE = "SATELLITE"
    TACTICAL = "TACTICAL"
    ALT_EXT = "ALT-EXT"


class VolRegime(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class BookState(enum.StrEnum):
    SYNCING = "SYNCING"  # buffering diffs, waiting for / applying a snapshot
    VALID = "VALID"
    INVALID = "INVALID"  # gap, crossed book or bad snapshot: resync pending


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every bus event: exchange time (ms) and local receive/creation time (ns)."""

    ts_ms: int = 0
    recv_ns: int = 0


# --------------------------------------------------------------------------- market data


class DepthDiff(Event, frozen=True, kw_only=True):
    """One incremental depth update (absolute quantities; qty 0 removes the level)."""

    symbol: str
    first_id: int  # first update id in this event
    final_id: int  # final update id in this event
    prev_final_id: int  # final update id of the previous event on this stream
    transact_ms: int = 0
    bids: Sequence[Level] = ()  # a list of tuples, or hedge.feeds.levels.Levels (the same sequence)
    asks: Sequence[Level] = ()


class DepthSnapshot(Event, frozen=True, kw_only=True):
    """A REST depth snapshot (the anchor of book synchronisation)."""

    symbol: str
    last_update_id: int
    transact_ms: int = 0
    bids: Sequence[Level] = ()  # a list of tuples, or hedge.feeds.levels.Levels (the same sequence)
    asks: Sequence[Level] = ()


class Trade(Event, frozen=True, kw_only=True, gc=False):
    """A public trade. ``taker_side`` is already resolved from the venue's maker flag."""

    symbol: str
    trade_id: int
    price: float
    qty: float
    taker_side: Side
    trade_ms: int = 0
    aggregated: bool = False  # an aggTrade (several fills at one price) rather than a single trade


class BookTicker(Event, frozen=True, kw_only=True, gc=False):
    symbol: str
    update_id: int
    bid_px: float
    bid_qty: float
    ask_px: float
    ask_qty: float
    transact_ms: int = 0


class MarkPrice(Event, frozen=True, kw_only=True, gc=False):
    symbol: str
    mark_price: float
    index_price: float
    funding_rate: float
    next_funding_ms: int
    settle_price: float = 0.0


class BookUpdate(Event, frozen=True, kw_only=True, gc=False):
    """The local book after one applied diff. ``valid`` is False while the book resyncs."""

    symbol: str
    update_id: int
    valid: bool
    bid_px: float
    bid_qty: float
    ask_px: float
    ask_qty: float
    mid: float
    micro: float  # size-weighted micro-price, within [bid, ask]
    imbalance: float  # top-N (bid - ask) / (bid + ask) volume, in [-1, 1]
    spread_bps: float


class BookStatus(Event, frozen=True, kw_only=True, gc=False):
    """A change of a book's synchronisation state (published on every transition)."""

    symbol: str
    state: BookState
    reason: str = ""
    resyncs: int = 0


class FeedStatus(Event, frozen=True, kw_only=True, gc=False):
    """A websocket connection's liveness change (connected, disconnected, stalled)."""

    connection: str
    connected: bool
    reason: str = ""
    reconnects: int = 0


# --------------------------------------------------------------------------- decisions


class Features(Event, frozen=True, kw_only=True, gc=False):
    """Per-symbol microstructure features after a tick (the signals stage's output)."""

    symbol: str
    mid: float
    micro: float
    spread_bps: float
    book_imbalance: float
    flow_imbalance: float
    absorption: float
    realized_vol_bps: float
    regime: VolRegime
    funding_rate: float = 0.0
    basis_bps: float = 0.0


class Signal(Event, frozen=True, kw_only=True, gc=False):
    """A strategy's directional view with its strength (score in [-1, 1])."""

    symbol: str
    strategy: str
    score: float
    p_win: float = 0.5
    e_pi_bps: float = 0.0
    regime: VolRegime = VolRegime.NORMAL


class SymbolScore(Event, frozen=True, kw_only=True, gc=False):
    symbol: str
    expectancy_bps: float
    symbol_score: float
    hybrid_score: float
    trades: int
    sprt_llr: float = 0.0
    enabled: bool = True


class OrderIntent(Event, frozen=True, kw_only=True, gc=False):
    """What a strategy or an exit rule wants done; nothing reaches the venue without a risk approval."""

    intent_id: str
    symbol: str
    side: Side
    notional: float  # unlevered USDT notional wanted
    strategy: str
    reason: str
    reduce_only: bool = False
    urgent: bool = False  # exits that must not wait for a maker fill
    limit_px: float = 0.0  # reference price at decision time (0 = use the book)
    score: float = 0.0
    e_pi_bps: float = 0.0
    p_win: float = 0.0  # calibrated probability that the take-profit comes first
    tp_bps: float = 0.0  # the trade's take-profit and stop from entry (0 = the exit rules' fixed levels)
    sl_bps: float = 0.0
    regime: VolRegime = VolRegime.NORMAL
    tick_ns: int = 0  # recv_ns of the tick that caused it (for tick -> decision latency)
    stop_price: float = 0.0  # > 0: a protective stop resting at the exchange (STOP_MARKET, closes the position)


class RiskDecision(Event, frozen=True, kw_only=True):
    """The verdict of ``hedge.risk.check_order`` on one intent."""

    intent: OrderIntent
    allow: bool
    max_qty: float  # largest quantity allowed (0 when vetoed)
    reasons: tuple[str, ...] = ()
    observed: dict[str, float] = {}
    limits: dict[str, float] = {}
    cooloff_s: float = 0.0
    state: TradingState = TradingState.ACTIVE
    price: float = 0.0  # the reference price the limits were checked at (max_qty * price = notional)


class OrderRequest(Event, frozen=True, kw_only=True, gc=False):
    """One order as it is sent to a venue (after exchange filters)."""

    client_order_id: str
    intent_id: str
    symbol: str
    side: Side
    type: OrderType
    qty: float
    price: float = 0.0
    tif: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    stop_price: float = 0.0
    stop_on_mark: bool = True  # a stop's working price: the mark (Binance MARK_PRICE) or the last trade
    close_position: bool = False  # a stop that closes the whole position at trigger (no quantity sent)


class OrderCancel(Event, frozen=True, kw_only=True, gc=False):
    client_order_id: str
    symbol: str
    reason: str = ""


class OrderUpdate(Event, frozen=True, kw_only=True, gc=False):
    """The venue's (or hedge's own) view of one order after a change."""

    client_order_id: str
    symbol: str
    status: OrderStatus
    side: Side
    type: OrderType = OrderType.LIMIT
    exchange_order_id: int = 0
    qty: float = 0.0
    price: float = 0.0
    filled_qty: float = 0.0
    avg_price: float = 0.0
    reduce_only: bool = False
    reject_code: int = 0
    reason: str = ""
    stop_price: float = 0.0  # a conditional order's trigger (its ``type`` stays STOP_MARKET once triggered)


class Fill(Event, frozen=True, kw_only=True, gc=False):
    client_order_id: str
    symbol: str
    side: Side
    qty: float
    price: float
    fee: float
    fee_asset: str = "USDT"
    maker: bool = False
    realized_pnl: float = 0.0
    trade_id: int = 0
    exchange_order_id: int = 0
    liquidation: bool = False  # the exchange closed the position by liquidation (not an order of anyone's)


class Position(Event, frozen=True, kw_only=True, gc=False):
    """A position as the exchange reports it (one-way mode: ``qty`` is signed)."""

    symbol: str
    qty: float
    entry_price: float
    unrealized_pnl: float = 0.0
    mark_price: float = 0.0


class Balance(Event, frozen=True, kw_only=True, gc=False):
    asset: str
    wallet_balance: float
    cross_wallet_balance: float = 0.0


class Nav(Event, frozen=True, kw_only=True, gc=False):
    """Futures-wallet NAV in USDT: wallet balance + unrealized PnL."""

    nav: float
    wallet_balance: float
    unrealized_pnl: float
    source: str  # "account_update" | "reconcile" | "sim"


class TradingStateChange(Event, frozen=True, kw_only=True, gc=False):
    previous: TradingState
    state: TradingState
    reason: str


class Heartbeat(Event, frozen=True, kw_only=True, gc=False):
    """A component's liveness beat; ``ok`` False carries the reason in ``detail``."""

    component: str
    ok: bool = True
    detail: str = ""


class Alert(Event, frozen=True, kw_only=True, gc=False):
    severity: str  # "info" | "warning" | "critical"
    title: str
    text: str


class CancelAll(Event, frozen=True, kw_only=True, gc=False):
    """A request (kill switch, risk) that the venue cancel every open order, optionally flattening."""

    reason: str
    symbol: str = ""  # "" = every symbol
    flatten: bool = False  # also close every position with reduce-only market orders


class StrategyScore(Event, frozen=True, kw_only=True, gc=False):
    """One strategy's record on one symbol (its round trips only); SymbolScore is the symbol's whole."""

    symbol: str
    strategy: str
    expectancy_bps: float
    symbol_score: float
    hybrid_score: float
    trades: int
    sprt_llr: float = 0.0
    enabled: bool = True
    budget: float = 1.0  # the feedback allocator's risk-budget multiplier for the stream (1.0 when off)


# --------------------------------------------------------------------------- operator snapshots
# Published by the stage that owns the figures (risk, router, feeds, portfolio); read by
# hedge/state (state files, metrics, /health, alerts), which learns everything from the bus.


class RiskSnapshot(Event, frozen=True, kw_only=True, gc=False):
    """The risk stage's view after a change (fractions of NAV; exposures are multiples of NAV)."""

    nav: float
    peak_nav: float = 0.0
    drawdown: float = 0.0  # from the NAV high-water mark
    daily_drawdown: float = 0.0  # from the day's opening NAV
    gross_exposure: float = 0.0
    net_exposure: float = 0.0
    var: float = 0.0  # value at risk at ``cvar_alpha``, fraction of NAV
    cvar: float = 0.0
    open_orders: int = 0
    state: TradingState = TradingState.ACTIVE
    reason: str = ""
    cooloff_until_ms: int = 0  # new exposure is vetoed until then (0 = no cooloff ever started)
    cooloff_reason: str = ""


class FeedStats(Event, frozen=True, kw_only=True, gc=False):
    """One market-data connection's cumulative counters (book resyncs travel in BookStatus)."""

    connection: str
    messages: int = 0
    parse_errors: int = 0
    gaps: int = 0
    reconnects: int = 0
    handler_errors: int = 0  # frames whose synchronous handling raised (counted, logged, skipped)


class LedgerPosition(Event, frozen=True, kw_only=True, gc=False):
    """The engine's own ledger entry for one symbol (qty 0 = closed), with its exit levels."""

    symbol: str
    qty: float  # signed
    entry_price: float
    strategy: str = ""
    tp_price: float = 0.0
    sl_price: float = 0.0
    trail_price: float = 0.0
    realized_pnl: float = 0.0
    opened_ms: int = 0


class ClosedTrade(Event, frozen=True, kw_only=True, gc=False):
    """One closed trade of a symbol: from flat (or a flip through zero) until flat again (or the next flip).

    Built by ``hedge.portfolio.round_trips`` from the fills the ledger applied; ``ts_ms`` is the
    exit time. Money in USDT; ``entry_price``/``exit_price`` are the volume-weighted averages of the
    trade's entry and exit fills; ``gross_pnl`` is realized on the average cost (the exchange's and
    the ledger's method: equal to ``(exit_price - entry_price) * qty`` unless it scaled in after a
    partial exit).
    """

    symbol: str
    side: str  # "long" | "short"
    key: str  # the position's key in the ledger (``t<opening trade id>``)
    strategy: str
    entry_reason: str
    exit_reason: str  # take_profit, stop_loss, breakeven_stop, trailing_stop, protective_stop, flatten, signal, ...
    opened_ms: int
    closed_ms: int
    qty: float  # quantity entered (= quantity exited)
    max_qty: float  # the largest position held
    entry_price: float
    exit_price: float
    gross_pnl: float
    fees: float  # entry + exit fees (a flip's fee split pro rata between the close and the open)
    net_pnl: float
    risk: float  # initial risk in USDT: the stop distance the portfolio set x the largest position (0 = unknown)
    r_multiple: float | None  # net_pnl / risk (None when the risk is unknown)
    mfe_bps: float  # most favourable excursion of the exit price from the average entry, bps (>= 0)
    mae_bps: float  # most adverse excursion, bps (<= 0)
    fills: int


class KillSwitch(Event, frozen=True, kw_only=True, gc=False):
    """The kill switch was engaged (or released)."""

    engaged: bool
    reason: str = ""


class PositionDrift(Event, frozen=True, kw_only=True, gc=False):
    """Reconciliation found the local ledger and the exchange disagreeing on a position."""

    symbol: str
    local_qty: float
    exchange_qty: float
    resolved: bool = False
    reported: bool = True  # False: the exchange did not report the symbol at all (never read as flat)


class Reconciled(Event, frozen=True, kw_only=True, gc=False):
    """The portfolio finished one reconciliation with the exchange (the first one opens trading)."""

    trigger: str  # "start" | "periodic" | "reconnect" | "ban-end"
    symbols: int = 0  # symbols compared
    drifts: int = 0  # unexplained differences found (each also a PositionDrift)
    adopted_positions: int = 0  # exchange positions the ledger did not know (tagged external)
    adopted_orders: int = 0  # open exchange orders hedge did not send (tagged external)
    fills_replayed: int = 0  # exchange fills the ledger had missed


class RateLimit(Event, frozen=True, kw_only=True, gc=False):
    """The venue throttled (HTTP 429) or banned (HTTP 418) the client."""

    status: int  # 429 | 418
    retry_after_s: float = 0.0
    banned_until_ms: int = 0


# --------------------------------------------------------------------------- execution health


class ShadowReport(Event, frozen=True, kw_only=True, gc=False):
    """The shadow pipeline against the live one (``hedge.shadow``): agreement and hypothetical results."""

    candidate: str  # where the candidate configuration came from
    ticks: int  # market events the shadow decided on
    live_intents: int
    shadow_intents: int
    intents_agreed: int  # same id, side and notional on both
    intent_agreement: float  # agreed / intents seen by either (1.0 when neither had one)
    decisions_agreed: int  # same allow and max_qty, of the intents both had
    decisions_compared: int
    decision_agreement: float  # agreed / compared (1.0 when nothing was compared)
    live_fills: int
    shadow_orders: int  # hypothetical: placed on the shadow's simulated account only
    shadow_fills: int
    live_pnl: float  # NAV change since the shadow started
    shadow_pnl: float  # hypothetical NAV change of the shadow's simulated account
    errors: int  # exceptions inside the shadow (counted, logged; the live pipeline goes on)
    cost_samples: int = 0  # sampled ticks timed (hedge.shadow.cost)
    shadow_us_per_tick: float = 0.0  # the shadow's mean handling time of a sampled tick
    live_us_per_tick: float = 0.0  # the live pipeline's (book sync included), same ticks
    cost_share: float = 0.0  # shadow / live on those ticks (goal <= 0.30)
    differences: list[str] = []  # the newest differences, "<intent id>: live ... / shadow ..."


class RouterHealth(Event, frozen=True, kw_only=True, gc=False):
    """One symbol's execution quality so far (published by the router after each execution)."""

    symbol: str
    executions: int  # approved intents finished (filled, partly filled or failed)
    orders: int  # orders sent (maker, taker, resends)
    maker_fill_ratio: float  # maker-filled quantity / filled quantity
    fallback_rate: float  # slices that fell back to a taker order / slices
    reject_rate: float  # orders definitely rejected (incl. post-only -5022) / orders sent
    slippage_bps: float  # mean signed cost of fills vs the arrival mid (positive = paid)
    ack_p50_ms: float
    ack_p95_ms: float
    denied: int = 0  # orders refused locally by the exchange filters
    unknown: int = 0  # orders whose outcome was (at least once) unknown
    liquidity: str = ""  # the symbol's liquidity bucket (symbols.yaml)
    fill_rate: float = 0.0  # filled / wanted quantity of the finished executions
    twap_executions: int = 0  # executions cut into more than one slice
    quality: float = 0.0  # 0..1, see hedge/router/health.py ``quality``


class FactorRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One factor on one symbol against the forward return at the trade horizon (docs/intel.md)."""

    symbol: str
    factor: str
    samples: int  # resolved samples since the start
    ic: float  # rolling Pearson IC over the window
    ir: float  # mean / std of the block ICs
    blocks: int
    hit_rate: float
    pnl_bps: float  # cumulative sign(factor) * forward return (0 for a magnitude factor)
    mean_pnl_bps: float  # its window mean
    attributed_bps: float  # realized round-trip returns credited to the factor (it agreed at entry)
    attributed_trips: int


class FactorReport(Event, frozen=True, kw_only=True, gc=False):
    """The factor table and the hybrid score's weights (adaptive overlay), at most every
    ``factor_diagnostics.publish_every_ms`` of event time (published by the signals stage)."""

    horizon_s: float
    window_samples: int
    rows: tuple[FactorRow, ...] = ()
    adaptive: bool = False
    weights: tuple[float, float, float] = (0.0, 0.0, 0.0)  # hybrid score: signal, expectancy, liquidity
    weights_history: tuple[tuple[int, float, float, float], ...] = ()  # (ts_ms, signal, expectancy, liquidity)


class RouterAutotune(Event, frozen=True, kw_only=True):
    """Router autotune after one window of executions: the parameters in force, what it proposes, why."""

    windows: int  # windows evaluated so far
    apply: bool  # features.router_autotune_apply: proposals are applied (else only proposed)
    params: dict[str, float | str]  # in force after this window
    proposed: dict[str, float | str]  # this window's proposals (new values; {} = none)
    applied: dict[str, float | str]  # what this window changed ({} = nothing)
    evidence: dict[str, float]  # the window's TCA figures behind the proposals
