"""The factors: which feature values the factor diagnostics and conviction read, and their signs.

Owns: the factor names in their fixed order (``BASE_FACTORS`` then ``signal:<strategy>`` per
strategy), ``factor_values`` (one tick's values, read from the live ``SymbolFeatures`` and the
strategies' scores of the same tick), which factors are magnitudes (the volatility regime: it
predicts the size of the move, not its side) and ``agreement`` (the share of the directional
factors on a side).

Must never: allocate more than the one values tuple per sample, or read a clock.
"""

from __future__ import annotations

from collections.abc import Sequence

from hedge.events import VolRegime
from hedge.signals.features import SymbolFeatures

BASE_FACTORS = ("book_imbalance", "flow_imbalance", "micro_price_dev_bps", "absorption", "vol_regime")
MAGNITUDE = frozenset({"vol_regime"})
_REGIME = {VolRegime.LOW: -1.0, VolRegime.NORMAL: 0.0, VolRegime.HIGH: 1.0}


def factor_names(strategies: Sequence[str]) -> tuple[str, ...]:
    return BASE_FACTORS + tuple(f"signal:{s}" for s in strategies)


def micro_dev_bps(f: SymbolFeatures) -> float:
    return (f.micro - f.mid) / f.mid * 1e4 if f.mid > 0.0 else 0.0


def factor_values(f: SymbolFeatures, scores: Sequence[float]) -> tuple[float, ...]:
    """This tick's factor values, in ``factor_names`` order (``scores``: each strategy's, same order)."""
    return (
        f.book_imbalance, f.flow_imbalance, micro_dev_bps(f), f.absorption, _REGIME[f.regime], *scores,
    )


def agreement(f: SymbolFeatures, scores: Sequence[float], side: float) -> float:
    """Share in [0, 1] of the directional factors (every factor but the volatility regime) whose sign
    is ``side`` (+1 buy, -1 sell); a factor at 0 does not agree."""
    agree = 0
    total = 4 + len(scores)
    for x in (f.book_imbalance, f.flow_imbalance, f.micro - f.mid, f.absorption, *scores):
        if x * side > 0.0:
            agree += 1
    return agree / total
