"""Configuration: configs/*.yaml decoded into typed, validated Structs.

Owns: the schema of every setting (one Struct per section, defaults from the spec), the four
files (runtime.yaml, risk.yaml, strategy.yaml, symbols.yaml), normalisation of fractions,
environment overrides, cross-file checks, and error messages that name the file, the key path
and what was expected.

Conventions:
- Every percentage is a fraction (0.05 = 5%). A field typed ``Fraction`` that is given a value
  > 1 (e.g. ``5``) is read as a percentage, normalised to ``0.05`` and a warning is logged.
  Multiples of NAV (gross exposure 1.5x) are typed ``Multiple`` and never normalised.
- Unknown keys are errors (a typo must not silently fall back to a default).
- Environment: ``DRY_RUN=1``, ``BINANCE_TESTNET=1`` (venue binance-testnet), ``EXECUTOR_ONCE=1``
  (single-iteration mode), ``HEDGE_LOG_LEVEL``, ``HEDGE_FEATURE_<NAME>=0|1`` for the named feature
  flags, and ``HEDGE_<FILE>__<KEY>__<SUBKEY>=<yaml value>`` for any key, e.g.
  ``HEDGE_RISK__DAILY_DD_LIMIT=0.05`` or ``HEDGE_RUNTIME__METRICS__PORT=9200``.

Must never: hold a secret. API keys are read from the environment by the venue adapter only.
"""

from __future__ import annotations

import enum
import logging
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

import msgspec
import yaml

from hedge.events import Tier, VolRegime

log = logging.getLogger(__name__)

FRACTION_META = msgspec.Meta(ge=0.0, le=1.0, extra={"fraction": True})
Fraction = Annotated[float, FRACTION_META]
Multiple = Annotated[float, msgspec.Meta(ge=0.0)]
Positive = Annotated[float, msgspec.Meta(gt=0.0)]
NonNeg = Annotated[float, msgspec.Meta(ge=0.0)]
PosInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegInt = Annotated[int, msgspec.Meta(ge=0)]
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
SymbolName = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{2,20}$")]

