"""Realized volatility as a time-decayed (EWMA) sum of squared log returns, and its regime.

Owns: the volatility estimate of one price series sampled at irregular times, and the mapping
of that estimate onto low / normal / high.

The estimator: on each new price, ``S <- S * 2^(-dt/H) + r^2`` where ``r`` is the log return in
bps since the previous price, ``dt`` the elapsed seconds and ``H`` the half-life. ``S`` is an
exponentially weighted sum of squared returns whose weights integrate to ``H / ln 2`` seconds, so
``vol = sqrt(S * ln 2 / H)`` is the volatility in **bps per sqrt(second)**, independent of how
often the price ticks. Until one half-life of data has been seen, the regime is reported as
``normal`` (``warm`` is False).

Compiled, ``volatility.pxd`` makes ``EwmaVol`` a cdef class with C double state: the same IEEE
operations in the same order as the Python floats (``math`` calls unchanged), so the figures are
bit-identical in both modes.

Must never: look at wall-clock time (event time only, so that replays are deterministic).
"""

from __future__ import annotations

import math

from hedge.events import VolRegime

_LN2 = math.log(2.0)
_INF = math.inf  # a module constant (compiled: a C double, no float boxed for the comparison)


class EwmaVol:
    """Realized volatility of one series, in bps per sqrt(second)."""

    __slots__ = ("_k", "_sum", "first_ms", "halflife_s", "last_ms", "last_px")

    def __init__(self, halflife_s: float) -> None:
        if halflife_s <= 0.0:
            raise ValueError(f"halflife_s must be > 0, got {halflife_s}")
        self.halflife_s = halflife_s
        self._k = _LN2 / halflife_s  # decay rate per second
        self._sum = 0.0
        self.last_px = 0.0
        self.last_ms = 0
        self.first_ms = -1

    def update(self, px: float, ts_ms: int) -> None:
        """Fold in a new price observed at ``ts_ms`` (non-positive or non-finite prices are ignored)."""
        if not 0.0 < px < _INF:  # also NaN: one bad price must not poison the estimate
            return
        if self.first_ms < 0:
            self.first_ms = ts_ms
            self.last_ms = ts_ms
            self.last_px = px
            return
        dt_s = (ts_ms - self.last_ms) * 1e-3
        if dt_s > 0.0:
            self._sum *= math.exp(-self._k * dt_s)
            self.last_ms = ts_ms
        if px != self.last_px:
            r = math.log(px / self.last_px) * 1e4
            self._sum += r * r
            self.last_px = px

    @property
    def vol_bps(self) -> float:
        return math.sqrt(self._sum * self._k)

    @property
    def warm(self) -> bool:
        return self.first_ms >= 0 and (self.last_ms - self.first_ms) * 1e-3 >= self.halflife_s


def classify_regime(vol_bps: float, low_bps: float, high_bps: float) -> VolRegime:
    """``low`` below ``low_bps``, ``high`` above ``high_bps``, else ``normal``."""
    if vol_bps < low_bps:
        return VolRegime.LOW
    if vol_bps > high_bps:
        return VolRegime.HIGH
    return VolRegime.NORMAL
