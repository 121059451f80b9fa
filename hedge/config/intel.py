"""The schema of strategy.yaml's intel sections: factor diagnostics, the adaptive weight overlay, conviction.

Owns: ``FactorDiagnosticsParams`` (sampling and windows of the factor table, docs/intel.md),
``AutoWeighting`` (the optional adaptive overlay of the hybrid score's weights, off by default)
and ``ConvictionParams`` (the factor-agreement and risk-state size multiplier, off by default;
``runtime.features.intel`` also turns it on).

Must never: read a file or the environment, or compute a figure (``hedge.signals`` does).
"""

from __future__ import annotations

import msgspec

from hedge.config.types import Fraction, NonNeg, PosInt, Positive, Section


class AutoWeighting(Section, frozen=True):
    """``adaptive``: the hybrid score's signal and expectancy weights follow the factors' IR and the
    realized PnL, each multiplier within [min_multiplier, max_multiplier], moved ``smoothing`` of the
    way toward its target at every factor block (event time: deterministic in replay)."""

    adaptive: bool = False
    min_multiplier: Positive = 0.5
    max_multiplier: Positive = 1.5
    smoothing: Fraction = 0.2
    ir_gain: NonNeg = 0.5  # signal multiplier target = 1 + ir_gain * IR of the strategies' signals
    pnl_gain: NonNeg = 0.5  # expectancy multiplier target = 1 + pnl_gain * tanh(mean realized bps / pnl_scale_bps)
    pnl_scale_bps: Positive = 5.0

    def __post_init__(self) -> None:
        if self.min_multiplier > 1.0 or self.max_multiplier < 1.0:
            raise ValueError("min_multiplier must be <= 1 <= max_multiplier")


class FactorDiagnosticsParams(Section, frozen=True):
    """Each factor's rolling IC, IR, hit rate and PnL attribution against the forward mid return at
    the trade horizon (``exits.horizon_s``); sampled at most every ``sample_every_ms`` per symbol."""

    enabled: bool = True  # diagnostics only: no decision reads them unless the overlay or conviction does
    sample_every_ms: PosInt = 1000
    window_samples: PosInt = 300  # rolling IC, hit rate and mean PnL over the newest resolved samples
    block_samples: PosInt = 30  # IR = mean / std of the ICs of consecutive blocks of this many samples
    blocks: PosInt = 20  # the newest blocks the IR is taken over
    publish_every_ms: PosInt = 10_000  # the factor report (factor_diagnostics.json) at most this often
    auto_weighting: AutoWeighting = msgspec.field(default_factory=AutoWeighting)


class ConvictionParams(Section, frozen=True):
    """``conviction = (agreement_floor + (1 - agreement_floor) * agreement) * risk`` in [0, 1]: agreement
    is the share of the directional factors on the intent's side; ``risk`` is 1 until the drawdown uses
    ``drawdown_start`` of its limit, then falls linearly to 0 at the limit, times ``reducing_multiplier``
    in REDUCING (0 when HALTED). The intent's notional is multiplied by it."""

    enabled: bool = False  # or runtime.features.intel
    agreement_floor: Fraction = 0.5
    drawdown_start: Fraction = 0.5
    reducing_multiplier: Fraction = 0.5