Venue = Literal["local", "binance-testnet", "binance"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

CONFIG_FILES = ("runtime", "risk", "strategy", "symbols")
# Machine-written by ``hedge calibrate``; when present its keys override strategy.yaml's ``calibrator``.
CALIBRATOR_FILE = "calibrator.yaml"
DEFAULT_CONFIG_DIR = Path("configs")


class Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Base of every config section."""


# ============================================================================ runtime.yaml


class TradingWindow(Section, frozen=True):
    """UTC hours (and weekdays, 0 = Monday) in which new exposure may be opened."""

    start: HHMM = "00:00"
    end: HHMM = "24:00"
    days: list[Annotated[int, msgspec.Meta(ge=0, le=6)]] = msgspec.field(
        default_factory=lambda: [0, 1, 2, 3, 4, 5, 6]
    )


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


class MetricsConfig(Section, frozen=True):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: Port = 9108  # 0 = an ephemeral port (the bound one is logged and exposed)
    feed_stale_s: Positive = 10.0  # /health: no market data for a symbol this long -> 503
    user_stream: str = "user"  # the connection / component name of the user-data stream
    require_user_stream: bool = True  # /health: 503 while the user stream is not live
    loop_lag_interval_s: Positive = 0.5  # event-loop lag probe period


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


class RouterConfig(Section, frozen=True):
    maker_timeout_s: Positive = 5.0
    reprice_ticks: PosInt = 2  # reprice a resting maker order when the touch moves this far away
    max_post_only_rejects: NonNegInt = 3
    slippage_budget_bps: NonNeg = 10.0
    unknown_resolve_s: Positive = 30.0
    filters_refresh_s: Positive = 3600.0  # reload the exchange's filters this often
    twap: TwapConfig = msgspec.field(default_factory=TwapConfig)


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


class Features(Section, frozen=True):
    """Named feature flags (env: ``HEDGE_FEATURE_<NAME>=0|1``)."""

    twap: bool = True
    trailing_stop: bool = True
    exchange_stop_orders: bool = False
    dead_man_switch: bool = True
    alerts: bool = True


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
    state: StateConfig = msgspec.field(default_factory=StateConfig)
    feeds: FeedsConfig = msgspec.field(default_factory=FeedsConfig)
    local_exchange: LocalExchangeConfig = msgspec.field(default_factory=LocalExchangeConfig)
    replay: ReplayConfig = msgspec.field(default_factory=ReplayConfig)
    router: RouterConfig = msgspec.field(default_factory=RouterConfig)
    portfolio: PortfolioConfig = msgspec.field(default_factory=PortfolioConfig)
    alerts: AlertsConfig = msgspec.field(default_factory=AlertsConfig)
    features: Features = msgspec.field(default_factory=Features)


# ============================================================================ risk.yaml


class TierCaps(
    Section,
    frozen=True,
    rename={"core": "CORE", "satellite": "SATELLITE", "tactical": "TACTICAL", "alt_ext": "ALT-EXT"},
):
    """Largest position per symbol of each tier, as a fraction of NAV."""

    core: Fraction = 0.30
    satellite: Fraction = 0.20
    tactical: Fraction = 0.10
    alt_ext: Fraction = 0.05

    def cap(self, tier: Tier) -> float:
        return {
            Tier.CORE: self.core,
            Tier.SATELLITE: self.satellite,
            Tier.TACTICAL: self.tactical,
            Tier.ALT_EXT: self.alt_ext,
        }[tier]


class CooloffConfig(Section, frozen=True):
    consecutive_losses: PosInt = 3
    consecutive_rejects: PosInt = 5
    seconds: NonNeg = 300.0


class KillSwitchConfig(Section, frozen=True):
    flag_file: str = "logs/KILL"
    flatten: bool = False
    poll_s: Positive = 0.25  # how often the running daemon looks for the flag file


class DeadManConfig(Section, frozen=True):
    countdown_ms: Annotated[int, msgspec.Meta(ge=5000)] = 60_000
    heartbeat_s: Positive = 20.0


class RiskConfig(Section, frozen=True):
    nav_freshness_seconds: Positive = 90.0
    max_trade_nav_pct: Fraction = 0.05
    tier_caps: TierCaps = msgspec.field(default_factory=TierCaps)
    symbol_caps: dict[str, Fraction] = {}
    gross_exposure_max: Multiple = 1.5  # x NAV
    net_exposure_max: Multiple = 1.0  # x NAV
    max_open_orders: PosInt = 20
    daily_dd_limit: Fraction = 0.10
    portfolio_dd_limit: Fraction = 0.20
    cvar_alpha: Fraction = 0.1
    cvar_limit: Fraction = 0.05
    cvar_min_samples: PosInt = 24  # fewer returns than this: the CVaR gate does not apply
    return_period_s: Positive = 3600.0  # NAV sampled this often into the return history
    return_window: PosInt = 720  # returns kept (720 hourly = 30 days)
    spread_bps_limit: NonNeg = 80.0
    latency_ms_limit: NonNeg = 500.0
    ack_latency_window_s: Positive = 30.0  # a measured order-ack latency counts for this long
    pi_min_bps: float = 0.0
    require_user_stream: bool = True  # the user-data stream must be up for any new order
    require_reconciliation: bool = True  # no order before the portfolio's first reconciliation (Reconciled)
    user_stream: str = "user"  # FeedStatus.connection / Heartbeat.component of the user-data stream
    cooloff: CooloffConfig = msgspec.field(default_factory=CooloffConfig)
    kill_switch: KillSwitchConfig = msgspec.field(default_factory=KillSwitchConfig)
    dead_man: DeadManConfig = msgspec.field(default_factory=DeadManConfig)


# ============================================================================ strategy.yaml


class SignalParams(Section, frozen=True):
    imbalance_levels: PosInt = 5
    flow_window_s: Positive = 5.0
    vol_halflife_s: Positive = 30.0
    vol_low_bps: NonNeg = 0.3  # realized vol (bps per sqrt(second)) below this -> regime "low"
    vol_high_bps: NonNeg = 1.5  # above this -> regime "high"
    absorption_min_flow: NonNeg = 0.6
    absorption_max_move_bps: Positive = 0.5  # flow with a smaller mid move (its way) is "absorbed"
    publish_every_ms: NonNegInt = 1000  # Features/SymbolScore per symbol at most this often (event time)


class CalibratorParams(Section, frozen=True):
    """Logistic ``p = 1 / (1 + exp(-(a + b * |score|)))``; written by ``hedge calibrate``.

    ``hedge calibrate`` writes these keys to ``configs/calibrator.yaml``, which overrides this
    section of strategy.yaml when present (see ``load_config``).
    """

    a: float = 0.0
    b: float = 1.0
    fees_bps: NonNeg = 4.0  # round-trip fees
    slippage_bps: NonNeg = 1.0  # expected slippage when the symbol's liquidity bucket is unknown
    horizon_s: Positive = 60.0  # labelling: TP must be hit before SL within this time
    min_gap_ms: NonNegInt = 1000  # labelling: at most one sample per symbol per gap
    l2: NonNeg = 1e-3  # ridge penalty of the fit (keeps it finite on one-sided labels)
    samples: NonNegInt = 0  # fit metadata: labelled samples used
    positives: NonNegInt = 0  # fit metadata: samples whose TP was hit first
    fitted_on: str = ""  # fit metadata: the recordings


class ExitParams(Section, frozen=True):
    tp_pct: Fraction = 0.005
    sl_pct: Fraction = 0.0025
    trail_bps: NonNeg = 20.0
    breakeven_after_R: NonNeg = 0.8
    max_R: Positive = 3.0


class SizingParams(Section, frozen=True):
    tier_multipliers: dict[Tier, NonNeg] = msgspec.field(
        default_factory=lambda: {Tier.CORE: 1.0, Tier.SATELLITE: 0.75, Tier.TACTICAL: 0.5, Tier.ALT_EXT: 0.25}
    )
    max_conviction: Positive = 2.0
    high_vol_tactical_multiplier: Fraction = 0.5
    max_notional_usd: Positive = 50_000.0
    regime_multipliers: dict[VolRegime, NonNeg] = msgspec.field(
        default_factory=lambda: {VolRegime.LOW: 1.0, VolRegime.NORMAL: 1.0, VolRegime.HIGH: 0.75}
    )
    min_notional_usd: NonNeg = 5.0  # smaller intents are not emitted


class ScoreParams(Section, frozen=True):
    """Rolling expectancy, symbol/hybrid scores and the SPRT on realized round trips."""

    window_trades: PosInt = 50
    min_trades: NonNegInt = 5  # the expectancy gate applies from this many trades on
    expectancy_scale_bps: Positive = 10.0  # tanh scale of expectancy in the scores
    liquidity_spread_bps: Positive = 2.0  # spread at which the liquidity score is 0.5
    weight_signal: NonNeg = 0.4  # hybrid score = weighted mean of signal strength, expectancy, liquidity
    weight_expectancy: NonNeg = 0.4
    weight_liquidity: NonNeg = 0.2
    sprt_p0: Fraction = 0.45  # win rate with no edge (H0)
    sprt_p1: Fraction = 0.55  # win rate with an edge (H1)
    sprt_alpha: Fraction = 0.05
    sprt_beta: Fraction = 0.10


class StrategyEntry(Section, frozen=True):
    name: str
    enabled: bool = True
    params: dict[str, float] = {}


class StrategyConfig(Section, frozen=True):
    universe: list[SymbolName] = msgspec.field(default_factory=lambda: ["BTCUSDT"])
    per_trade_nav_pct: Fraction = 0.01
    directional_bias: Literal["none", "long", "short"] = "none"
    expectancy_min_bps: float = -1e9
    screen_min_e_pi_bps: float = 0.0  # the screener drops intents whose e_pi_bps is not above this
    strategies: list[StrategyEntry] = msgspec.field(
        default_factory=lambda: [StrategyEntry(name="micro_scalper")]
    )
    signals: SignalParams = msgspec.field(default_factory=SignalParams)
    calibrator: CalibratorParams = msgspec.field(default_factory=CalibratorParams)
    sizing: SizingParams = msgspec.field(default_factory=SizingParams)
    exits: ExitParams = msgspec.field(default_factory=ExitParams)
    scores: ScoreParams = msgspec.field(default_factory=ScoreParams)


# ============================================================================ symbols.yaml


class SymbolInfo(Section, frozen=True):
    tier: Tier = Tier.TACTICAL
    group: str = ""
    liquidity: str = "normal"


class CorrelationGroup(Section, frozen=True):
    cap: Fraction = 0.40


class LiquidityBucket(Section, frozen=True):
    slippage_bps: NonNeg = 2.0
    max_book_participation: Fraction = 0.10


class SymbolsConfig(Section, frozen=True):
    symbols: dict[SymbolName, SymbolInfo] = msgspec.field(
        default_factory=lambda: {"BTCUSDT": SymbolInfo(tier=Tier.CORE, liquidity="deep")}
    )
    correlation_groups: dict[str, CorrelationGroup] = {}
    liquidity_buckets: dict[str, LiquidityBucket] = msgspec.field(
        default_factory=lambda: {
            "deep": LiquidityBucket(slippage_bps=1.0),
            "normal": LiquidityBucket(),
            "thin": LiquidityBucket(slippage_bps=5.0, max_book_participation=0.05),
        }
    )


# ============================================================================ the whole


class Config(msgspec.Struct, kw_only=True, frozen=True):
    runtime: RuntimeConfig = msgspec.field(default_factory=RuntimeConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    strategy: StrategyConfig = msgspec.field(default_factory=StrategyConfig)
    symbols: SymbolsConfig = msgspec.field(default_factory=SymbolsConfig)
    source: str = ""  # the directory it was loaded from ("" = built-in defaults)


_SECTION_TYPES: dict[str, type[Section]] = {
    "runtime": RuntimeConfig,
    "risk": RiskConfig,
    "strategy": StrategyConfig,
    "symbols": SymbolsConfig,
}


class ConfigError(Exception):
    """One configuration problem: which file, which key, what was expected."""

    def __init__(self, file: str, key: str, expected: str) -> None:
        self.file = file
        self.key = key
        self.expected = expected
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {expected}")


class ConfigErrors(Exception):
    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# ---------------------------------------------------------------------------- fractions


def _normalize_fractions(data: Any, tp: msgspec.inspect.Type, path: str, file: str) -> Any:
    """Walk raw YAML data alongside the schema; turn percentages given as > 1 into fractions."""
    if isinstance(tp, msgspec.inspect.Metadata):
        if (tp.extra or {}).get("fraction") and isinstance(data, int | float) and not isinstance(data, bool):
            if 1.0 < data <= 100.0:
                log.warning("%s: %s = %s read as a percentage -> %s", file, path, data, data / 100.0)
                return data / 100.0
            return data
        return _normalize_fractions(data, tp.type, path, file)
    if isinstance(tp, msgspec.inspect.StructType) and isinstance(data, dict):
        out = dict(data)
        for f in tp.fields:
            if f.encode_name in out:
                out[f.encode_name] = _normalize_fractions(
                    out[f.encode_name], f.type, f"{path}.{f.encode_name}" if path else f.encode_name, file
                )
        return out
    if isinstance(tp, msgspec.inspect.DictType) and isinstance(data, dict):
        return {k: _normalize_fractions(v, tp.value_type, f"{path}.{k}", file) for k, v in data.items()}
    if isinstance(tp, msgspec.inspect.ListType) and isinstance(data, list):
        return [_normalize_fractions(v, tp.item_type, f"{path}[{i}]", file) for i, v in enumerate(data)]
    return data


_PATH_RE = re.compile(r" - at `\$(.*)`$")


def _choices(tp: Any) -> list[str] | None:
    """The allowed values of a Literal or Enum annotation (looking through Annotated)."""
    if get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) is Literal:
        return [str(a) for a in get_args(tp)]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [str(m.value) for m in tp]
    return None


def _problems(data: Any, tp: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every invalid value below ``path``: (key path, what was expected), in file order.

    msgspec stops at the first error and reports dict entries as ``[...]``; this walk goes on
    (an operator fixes every error of a file in one pass), names the actual key, and lists the
    allowed values of Literal/Enum fields.
    """
    base = get_args(tp)[0] if get_origin(tp) is Annotated else tp
    if isinstance(base, type) and issubclass(base, msgspec.Struct) and isinstance(data, dict):
        hints = get_type_hints(base, include_extras=True)
        info = {f.encode_name: f.name for f in msgspec.structs.fields(base)}
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in info:
                yield sub, "unknown key (not in the schema; check its spelling and section)"
            else:
                yield from _problems(value, hints[info[key]], sub)
        return
    if get_origin(base) is dict and isinstance(data, dict):
        ktype, vtype = get_args(base)
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            bad_key = list(_problems(key, ktype, f"{sub} (key)"))
            yield from bad_key or _problems(value, vtype, sub)
        return
    if get_origin(base) is list and isinstance(data, list):
        (itype,) = get_args(base)
        for i, value in enumerate(data):
            yield from _problems(value, itype, f"{path}[{i}]")
        return
    try:
        msgspec.convert(data, tp, strict=True)
    except msgspec.ValidationError as exc:
        choices = _choices(tp)
        if choices is not None:
            yield path, f"invalid value {data!r}; expected one of: {', '.join(choices)}"
        else:
            yield path, _PATH_RE.sub("", str(exc))


def _locate(data: Any, tp: Any, path: str) -> tuple[str, str] | None:
    """The first invalid value below ``path`` (see ``_problems``), or None."""
    return next(_problems(data, tp, path), None)


def _convert(section: str, data: Any, file: str) -> Section:
    """``data`` as the section's Struct; ``ConfigErrors`` naming every invalid key of the file."""
    tp = _SECTION_TYPES[section]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigErrors([ConfigError(file, "", f"expected a mapping of keys, got {type(data).__name__}")])
    data = _normalize_fractions(data, msgspec.inspect.type_info(tp), "", file)
    try:
        return msgspec.convert(data, tp, strict=True)
    except msgspec.ValidationError as exc:
        found = list(_problems(data, tp, ""))
        if not found:  # msgspec's own words, with its path (e.g. a required key is missing)
            msg = str(exc)
            m = _PATH_RE.search(msg)
            found = [(m.group(1).lstrip(".") if m else "", _PATH_RE.sub("", msg))]
        raise ConfigErrors([ConfigError(file, *f) for f in found]) from None


# ---------------------------------------------------------------------------- environment

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"environment {name}", "", f"expected 0/1/true/false, got {value!r}")


