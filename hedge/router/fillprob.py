"""The fill-probability model: how likely a post-only order fills (as maker, fully) within its horizon.

Owns: ``FillFeatures`` (what is known when a maker order starts resting: its distance from the
touch, the quantity ahead of it at its price, its own quantity, the recent rate of taker quantity
hitting its side, volatility, spread, the horizon), ``design`` (the model's feature vector),
``fill_probability`` (the fitted ``FillModel``'s logistic, rescaled to the horizon) and
``shift_intercept`` (the deterministic online update: the intercept of highest likelihood over
observed maker attempts, on a fixed grid).

The model (fitted from recordings by ``hedge calibrate-fills``, see ``fill_labels``/``fill_fit``):
    z   = b0 + b_dist * distance_ticks + b_queue * log1p(queue_ahead + own_qty)
          + b_flow * log1p(flow_qty_s * T0) + b_spread * (spread_ticks - 1) + b_vol * log1p(vol_ticks)
    vol_ticks = vol_bps_s * sqrt(T0) / tick_bps (the mid's movement over T0 in ticks; ``MarketStats``
                samples the mid on a grid so quote flicker is not counted as movement)
    P(T0) = sigmoid(z);  P(T) = 1 - (1 - P(T0)) ** (T / T0)   (a constant hazard beyond the fit's T0)
clipped to [p_min, p_max].

Must never: read a clock, a file or the bus; it is pure arithmetic on what it is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

from hedge.config import FillModel


class FillFeatures(msgspec.Struct, frozen=True, kw_only=True):
    queue_ahead: float  # quantity already resting at our price (we join behind it)
    own_qty: float
    flow_qty_s: float  # rate of taker quantity hitting our side of the book (qty/s, recent)
    vol_bps_s: float  # mid volatility, bps per sqrt(second) (recent, grid-sampled)
    tick_bps: float  # one tick in bps of the mid
    spread_ticks: float
    horizon_s: float  # the maker timeout
    distance_ticks: float = 0.0  # how far behind the touch the order rests (0 = at the touch)


def design(x: FillFeatures, horizon0_s: float) -> tuple[float, float, float, float, float]:
    """The model's features (without the intercept), at the fit's horizon ``horizon0_s``.

    Cost (every auto slice): ``v if v > 0.0 else 0.0`` is ``max(0.0, v)`` exactly (the builtin keeps
    its first argument unless the second is greater: NaN and -0.0 give 0.0 either way) without a call."""
    vol_ticks = x.vol_bps_s * math.sqrt(horizon0_s) / x.tick_bps if x.tick_bps > 0 else 0.0
    queue = x.queue_ahead + x.own_qty
    flow = x.flow_qty_s
    spread = x.spread_ticks - 1.0
    return (x.distance_ticks, math.log1p(queue if queue > 0.0 else 0.0),
            math.log1p((flow if flow > 0.0 else 0.0) * horizon0_s), spread if spread > 0.0 else 0.0,
            math.log1p(vol_ticks))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def fill_probability0(x: FillFeatures, m: FillModel, *, intercept: float | None = None) -> float:
    """P(T0): the fill probability at the fit's horizon (``x.horizon_s`` plays no part in it)."""
    d = design(x, m.horizon_s)
    z = (m.b0 if intercept is None else intercept) + m.b_dist * d[0] + m.b_queue * d[1] + m.b_flow * d[2] \
        + m.b_spread * d[3] + m.b_vol * d[4]
    return _sigmoid(z)


def horizon_exponent(horizon_s: float, m: FillModel) -> float:
    """T / T0: the power of (1 - P(T0)) that gives 1 - P(T) (a caller may compute it once per horizon)."""
    return max(horizon_s, 0.0) / m.horizon_s


def at_exponent(p0: float, e: float, m: FillModel) -> float:
    """P(T) from P(T0) and ``horizon_exponent(T)`` (the constant hazard), clipped to [p_min, p_max]:
    ``min(m.p_max, max(m.p_min, p))`` exactly, as comparisons (three per auto slice: the builtins'
    calls were most of its cost)."""
    p = 1.0 - (1.0 - p0) ** e if p0 < 1.0 else 1.0
    lo = p if p > m.p_min else m.p_min
    return lo if lo < m.p_max else m.p_max


def fill_probability(x: FillFeatures, m: FillModel, *, intercept: float | None = None) -> float:
    return at_exponent(fill_probability0(x, m, intercept=intercept), horizon_exponent(x.horizon_s, m), m)


class FillSample(msgspec.Struct, frozen=True, kw_only=True):
    """One maker attempt: what was known at its start and whether it filled as maker (and, from the
    labeller, the price its path paid against the start mid: side-signed bps, fees excluded)."""

    features: FillFeatures
    filled: bool
    path_bps: float = 0.0


def log_likelihood(samples: Sequence[FillSample], m: FillModel, intercept: float) -> float:
    ll = 0.0
    for s in samples:
        q = fill_probability(s.features, m, intercept=intercept)
        ll += math.log(q if s.filled else 1.0 - q)
    return ll


_SHIFTS = tuple(s / 4 for s in range(-16, 17))  # -4 .. +4 in logit, 0.25 apart


def shift_intercept(samples: Sequence[FillSample], m: FillModel) -> float:
    """The intercept of highest likelihood over ``samples`` among ``m.b0`` + a fixed grid of shifts
    (the fitted slopes stay); ``m.b0`` when there are no samples or every sample has the same outcome."""
    if not samples or len({s.filled for s in samples}) < 2:
        return m.b0
    best, best_ll = m.b0, log_likelihood(samples, m, m.b0)
    for s in _SHIFTS:
        ll = log_likelihood(samples, m, m.b0 + s)
        if ll > best_ll + 1e-12:
            best, best_ll = m.b0 + s, ll
    return best
