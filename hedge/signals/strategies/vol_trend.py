"""The volatility-targeting trend follower: fast/slow EWMA crossover scaled to a target volatility.

Per symbol, two time-decayed EWMAs of the mid (half-lives ``fast_halflife_s`` < ``slow_halflife_s``).
``trend_bps = (fast - slow) / slow * 1e4`` is normalised by the volatility expected over the slow
horizon, ``z = trend_bps / (vol_bps * sqrt(slow_halflife_s))``, and the score is
``clip(z / z_scale) * min(1, target_vol_bps / vol_bps)``: the same trend earns a smaller score
(and so a smaller size) when the market is more volatile than the target. No score until one
slow half-life of data has been seen or while volatility is zero.

Owns: its parameters (``VolTrendParams``, fast half-life below slow) and each symbol's EWMA pair
and warm-up start.

Must never: read the wall clock (event time only).
"""

from __future__ import annotations

import math

from hedge.signals.features import SymbolFeatures
from hedge.signals.strategies.base import NonNeg, Positive, StrategyParams, clip_unit


class VolTrendParams(StrategyParams, frozen=True, kw_only=True):
    fast_halflife_s: Positive = 10.0
    slow_halflife_s: Positive = 60.0
    target_vol_bps: Positive = 0.8  # bps per sqrt(second), the unit of realized_vol_bps
    z_scale: Positive = 2.0
    cooldown_s: NonNeg = 30.0

    def __post_init__(self) -> None:
        if self.fast_halflife_s >= self.slow_halflife_s:
            raise ValueError("fast_halflife_s must be < slow_halflife_s")


class _Trend:
    __slots__ = ("fast", "first_ms", "last_ms", "slow")

    def __init__(self, mid: float, ts_ms: int) -> None:
        self.fast = mid
        self.slow = mid
        self.first_ms = ts_ms
        self.last_ms = ts_ms


class VolTrend:
    name = "vol_trend"

    def __init__(self, params: VolTrendParams) -> None:
        self.params = params
        self._kf = math.log(2.0) / params.fast_halflife_s
        self._ks = math.log(2.0) / params.slow_halflife_s
        self._horizon = math.sqrt(params.slow_halflife_s)
        self._warm_ms = params.slow_halflife_s * 1000.0
        self._state: dict[str, _Trend] = {}

    def score(self, f: SymbolFeatures) -> float:
        if not f.valid:
            return 0.0
        mid, ts = f.mid, f.ts_ms
        tr = self._state.get(f.symbol)
        if tr is None:
            self._state[f.symbol] = _Trend(mid, ts)
            return 0.0
        dt = (ts - tr.last_ms) * 1e-3
        if dt > 0.0:
            af = math.exp(-self._kf * dt)
            as_ = math.exp(-self._ks * dt)
            tr.fast = af * tr.fast + (1.0 - af) * mid
            tr.slow = as_ * tr.slow + (1.0 - as_) * mid
            tr.last_ms = ts
        vol = f.vol_bps
        if ts - tr.first_ms < self._warm_ms or vol <= 0.0 or tr.slow <= 0.0:
            return 0.0
        p = self.params
        z = (tr.fast - tr.slow) / tr.slow * 1e4 / (vol * self._horizon)
        scale = p.target_vol_bps / vol
        return clip_unit(z / p.z_scale) * (scale if scale < 1.0 else 1.0)
