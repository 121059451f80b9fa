"""The schema of risk.yaml: limits, tier caps, cooloff, kill switch and dead-man switch.

Owns: one frozen Struct per section of risk.yaml with the spec's defaults (fractions of NAV,
multiples of NAV, latencies, the CVaR gate's parameters).

Must never: read a file or the environment, or compute a risk decision (``hedge.risk`` does).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from hedge.config.types import Fraction, Multiple, NonNeg, PosInt, Positive, Section
from hedge.events import Tier


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
    flag_file: str = "KILL"  # relative to runtime.log_dir (an absolute path is used as is)
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
    gate_url: str = ""  # a remote pre-trade gate asked after every local approval ("" = none; docs/gate.md)
    gate_timeout_ms: Positive = 50.0  # the remote gate's latency budget: no answer by then is a veto
    cooloff: CooloffConfig = msgspec.field(default_factory=CooloffConfig)
    kill_switch: KillSwitchConfig = msgspec.field(default_factory=KillSwitchConfig)
    dead_man: DeadManConfig = msgspec.field(default_factory=DeadManConfig)
