"""The adaptive overlay of the hybrid score's weights (``factor_diagnostics.auto_weighting``).

Owns: two multipliers, on the signal weight (driven by the IR of the strategies' signals) and on the
expectancy weight (driven by the realized mean return), each moved ``smoothing`` of the way toward
its bounded target at every update, the liquidity weight unchanged; and the weights' history (the
newest ``HISTORY`` points, for factor_diagnostics.json).

Updates come from the factor diagnostics at each completed factor block, stamped with the tick's
event time: the same recording gives the same weights.

Must never: read a clock, leave
``[min_multiplier, max_multiplier]``, or change a weight while it is off (it is then not built).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

from hedge.config.intel import AutoWeighting

HISTORY = 200


class AdaptiveWeights:
    def __init__(
        self,
        params: AutoWeighting,
        base: tuple[float, float, float],
        apply: Callable[[tuple[float, float, float]], None] = lambda w: None,
    ) -> None:
        self.p = params
        self._apply = apply  # receives the new weights at every update (the score board's ``set_weights``)
        self.base = base  # (signal, expectancy, liquidity) from scores.weight_*
        self.signal_mult = 1.0
        self.expectancy_mult = 1.0
        self.updates = 0
        self.history: deque[tuple[int, tuple[float, float, float]]] = deque(maxlen=HISTORY)

    def _clip(self, x: float) -> float:
        lo, hi = self.p.min_multiplier, self.p.max_multiplier
        return lo if x < lo else hi if x > hi else x

    def target(self, ir: float, pnl_bps: float) -> tuple[float, float]:
        p = self.p
        return (self._clip(1.0 + p.ir_gain * ir), self._clip(1.0 + p.pnl_gain * math.tanh(pnl_bps / p.pnl_scale_bps)))

    def update(self, ts_ms: int, ir: float, pnl_bps: float) -> tuple[float, float, float]:
        """Move toward the targets for the signals' ``ir`` and the realized mean ``pnl_bps``; the new weights."""
        ts, te = self.target(ir, pnl_bps)
        a = self.p.smoothing
        self.signal_mult = self._clip(self.signal_mult + a * (ts - self.signal_mult))
        self.expectancy_mult = self._clip(self.expectancy_mult + a * (te - self.expectancy_mult))
        self.updates += 1
        w = self.weights
        self.history.append((ts_ms, w))
        self._apply(w)
        return w

    @property
    def weights(self) -> tuple[float, float, float]:
        ws, we, wl = self.base
        return ws * self.signal_mult, we * self.expectancy_mult, wl
