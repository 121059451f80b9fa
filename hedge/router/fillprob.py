"""The fill-probability model: how likely a post-only order at the touch fills within its maker timeout.

Owns: ``FillFeatures`` (what is known when a maker slice starts: quantity ahead at the touch, our
own quantity, the recent rate of trades hitting our side, volatility, spread, the horizon),
``FillParams`` (the model's two coefficients and its clip), ``fill_probability`` and ``fit``
(maximum likelihood of the coefficients over observed maker attempts, by deterministic
coordinate grid search).

The model is a constant hazard over the horizon ``T``:
    depletion  = flow_qty_s * T / (queue_ahead + own_qty)   (times the queue in front of and
                 including us is traded through by takers on our side)
    vol_ticks  = vol_bps_s * sqrt(T) / tick_bps             (how far the price wanders, in ticks)
    hazard     = (k_flow * depletion + k_vol * vol_ticks) / max(1, spread_ticks)
    P(fill)    = clip(1 - exp(-hazard), p_min, p_max)
A wide spread divides the hazard: others improve in front of a resting order before it is reached.

Must never: read a clock, a file or the bus; it is pure arithmetic on what it is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec


class FillFeatures(msgspec.Struct, frozen=True, kw_only=True):
    queue_ahead: float  # quantity already resting at our price (we join behind it)
    own_qty: float
    flow_qty_s: float  # rate of taker quantity hitting our side of the book (qty/s, recent)
    vol_bps_s: float  # mid volatility, bps per sqrt(second) (recent)
    tick_bps: float  # one tick in bps of the mid
    spread_ticks: float
    horizon_s: float  # the maker timeout

    def depletion(self) -> float:
        size = self.queue_ahead + self.own_qty
        return self.flow_qty_s * self.horizon_s / size if size > 0 else 0.0

    def vol_ticks(self) -> float:
        return self.vol_bps_s * math.sqrt(max(self.horizon_s, 0.0)) / self.tick_bps if self.tick_bps > 0 else 0.0


class FillParams(msgspec.Struct, frozen=True, kw_only=True):
    k_flow: float = 1.0
    k_vol: float = 0.05
    p_min: float = 0.01
    p_max: float = 0.99


class FillSample(msgspec.Struct, frozen=True, kw_only=True):
    """One maker attempt: what was known at its start and whether it filled as maker."""

    features: FillFeatures
    filled: bool


def fill_probability(x: FillFeatures, p: FillParams) -> float:
    hazard = (p.k_flow * x.depletion() + p.k_vol * x.vol_ticks()) / max(1.0, x.spread_ticks)
    return min(p.p_max, max(p.p_min, 1.0 - math.exp(-max(0.0, hazard))))


def log_likelihood(samples: Sequence[FillSample], p: FillParams) -> float:
    ll = 0.0
    for s in samples:
        q = fill_probability(s.features, p)
        ll += math.log(q if s.filled else 1.0 - q)
    return ll


_GRID = tuple(10 ** (e / 8) for e in range(-24, 9))  # 1e-3 .. 10, geometric (33 points)


def fit(samples: Sequence[FillSample], prior: FillParams, *, rounds: int = 2) -> FillParams:
    """The coefficients of highest likelihood over ``samples`` (each searched on a fixed grid, with
    0, in turn, starting from ``prior``); ``prior`` itself when there are no samples or every
    sample has the same outcome (the likelihood then has no interior maximum)."""
    if not samples or len({s.filled for s in samples}) < 2:
        return prior
    best, best_ll = prior, log_likelihood(samples, prior)
    for _ in range(rounds):
        for field in ("k_flow", "k_vol"):
            for v in (0.0, *_GRID):
                cand = msgspec.structs.replace(best, **{field: v})
                ll = log_likelihood(samples, cand)
                if ll > best_ll + 1e-12:
                    best, best_ll = cand, ll
    return best
