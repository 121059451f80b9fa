"""Configuration: configs/*.yaml decoded into typed, validated Structs (``from hedge.config import X``).

Owns: the package's public names. The schemas live one module per file (``runtime``, ``risk``,
``strategy``, ``symbols``; their value types in ``types``; the whole in ``model``), loading in
``loading`` (with ``env`` for the environment overrides, ``normalise`` for percentages and
``checks`` for cross-file checks), and the error messages in ``errors``.

Conventions:
- Every percentage is a fraction (0.05 = 5%). A field typed ``Fraction`` that is given a value
  > 1 (e.g. ``5``) is read as a percentage, normalised to ``0.05`` and a warning is logged.
  Multiples of NAV (gross exposure 1.5x) are typed ``Multiple`` and never normalised.
- Unknown keys are errors (a typo must not silently fall back to a default).
- Environment: ``DRY_RUN=1``, ``BINANCE_TESTNET=1`` (venue binance-testnet), ``EXECUTOR_ONCE=1``
  (single-iteration mode), ``HEDGE_LOG_LEVEL``, ``HEDGE_FEATURE_<NAME>=0|1`` for the named feature
  flags, and ``HEDGE_<FILE>__<KEY>__<SUBKEY>=<yaml value>`` for any key, e.g.
  ``HEDGE_RISK__DAILY_DD_LIMIT=0.05`` or ``HEDGE_RUNTIME__METRICS__PORT=9200``.

Must never: hold a secret (API keys are read from the environment by the venue adapter only), or
import an engine stage.
"""

from hedge.config.errors import ConfigError, ConfigErrors
from hedge.config.loading import load_config
from hedge.config.model import CALIBRATOR_FILE, CONFIG_FILES, DEFAULT_CONFIG_DIR, FILLPROB_FILE, Config, default_config
from hedge.config.risk import CooloffConfig, DeadManConfig, KillSwitchConfig, RiskConfig, TierCaps
from hedge.config.runtime import (
    AlertsConfig,
    AutoRouterConfig,
    AutotuneConfig,
    BtcModelConfig,
    Features,
    FeedsConfig,
    FillModel,
    FirestoreConfig,
    GateConfig,
    HttpConfig,
    JournalConfig,
    LocalExchangeConfig,
    MetricsConfig,
    PortfolioConfig,
    ReplayConfig,
    RouterConfig,
    RuntimeConfig,
    ShadowConfig,
    StateConfig,
    TelegramConfig,
    TradingWindow,
    TwapConfig,
    WebhookConfig,
)
from hedge.config.strategy import (
    AllocatorParams,
    CalibratorParams,
    ExitParams,
    ScoreParams,
    SignalParams,
    SizingParams,
    StrategyConfig,
    StrategyEntry,
    exit_profile,
)
from hedge.config.symbols import CorrelationGroup, LiquidityBucket, SymbolInfo, SymbolsConfig
from hedge.config.types import (
    FRACTION_META,
    HHMM,
    Fraction,
    LogLevel,
    Multiple,
    NonNeg,
    NonNegInt,
    Port,
    PosInt,
    Positive,
    Section,
    SymbolName,
    Venue,
)

__all__ = [
    "CALIBRATOR_FILE",
    "CONFIG_FILES",
    "DEFAULT_CONFIG_DIR",
    "FILLPROB_FILE",
    "FRACTION_META",
    "HHMM",
    "AlertsConfig",
    "AllocatorParams",
    "AutoRouterConfig",
    "AutotuneConfig",
    "BtcModelConfig",
    "CalibratorParams",
    "Config",
    "ConfigError",
    "ConfigErrors",
    "CooloffConfig",
    "CorrelationGroup",
    "DeadManConfig",
    "ExitParams",
    "Features",
    "FeedsConfig",
    "FillModel",
    "FirestoreConfig",
    "Fraction",
    "GateConfig",
    "HttpConfig",
    "JournalConfig",
    "KillSwitchConfig",
    "LiquidityBucket",
    "LocalExchangeConfig",
    "LogLevel",
    "MetricsConfig",
    "Multiple",
    "NonNeg",
    "NonNegInt",
    "Port",
    "PortfolioConfig",
    "PosInt",
    "Positive",
    "ReplayConfig",
    "RiskConfig",
    "RouterConfig",
    "RuntimeConfig",
    "ScoreParams",
    "Section",
    "ShadowConfig",
    "SignalParams",
    "SizingParams",
    "StateConfig",
    "StrategyConfig",
    "StrategyEntry",
    "SymbolInfo",
    "SymbolName",
    "SymbolsConfig",
    "TelegramConfig",
    "TierCaps",
    "TradingWindow",
    "TwapConfig",
    "Venue",
    "WebhookConfig",
    "default_config",
    "exit_profile",
    "load_config",
]
