"""The schema of runtime.yaml: venue, modes, HTTP, journals, metrics, feeds, router, portfolio, alerts, shadow,
features.

Owns: one frozen Struct per section of runtime.yaml with the spec's defaults, and the named
feature flags (``Features``).

Must never: read a file or the environment (``hedge.config.loading`` does), or hold a secret (the
Telegram bot token and the API keys come from the environment, never from a file).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from hedge.config.types import (
    HHMM,
    Fraction,
    LogLevel,
    NonNeg,
    NonNegInt,
    Port,
    PosInt,
    Positive,
    Section,
    SymbolName,
    Venue,
)


class TradingWindow(Section, frozen=True):
    """UTC hours (and weekdays, 0 = Monday) in which new exposure may be opened."""

    start: HHMM = "00:00"
    end: HHMM = "24:00"
    days: list[Annotated[int, msgspec.Meta(ge=0, le=6)]] = msgspec.field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])


class HttpConfig(Section, frozen=True):
    timeout_s: Positive = 3.0
    backoff_initial_s: Positive = 0.4
    backoff_max_s: Positive = 6.4
    read_retries: NonNegInt = 5
    recv_window_ms: Annotated[int, msgspec.Meta(ge=1, le=60000)] = 5000
    weight_budget: Fraction = 0.80  # stay under this share of the exchange's weight limit


class JournalConfig(Section, frozen=True):
    max_bytes: PosInt = 50 * 1024 * 1024
    backups: NonNegInt = 5
    buffer_bytes: PosInt = 1024 * 1024
    flush_interval_s: Positive = 1.0
    fsync: bool = True  # orders_sent, order_updates, fills: fdatasync at each group commit (off: written, not synced)


class MetricsConfig(Section, frozen=True):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: Port = 9108  # 0 = an ephemeral port (the bound one is logged and exposed)
    feed_stale_s: Positive = 10.0  # /health: no market data for a symbol this long -> 503
    user_stream: str = "user"  # the connection / component name of the user-data stream
    require_user_stream: bool = True  # /health: 503 while the user stream is not live
    loop_lag_interval_s: Positive = 0.5  # event-loop lag probe period


class GateConfig(Section, frozen=True):
    """The pre-trade gate over HTTP (docs/gate.md): ``enabled`` serves it inside the daemon (on the
    daemon's own risk context); ``host``/``port`` are also ``hedge gate``'s defaults."""

    enabled: bool = False
    host: str = "127.0.0.1"  # any other address needs HEDGE_GATE_TOKEN
    port: Port = 8000  # 0 = an ephemeral port


class StateConfig(Section, frozen=True):
    min_interval_s: NonNeg = 1.0


class FeedsConfig(Section, frozen=True):
    stream_paths: Literal["split", "legacy"] = "split"  # 2026 /public + /market paths, or /stream
    depth_speed: Literal["0ms", "100ms", "250ms", "500ms"] = "100ms"
    streams: list[Literal["depth", "bookTicker", "aggTrade", "trade", "markPrice"]] = msgspec.field(
        default_factory=lambda: ["depth", "bookTicker", "aggTrade", "markPrice"]
    )
    watchdog_s: Positive = 10.0  # no data for this long forces a reconnect
    reconnect_before_s: Positive = 23.5 * 3600  # proactive reconnect ahead of the 24 h limit
    backoff_initial_s: Positive = 0.4
    backoff_max_s: Positive = 6.4
    snapshot_limit: Literal[5, 10, 20, 50, 100, 500, 1000] = 1000
    snapshot_min_interval_s: NonNeg = 2.0
    imbalance_levels: PosInt = 5
    ws_url_binance: str = "wss://fstream.binance.com"
    rest_url_binance: str = "https://fapi.binance.com"
    ws_url_testnet: str = "wss://fstream.binancefuture.com"
    rest_url_testnet: str = "https://testnet.binancefuture.com"
    snapshot_timeout_s: Positive = 10.0


class LocalExchangeConfig(Section, frozen=True):
    host: str = "127.0.0.1"
    port: Port = 0  # 0 = any free port
    market: list[str] = []  # recordings; empty = the bundled BTCUSDT recording
    synthetic: list[SymbolName] = []
    speed: Positive = 1.0
    starting_balance: Positive = 10_000.0
    maker_fee: float = 0.0002
    taker_fee: float = 0.0005
    faults: str = ""  # fault plan, e.g. "order_503=0.05,depth_gap=0.001,seed=7" (see README "Local exchange")
    limits: Literal["binance", "off"] = "binance"  # Binance's rate limits, or none (benchmarks)


class ReplayConfig(Section, frozen=True):
    """``hedge replay``: the simulated venue (balance and fees are ``local_exchange``'s: the same exchange model)."""

    log_dir: str = "logs/replay"  # journals and state files of a replay (``--log-dir`` overrides)
    latency_ms: NonNeg = 0.0  # event time between a request and its arrival at the matching engine
    account_interval_s: Positive = 5.0  # account snapshot (Position, Balance, Nav) period, event time


class TwapConfig(Section, frozen=True):
    min_notional_usd: Positive = 5_000.0
    slices: PosInt = 5
    duration_s: Positive = 60.0


class FillModel(Section, frozen=True):
    """The fill-probability model's coefficients (hedge/router/fillprob.py) and the provenance of their fit.

    Written by ``hedge calibrate-fills`` to ``<config dir>/fillprob.yaml``, which overlays these keys;
    the defaults here are that command's fit on btcusdt_20240718 (orders pegged as the router's maker
    leg: reprice_ticks 2, no reprice limit, budget 10 bps), rounded."""

    b0: float = -1.64
    b_dist: float = -0.3  # per tick behind the touch
    b_queue: float = -0.41  # per log1p(quantity ahead + own)
    b_flow: float = 0.88  # per log1p(taker quantity hitting our side over the horizon)
    b_spread: float = 0.0  # per tick of spread beyond one
    b_vol: float = -0.27  # per log1p(ticks of mid movement over the horizon)
    horizon_s: Positive = 5.0  # the horizon the coefficients were fitted at (others rescale, constant hazard)
    p_min: Fraction = 0.01
    p_max: Fraction = 0.99
    # what the labelled path paid vs its start mid (side-signed bps, fees excluded), from the same fit:
    fill_bps: float = 0.13  # mean maker price of the filled
    fallback_bps: float = 0.06  # mean opposite touch when the unfilled gave up (what the fallback crosses at)
    half_spread_bps: NonNeg = 0.008  # mean half spread at the start (fallback_bps - this = the drift while waiting)
    label: str = ""  # the simulated order's policy: "static", or "peg reprice_ticks=.. max_reprices=.. budget_bps=.."
    fitted_on: str = ""  # provenance, written by hedge calibrate-fills
    data_from: str = ""
    data_to: str = ""
    samples: NonNegInt = 0
    positives: NonNegInt = 0
    brier: NonNeg = 0.0  # in sample
    log_loss: NonNeg = 0.0
    ece: NonNeg = 0.0
    checked_on: str = ""  # a later recording scored out of sample (never fitted on)
    check_samples: NonNegInt = 0
    check_brier: NonNeg = 0.0
    check_log_loss: NonNeg = 0.0
    check_ece: NonNeg = 0.0


class AutoRouterConfig(Section, frozen=True):
    """``router.mode: auto``: rest or cross per slice, from the fill-probability model and the intent's alpha."""

    model: FillModel = msgspec.field(default_factory=FillModel)  # fitted by hedge calibrate-fills (fillprob.yaml)
    window_s: Positive = 10.0  # trade flow and volatility are averaged over this much of the router clock
    vol_sample_s: Positive = 1.0  # the mid is sampled this often for volatility (quote flicker is not movement)
    maker_fee_bps: float = 2.0
    taker_fee_bps: float = 5.0
    alpha_horizon_s: Positive = 30.0  # the intent's e_pi_bps decays over this (the calibrator's horizon)
    default_alpha_bps: NonNeg = 2.0  # the alpha assumed when an intent carries no e_pi_bps
    # the share of that decay added to the measured drift while waiting (0: the drift is the measured one: on
    # 0718 e_pi_bps x (1 - exp(-5/30)) said 2.6-3.7 bps, maker_first's fallbacks paid 0.21 bps vs arrival)
    alpha_weight: NonNeg = 0.0
    drift_prior_n: NonNeg = 10.0  # the fitted drift (model.fallback_bps) counts as this many observed fallbacks
    # the maker timeouts auto may rest for, per slice, as multiples of router.maker_timeout_s: it takes the one of
    # least expected cost (a longer wait fills more often, P at a constant hazard, and drifts more, linearly)
    horizons: list[Positive] = msgspec.field(default_factory=lambda: [1.0, 2.0, 4.0])
    adverse_bps: NonNeg = 0.5  # prior adverse selection of a maker fill (replaced by its 5 s markouts)
    margin_bps: NonNeg = 0.0  # rest only when resting is expected to be cheaper by at least this
    refit_every: NonNegInt = 20  # re-estimate the model's intercept after this many maker attempts (0 = never)
    max_samples: PosInt = 2000  # the newest attempts the online update uses


class AutotuneConfig(Section, frozen=True):
    """Router autotune (features router_autotune / router_autotune_apply): bounds and pace of its steps."""

    window: PosInt = 20  # executions per evaluation
    confirm: PosInt = 2  # the same proposal in this many consecutive windows before it is applied
    timeout_step: Positive = 1.25  # maker_timeout_s is multiplied or divided by this per step
    timeout_min_s: Positive = 0.5
    timeout_max_s: Positive = 30.0
    reprice_min: PosInt = 1
    reprice_max: PosInt = 5
    fallback_high: NonNeg = 0.6  # fallback rate from which proposals are made
    taker_below_maker_share: NonNeg = 0.1  # propose mode taker when the maker share stays under this
    reprices_min: PosInt = 1  # bounds of max_reprices once it is set (0 = no limit: the first step sets the max)
    reprices_max: PosInt = 8
    offset_max_ticks: NonNegInt = 3  # upper bound of maker_offset_ticks (lower: 0)
    adverse_markout_bps: NonNeg = 1.0  # maker fills' mean 5 s markout below minus this: rest one tick further back
    cost_high_bps: NonNeg = 8.0  # mean cost of the filled part above this: slice more (TWAP)
    opportunity_high_bps: NonNeg = 5.0  # mean opportunity cost of the unfilled rest above this: slice less
    twap_notional_step: Positive = 1.5  # twap.min_notional_usd is multiplied or divided by this per step
    twap_notional_min_usd: Positive = 1_000.0
    twap_notional_max_usd: Positive = 50_000.0
    twap_slices_min: PosInt = 2
    twap_slices_max: PosInt = 10
    margin_step_bps: Positive = 0.5  # auto.margin_bps per step
    margin_max_bps: NonNeg = 5.0  # upper bound of auto.margin_bps (lower: 0)
    fallback_low: NonNeg = 0.2  # auto mode: fallback rate under this (and maker share >= 0.5): rest more readily


class RouterConfig(Section, frozen=True):
    # taker: every intent as the capped IOC (the baseline); maker_first: post-only at the touch, then the IOC;
    # auto: per slice, maker-first or taker by expected cost (router.auto)
    mode: Literal["taker", "maker_first", "auto"] = "maker_first"
    maker_timeout_s: Positive = 5.0
    reprice_ticks: PosInt = 2  # reprice a resting maker order when the touch moves this far away
    max_reprices: NonNegInt = 0  # per slice: the touch moving away once more falls back to the taker (0 = no limit)
    maker_offset_ticks: NonNegInt = 0  # a maker order rests this many ticks behind the touch (0 = at the touch)
    max_post_only_rejects: NonNegInt = 3
    slippage_budget_bps: NonNeg = 10.0
    unknown_resolve_s: Positive = 30.0
    filters_refresh_s: Positive = 3600.0  # reload the exchange's filters this often
    twap: TwapConfig = msgspec.field(default_factory=TwapConfig)
    auto: AutoRouterConfig = msgspec.field(default_factory=AutoRouterConfig)
    autotune: AutotuneConfig = msgspec.field(default_factory=AutotuneConfig)


class PortfolioConfig(Section, frozen=True):
    """The position ledger, its reconciliation with the exchange and the exit scanner."""

    reconcile_interval_s: Positive = 60.0  # periodic reconciliation (also at start and on user-stream reconnect)
    reconcile_confirm_s: NonNeg = 0.5  # a difference is fetched again after this long before it counts as drift
    fills_margin_s: NonNeg = 5.0  # exchange fills are fetched from the last known fill minus this margin
    exit_retry_s: Positive = 10.0  # an exit attempt with no working order for this long may be retried
    persist_interval_s: NonNeg = 0.25  # ledger changes are written at most this often (exits: at once)
    qty_tolerance: NonNeg = 1e-9  # |ledger - exchange| at or below this is agreement
    # feature exchange_stop_orders: each position's stop also rests at the exchange as a STOP_MARKET
    protective_stop_min_move_bps: NonNeg = 5.0  # the resting stop is replaced when the stop moved this far
    protective_stop_working_price: Literal["mark", "last"] = "mark"  # Binance MARK_PRICE / CONTRACT_PRICE


class TelegramConfig(Section, frozen=True):
    enabled: bool = False
    base_url: str = "https://api.telegram.org"
    chat_id: str = ""  # the bot token comes from HEDGE_TELEGRAM_TOKEN, never from a file


class WebhookConfig(Section, frozen=True):
    enabled: bool = False
    url: str = ""


class AlertsConfig(Section, frozen=True):
    queue_size: PosInt = 256
    timeout_s: Positive = 5.0
    dedup_s: NonNeg = 60.0  # the same alert title again within this window is counted, not sent
    telegram: TelegramConfig = msgspec.field(default_factory=TelegramConfig)
    webhook: WebhookConfig = msgspec.field(default_factory=WebhookConfig)


class FirestoreConfig(Section, frozen=True):
    """The one-way state sync to Firestore (``features.firestore_sync``, ``hedge sync``); docs/firestore.md."""

    project: str = ""  # empty: GOOGLE_CLOUD_PROJECT, else the credentials' project (the emulator: "hedge-local")
    root: str = "hedge"  # top-level collection
    instance: str = "default"  # this engine's document under it
    interval_s: Positive = 1.0  # state files are read (and changes queued) this often
    nav_history_s: Annotated[float, msgspec.Meta(ge=1.0)] = 60.0  # one NAV history point per this many seconds
    queue_size: PosInt = 64  # documents waiting; full -> the oldest document's pending write is dropped
    batch_size: Annotated[int, msgspec.Meta(ge=1, le=500)] = 100  # writes per commit (Firestore: <= 500)
    timeout_s: Positive = 10.0  # per commit
    backoff_initial_s: Positive = 0.5
    backoff_max_s: Positive = 30.0


class BtcModelConfig(Section, frozen=True):
    """The BTC model's 4h and daily readings sent to the notifiers (``features.btc_model``); docs/telegram.md."""

    symbol: SymbolName = "BTCUSDT"
    intervals: list[Literal["4h", "1d"]] = msgspec.field(default_factory=lambda: ["4h", "1d"])
    check_s: Positive = 30.0  # how often a new close is looked for
    timeout_s: Positive = 10.0  # per REST request


class ShadowConfig(Section, frozen=True):
    """The shadow pipeline (feature ``shadow_pipeline``, docs/intel.md): a candidate configuration decides
    on the live ticks beside the live pipeline and sends nothing (fills only in its own simulated account)."""

    config_dir: str = ""  # the candidate's config directory ("" = the live configuration)
    overlay: str = ""  # a YAML file {runtime|risk|strategy|symbols: {key: value}} merged over the candidate
    report_interval_s: Positive = 60.0  # the comparison with the live pipeline (shadow_state.json), event time
    differences_kept: PosInt = 20  # the newest intents/decisions on which the two pipelines differed


class Features(Section, frozen=True):
    """Named feature flags, read once at start (env: ``HEDGE_FEATURE_<NAME>=0|1``, or the seed's
    ``*_V6_ENABLED`` names of ``hedge.config.env.SEED_FLAGS``; docs/configuration.md "Environment")."""

    twap: bool = True
    trailing_stop: bool = True
    exchange_stop_orders: bool = False
    dead_man_switch: bool = True
    alerts: bool = True
    intel: bool = False  # INTEL_V6_ENABLED: conviction from the factors and the risk state (docs/intel.md)
    shadow_pipeline: bool = False  # PIPELINE_V6_SHADOW_ENABLED: a candidate config decides on the ticks, sends nothing
    router_autotune: bool = False  # ROUTER_AUTOTUNE_V6_ENABLED: propose router parameters from recent TCA
    router_autotune_apply: bool = False  # ROUTER_AUTOTUNE_V6_APPLY_ENABLED: and apply them (bounded steps); 0 = propose
    feedback_allocator: bool = False  # FEEDBACK_ALLOCATOR_V6_ENABLED: risk budget per symbol x strategy
    firestore_sync: bool = False
    btc_model: bool = False
    malloc_trim: bool = True  # glibc's mmap/trim thresholds at 64 KiB and malloc_trim(0) every minute (RSS)
    tracemalloc: bool = False  # diagnosis: SIGUSR2 snapshots, growth in <log dir>/tracemalloc.txt
    warm_decision_path: bool = False  # the risk check and router decision rehearsed every 2 ms (hedge.daemon.warm)


class RuntimeConfig(Section, frozen=True):
    venue: Venue = "local"
    dry_run: bool = False
    once: bool = False
    once_timeout_s: Positive = 60.0  # --once: a cycle not complete by then exits 1, naming what it waited for
    log_level: LogLevel = "INFO"
    log_dir: str = "logs"
    trading_window: TradingWindow = msgspec.field(default_factory=TradingWindow)
    http: HttpConfig = msgspec.field(default_factory=HttpConfig)
    journal: JournalConfig = msgspec.field(default_factory=JournalConfig)
    metrics: MetricsConfig = msgspec.field(default_factory=MetricsConfig)
    gate: GateConfig = msgspec.field(default_factory=GateConfig)
    state: StateConfig = msgspec.field(default_factory=StateConfig)
    feeds: FeedsConfig = msgspec.field(default_factory=FeedsConfig)
    local_exchange: LocalExchangeConfig = msgspec.field(default_factory=LocalExchangeConfig)
    replay: ReplayConfig = msgspec.field(default_factory=ReplayConfig)
    router: RouterConfig = msgspec.field(default_factory=RouterConfig)
    portfolio: PortfolioConfig = msgspec.field(default_factory=PortfolioConfig)
    alerts: AlertsConfig = msgspec.field(default_factory=AlertsConfig)
    shadow: ShadowConfig = msgspec.field(default_factory=ShadowConfig)
    features: Features = msgspec.field(default_factory=Features)
    firestore: FirestoreConfig = msgspec.field(default_factory=FirestoreConfig)
    btc_model: BtcModelConfig = msgspec.field(default_factory=BtcModelConfig)