def _set_path(tree: dict[str, Any], keys: list[str], value: Any) -> None:
    node = tree
    for k in keys[:-1]:
        child = node.get(k)
        if not isinstance(child, dict):
            child = {}
            node[k] = child
        node = child
    node[keys[-1]] = value


def _apply_env(raw: dict[str, dict[str, Any]], env: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """Apply the environment overrides to the raw files; returns (section, key path) -> the variable
    that set it, so an invalid value is reported against the variable, not the file."""
    origin: dict[tuple[str, str], str] = {}
    rt = raw["runtime"]
    if "DRY_RUN" in env:
        rt["dry_run"] = _env_bool("DRY_RUN", env["DRY_RUN"])
    if "BINANCE_TESTNET" in env and _env_bool("BINANCE_TESTNET", env["BINANCE_TESTNET"]):
        rt["venue"] = "binance-testnet"
    if "EXECUTOR_ONCE" in env:
        rt["once"] = _env_bool("EXECUTOR_ONCE", env["EXECUTOR_ONCE"])
    if "HEDGE_LOG_LEVEL" in env:
        rt["log_level"] = env["HEDGE_LOG_LEVEL"].upper()
    flags = {f for f in Features.__struct_fields__}
    for name, value in env.items():
        if name.startswith("HEDGE_FEATURE_"):
            flag = name[len("HEDGE_FEATURE_") :].lower()
            if flag not in flags:
                raise ConfigError(
                    f"environment {name}", "", f"unknown feature flag {flag!r}; known: {sorted(flags)}"
                )
            _set_path(rt, ["features", flag], _env_bool(name, value))
        elif name.startswith("HEDGE_") and "__" in name:
            parts = name[len("HEDGE_") :].split("__")
            section, keys = parts[0].lower(), parts[1:]
            if section not in raw or not all(keys):
                raise ConfigError(
                    f"environment {name}",
                    "",
                    f"expected HEDGE_<{'|'.join(s.upper() for s in CONFIG_FILES)}>__<KEY>[__<SUBKEY>...]",
                )
            keys = _env_keys(_SECTION_TYPES[section], keys)
            _set_path(raw[section], keys, yaml.safe_load(value) if value != "" else "")
            origin[(section, ".".join(keys))] = name
    return origin


def _blame_env(err: ConfigError, section: str, origin: Mapping[tuple[str, str], str]) -> ConfigError:
    """``err`` named after the environment variable that set its key, if one did."""
    for (sec, path), name in origin.items():
        if sec == section and (err.key == path or err.key.startswith((f"{path}.", f"{path}["))):
            return ConfigError(f"environment {name}", err.key, err.expected)
    return err


def _env_keys(tp: Any, keys: list[str]) -> list[str]:
    """Map upper-case env segments onto schema keys: struct fields by name, dict keys verbatim."""
    out: list[str] = []
    for key in keys:
        base = get_args(tp)[0] if get_origin(tp) is Annotated else tp
        if isinstance(base, type) and issubclass(base, msgspec.Struct):
            fields = {f.encode_name.lower().replace("-", "_"): f for f in msgspec.structs.fields(base)}
            f = fields.get(key.lower())
            if f is None:
                out.append(key.lower())  # unknown: let validation name it
                tp = Any
                continue
            out.append(f.encode_name)
            tp = get_type_hints(base, include_extras=True)[f.name]
        elif get_origin(base) is dict:
            out.append(key)
            tp = get_args(base)[1]
        else:
            out.append(key.lower())
            tp = Any
    return out


# ---------------------------------------------------------------------------- loading


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(path), where, f"invalid YAML: {problem}") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}") from None


