"""Uncertainty of a calibration score: equal-mass ECE, its block-bootstrap interval and its noise floor.

Owns: the statistics ``hedge calibrate`` reports next to the reliability table (numpy only):

- ``ece_equal_mass``: ECE over ``bins`` buckets of (as near as possible) equal count, the forecasts
  sorted by ``p`` (ties kept in input order) and cut into ``bins`` consecutive chunks;
- ``block_bootstrap``: a percentile confidence interval of any statistic of ``(p, y)`` that
  resamples whole blocks of ``block_ms`` event time (labels whose horizons overlap are correlated;
  resampling single samples would understate the spread);
- ``noise_floor``: the mean ECE of a perfectly calibrated forecaster with the same ``p``
  (outcomes drawn ``y ~ Bernoulli(p)``): the ECE that finite samples show with no miscalibration.

Must never: fit anything, or read or write a file. Every random draw comes from a seeded generator
(the same input gives the same figures).
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import numpy as np
import numpy.typing as npt

from hedge.signals.reliability import ece

FloatArray = npt.NDArray[np.float64]
Statistic = Callable[[FloatArray, FloatArray], float]


class Interval(msgspec.Struct, frozen=True, kw_only=True):
    value: float  # the statistic on the whole sample
    lo: float
    hi: float
    blocks: int  # distinct blocks resampled


def ece_equal_mass(p: npt.ArrayLike, y: npt.ArrayLike, bins: int = 10) -> float:
    """ECE with ``bins`` equal-count buckets (fewer when there are fewer forecasts than bins)."""
    pa = np.asarray(p, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if pa.shape != ya.shape or pa.ndim != 1:
        raise ValueError(f"need two equal-length 1-d arrays, got {pa.shape} and {ya.shape}")
    if bins < 1:
        raise ValueError("bins must be >= 1")
    if not pa.size:
        return 0.0
    order = np.argsort(pa, kind="stable")
    chunks = np.array_split(order, min(bins, pa.size))
    return float(sum(abs(pa[c].mean() - ya[c].mean()) * c.size for c in chunks) / pa.size)


def block_bootstrap(
    ts_ms: npt.ArrayLike, p: npt.ArrayLike, y: npt.ArrayLike, stat: Statistic, *,
    block_ms: int, reps: int = 1000, level: float = 0.95, seed: int = 0,
) -> Interval:
    """Percentile interval of ``stat(p, y)``: resample blocks (``ts_ms // block_ms``) with replacement."""
    ts = np.asarray(ts_ms, dtype=np.int64)
    pa = np.asarray(p, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if not ts.shape == pa.shape == ya.shape or block_ms <= 0 or reps < 1 or not 0.0 < level < 1.0:
        raise ValueError("need equal-length ts/p/y, block_ms > 0, reps >= 1 and 0 < level < 1")
    value = stat(pa, ya) if pa.size else 0.0
    if not pa.size:
        return Interval(value=value, lo=value, hi=value, blocks=0)
    _, block = np.unique(ts // block_ms, return_inverse=True)
    members = [np.flatnonzero(block == b) for b in range(int(block.max()) + 1)]
    rng = np.random.default_rng(seed)
    draws = np.empty(reps)
    for r in range(reps):
        idx = np.concatenate([members[b] for b in rng.integers(0, len(members), len(members))])
        draws[r] = stat(pa[idx], ya[idx])
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(draws, [tail, 1.0 - tail])
    return Interval(value=value, lo=float(lo), hi=float(hi), blocks=len(members))


def noise_floor(p: npt.ArrayLike, stat: Statistic = ece, *, reps: int = 200, seed: int = 0) -> float:
    """Mean of ``stat(p, y)`` over outcomes drawn from ``p`` itself (a perfectly calibrated forecaster)."""
    pa = np.asarray(p, dtype=np.float64)
    if not pa.size:
        return 0.0
    rng = np.random.default_rng(seed)
    return float(np.mean([stat(pa, (rng.random(pa.size) < pa).astype(np.float64)) for _ in range(reps)]))
