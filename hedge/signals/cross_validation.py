"""Blocked, purged cross-validation of the calibrator within one stretch of data.

Owns: ``blocked_folds`` (``folds`` consecutive, equal spans of event time; a fold's scoring samples
are those inside its span; its fitting samples are those whose time is at least ``horizon_ms``
away from the span on either side, so no fitted label's outcome window overlaps a scored one's)
and ``cross_validate`` (each scoring sample's forecast from the fit that did not see its fold).

Must never: score the forecasts (``hedge.signals.reliability`` does) or choose a fold by its score.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hedge.signals.calibrator import fit_logistic

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def blocked_folds(
    fit_ts: IntArray, score_ts: IntArray, folds: int, horizon_ms: int
) -> list[tuple[BoolArray, BoolArray]]:
    """(fit mask over ``fit_ts``, score mask over ``score_ts``) per fold, over the span of both."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    both = np.concatenate([fit_ts, score_ts])
    if not both.size:
        return []
    edges = np.linspace(float(both.min()), float(both.max()) + 1.0, folds + 1)
    out = []
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        scored = (score_ts >= lo) & (score_ts < hi)
        fit = (fit_ts + horizon_ms < lo) | (fit_ts >= hi + horizon_ms)
        out.append((fit, scored))
    return out


def cross_validate(
    fit_ts: IntArray, fit_x: FloatArray, fit_y: FloatArray, score_ts: IntArray, score_x: FloatArray,
    *, folds: int, horizon_ms: int, l2: float, slope_l2: float,
) -> tuple[FloatArray, BoolArray]:
    """Out-of-fold forecasts for the scoring samples and the mask of those that got one (a fold
    with nothing left to fit on leaves its samples unscored)."""
    p = np.zeros(score_x.size)
    done = np.zeros(score_x.size, dtype=bool)
    for fit, scored in blocked_folds(fit_ts, score_ts, folds, horizon_ms):
        if not fit.any() or not scored.any():
            continue
        res = fit_logistic(fit_x[fit], fit_y[fit], l2=l2, slope_l2=slope_l2)
        p[scored] = 1.0 / (1.0 + np.exp(-(res.a + res.b * score_x[scored])))
        done |= scored
    return p, done