def _cross_checks(cfg: Config, dirname: str) -> list[ConfigError]:
    errors: list[ConfigError] = []
    sym_file = f"{dirname}/symbols.yaml"
    known = cfg.symbols.symbols
    for i, sym in enumerate(cfg.strategy.universe):
        if sym not in known:
            errors.append(
                ConfigError(
                    f"{dirname}/strategy.yaml",
                    f"universe[{i}]",
                    f"symbol {sym!r} is not defined in symbols.yaml (known: {sorted(known)})",
                )
            )
    for sym, info in known.items():
        if info.group and info.group not in cfg.symbols.correlation_groups:
            errors.append(
                ConfigError(sym_file, f"symbols.{sym}.group", f"unknown correlation group {info.group!r}")
            )
        if info.liquidity not in cfg.symbols.liquidity_buckets:
            errors.append(
                ConfigError(sym_file, f"symbols.{sym}.liquidity", f"unknown liquidity bucket {info.liquidity!r}")
            )
    for sym in cfg.risk.symbol_caps:
        if sym not in known:
            errors.append(
                ConfigError(f"{dirname}/risk.yaml", f"symbol_caps.{sym}", "symbol not defined in symbols.yaml")
            )
    rt = cfg.runtime
    if cfg.strategy.signals.imbalance_levels != rt.feeds.imbalance_levels:
        errors.append(
            ConfigError(
                f"{dirname}/strategy.yaml",
                "signals.imbalance_levels",
                f"must equal runtime.yaml feeds.imbalance_levels ({rt.feeds.imbalance_levels}): the book computes it",
            )
        )
    if rt.http.backoff_initial_s > rt.http.backoff_max_s:
        errors.append(
            ConfigError(f"{dirname}/runtime.yaml", "http.backoff_initial_s", "must be <= http.backoff_max_s")
        )
    return errors


