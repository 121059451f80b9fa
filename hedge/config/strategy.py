"""The schema of strategy.yaml: universe, strategies, signals, calibrator, sizing, exits, scores, intel, allocator.

Owns: one frozen Struct per section of strategy.yaml with the spec's defaults (the calibrator's
keys may be overlaid by calibrator.yaml, see ``hedge.config.loading``).

Must never: read a file or the environment, or compute a signal (``hedge.signals`` does).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from hedge.config.intel import ConvictionParams, FactorDiagnosticsParams
from hedge.config.types import Fraction, NonNeg, NonNegInt, PosInt, Positive, Section, SymbolName
from hedge.events import Tier, VolRegime


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
    min_gap_ms: NonNegInt = 0  # fit labelling: at most one sample per strategy and symbol per gap (0: every signal)
    l2: NonNeg = 1e-3  # ridge penalty of the fit (keeps it finite on one-sided labels)
    fit_fraction: Fraction = 0.6  # `hedge calibrate`: the earliest share of the samples fits, the rest validates
    slope_l2: NonNeg = 0.0  # prior precision on the slope b (shrinks p toward the base rate; chosen by CV)
    eval_gap_ms: NonNegInt = 1000  # scoring (held out, cross-validation, --check): one sample per gap
    cv_folds: PosInt = 5  # fit_fraction 1: blocked, purged cross-validation folds that score the fit
    max_age_days: NonNeg = 30.0  # a real venue refuses a fit whose newest sample is older (0 = never stale)
    samples: NonNegInt = 0  # fit metadata: labelled samples used
    positives: NonNegInt = 0  # fit metadata: samples whose TP was hit first
    fitted_on: str = ""  # fit metadata: the recordings
    data_from: str = ""  # fit metadata: first fitted sample (UTC, ISO 8601)
    data_to: str = ""  # fit metadata: last sample whose outcome the fit saw (UTC, ISO 8601)
    geometry: str = ""  # fit metadata: the trade geometry labelled (``hedge.config.geometry.signature``)
    validation_samples: NonNegInt = 0  # fit metadata: later samples held out and scored
    brier: NonNeg = 0.0  # fit metadata, on the held-out samples
    log_loss: NonNeg = 0.0
    ece: NonNeg = 0.0  # expected calibration error


class ExitParams(Section, frozen=True):
    """The trade geometry: what the calibrator labels and the portfolio manages (``hedge.config.geometry``).

    Take-profit and stop-loss in bps: ``tp_pct * 1e4 + tp_vol * vol * sqrt(horizon_s)`` (and the
    same for the stop), ``vol`` the realized volatility (bps per sqrt(second)) when the entry was
    decided. The defaults are the ``scalper`` profile; ``profile: classic`` gives the original
    fixed levels (tp 0.5%, sl 0.25%, trail 20 bps, breakeven at 0.8 R, max 3 R, no time stop).
    """

    profile: Literal["scalper", "classic"] = "scalper"  # the base the other keys of this section override
    tp_pct: Fraction = 0.0001
    sl_pct: Fraction = 0.0001
    tp_vol: NonNeg = 1.0  # take-profit: this many volatility units (vol * sqrt(horizon_s)) beyond tp_pct
    sl_vol: NonNeg = 1.0
    trail_bps: NonNeg = 20.0
    breakeven_after_R: NonNeg = 3.0  # >= max_R: breakeven (and trailing) never arm before the take-profit
    max_R: Positive = 3.0
    horizon_s: Positive = 30.0  # the trade's horizon: the calibrator's labelling window and the time stop
    time_stop: bool = True  # close a position still open after horizon_s


EXIT_PROFILES: dict[str, dict[str, object]] = {
    "scalper": {},  # the defaults above
    "classic": {
        "tp_pct": 0.005, "sl_pct": 0.0025, "tp_vol": 0.0, "sl_vol": 0.0, "trail_bps": 20.0,
        "breakeven_after_R": 0.8, "max_R": 3.0, "horizon_s": 60.0, "time_stop": False,
    },
}


def exit_profile(name: str, **changes: object) -> ExitParams:
    """The named profile's ``ExitParams`` with ``changes`` (KeyError for an unknown name)."""
    return msgspec.convert({**EXIT_PROFILES[name], "profile": name, **changes}, ExitParams)


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


class AllocatorParams(Section, frozen=True):
    """The feedback allocator (feature ``feedback_allocator``, docs/intel.md): a risk-budget multiplier per
    symbol and strategy from the strategy's realized round trips, bounded, decaying toward 1.0."""

    min_budget: Positive = 0.25  # the smallest multiplier (also the budget of a stream the SPRT switched off)
    max_budget: Positive = 1.5  # the largest multiplier
    half_life_s: Positive = 3600.0  # event time in which a budget halves its distance to 1.0 without new trips
    edge_boost: Positive = 1.25  # an SPRT "edge" verdict multiplies the target (then bounded)

    def __post_init__(self) -> None:
        if not self.min_budget <= 1.0 <= self.max_budget:
            raise ValueError(f"need min_budget <= 1 <= max_budget, got {self.min_budget} and {self.max_budget}")


class StrategyEntry(Section, frozen=True):
    name: str
    enabled: bool = True
    params: dict[str, float] = {}


class StrategyConfig(Section, frozen=True):
    universe: list[SymbolName] = msgspec.field(default_factory=lambda: ["BTCUSDT"])
    per_trade_nav_pct: Fraction = 0.01
    directional_bias: Literal["none", "long", "short"] = "none"
    expectancy_min_bps: float = -1e9
    screen_min_e_pi_bps: float = -1e9  # the screener drops intents with e_pi_bps not above this (risk gates pi_min_bps)
    strategies: list[StrategyEntry] = msgspec.field(default_factory=lambda: [StrategyEntry(name="micro_scalper")])
    signals: SignalParams = msgspec.field(default_factory=SignalParams)
    calibrator: CalibratorParams = msgspec.field(default_factory=CalibratorParams)
    sizing: SizingParams = msgspec.field(default_factory=SizingParams)
    exits: ExitParams = msgspec.field(default_factory=ExitParams)
    scores: ScoreParams = msgspec.field(default_factory=ScoreParams)
    factor_diagnostics: FactorDiagnosticsParams = msgspec.field(default_factory=FactorDiagnosticsParams)
    conviction: ConvictionParams = msgspec.field(default_factory=ConvictionParams)
    allocator: AllocatorParams = msgspec.field(default_factory=AllocatorParams)