def _merge_calibrator(strategy: dict[str, Any], path: Path) -> None:
    """Overlay ``calibrator.yaml`` (written by ``hedge calibrate``) on strategy.yaml's calibrator keys."""
    if not path.exists():
        return
    data = _read_yaml(path)
    if data is None:
        return
    if not isinstance(data, dict):
        raise ConfigError(str(path), "", f"expected a mapping of keys, got {type(data).__name__}")
    found = _locate(data, CalibratorParams, "")
    if found is not None:
        raise ConfigError(str(path), *found)
    base = strategy.get("calibrator")
    strategy["calibrator"] = {**(base if isinstance(base, dict) else {}), **data}


def load_config(directory: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate ``directory``/{runtime,risk,strategy,symbols}.yaml, then apply ``env``.

    A missing file means that section's defaults. Raises ``ConfigErrors`` listing every problem.
    """
    d = Path(directory) if directory is not None else DEFAULT_CONFIG_DIR
    env = os.environ if env is None else env
    errors: list[ConfigError] = []
    raw: dict[str, dict[str, Any]] = {}
    if directory is not None and not d.is_dir():
        raise ConfigErrors([ConfigError(str(d), "", "config directory does not exist")])
    for name in CONFIG_FILES:
        path = d / f"{name}.yaml"
        data: Any = {}
        if path.exists():
            try:
                data = _read_yaml(path)
            except ConfigError as e:
                errors.append(e)
                data = {}
        if data is None:
            data = {}
        if not isinstance(data, dict):
            errors.append(ConfigError(str(path), "", f"expected a mapping of keys, got {type(data).__name__}"))
            data = {}
        raw[name] = data
    try:
        _merge_calibrator(raw["strategy"], d / CALIBRATOR_FILE)
    except ConfigError as e:
        errors.append(e)
    origin: dict[tuple[str, str], str] = {}
    try:
        origin = _apply_env(raw, env)
    except ConfigError as e:
        errors.append(e)
    sections: dict[str, Section] = {}
    for name in CONFIG_FILES:
        try:
            sections[name] = _convert(name, raw[name], str(d / f"{name}.yaml"))
        except ConfigErrors as e:
            errors.extend(_blame_env(err, name, origin) for err in e.errors)
    if errors:
        raise ConfigErrors(errors)
    cfg = Config(
        runtime=sections["runtime"],  # type: ignore[arg-type]
        risk=sections["risk"],  # type: ignore[arg-type]
        strategy=sections["strategy"],  # type: ignore[arg-type]
        symbols=sections["symbols"],  # type: ignore[arg-type]
        source=str(d),
    )
    errors = _cross_checks(cfg, str(d))
    if errors:
        raise ConfigErrors(errors)
    return cfg


def default_config() -> Config:
    """The built-in defaults, without reading files or the environment."""
    return Config()
