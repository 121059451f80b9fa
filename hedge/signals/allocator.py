"""The feedback allocator: a risk-budget multiplier per (symbol, strategy) from realized trips and the SPRT.

Owns: each (symbol, strategy) stream's budget, a multiplier on the notional the sizer proposes
(feature ``features.feedback_allocator``; parameters ``strategy.allocator``, docs/intel.md).

- Evidence arrives when one of the stream's round trips closes: its record's score
  ``s = tanh(expectancy_bps / expectancy_scale_bps) * min(1, trades / window_trades)`` in [-1, 1]
  (``ScoreBoard.symbol_score``) and the SPRT's verdict on that trip. The **target** is
  ``1 + s * (max_budget - 1)`` for ``s >= 0`` and ``1 + s * (1 - min_budget)`` below, times
  ``edge_boost`` on an EDGE verdict, ``min_budget`` on NO_EDGE; bounded to [min_budget, max_budget].
  The budget jumps to the target at the trip's close.
- Without new evidence it decays toward neutral: ``1 + (target - 1) * 2 ** (-(now - set) / half_life)``
  with ``now`` the one ``Clock``'s time (event time in replay, so a replay is deterministic).
- A stream with no closed trip has budget 1.0 (the sizer's size, unchanged).

Must never: raise a size past ``max_budget`` times the sizer's proposal, stand in for risk (the sizer's
caps and ``risk.check_order`` still rule what it scales), or read a time other than the one it is given.
"""

from __future__ import annotations

import math

from hedge.config import AllocatorParams
from hedge.model.sprt import SprtDecision


class _Budget:
    __slots__ = ("set_ms", "target", "verdict")

    def __init__(self, target: float, set_ms: int, verdict: SprtDecision) -> None:
        self.target = target
        self.set_ms = set_ms
        self.verdict = verdict


class FeedbackAllocator:
    """Budgets per (symbol, strategy); ``multiplier`` is read on every intent, ``on_trip`` on every close."""

    def __init__(self, params: AllocatorParams) -> None:
        self.lo = params.min_budget
        self.hi = params.max_budget
        self._half_life_ms = params.half_life_s * 1000.0
        self._edge = params.edge_boost
        self._budgets: dict[tuple[str, str], _Budget] = {}

    def target(self, score: float, verdict: SprtDecision) -> float:
        """The budget that evidence ``score`` (in [-1, 1]) and ``verdict`` call for, within the bounds."""
        if verdict is SprtDecision.NO_EDGE or not math.isfinite(score):
            return self.lo if verdict is SprtDecision.NO_EDGE else 1.0
        s = max(-1.0, min(1.0, score))
        t = 1.0 + s * (self.hi - 1.0) if s >= 0.0 else 1.0 + s * (1.0 - self.lo)
        if verdict is SprtDecision.EDGE:
            t *= self._edge
        return max(self.lo, min(self.hi, t))

    def on_trip(self, symbol: str, strategy: str, score: float, verdict: SprtDecision, now_ms: int) -> float:
        """Fold one closed trip's evidence in; the stream's new budget."""
        t = self.target(score, verdict)
        self._budgets[(symbol, strategy)] = _Budget(t, now_ms, verdict)
        return t

    def _decayed(self, b: _Budget, now_ms: int) -> float:
        age = now_ms - b.set_ms
        if age <= 0:
            return b.target
        return 1.0 + (b.target - 1.0) * math.pow(0.5, age / self._half_life_ms)

    def multiplier(self, symbol: str, strategy: str, now_ms: int) -> float:
        """The stream's budget at ``now_ms``: 1.0 without evidence, else its target decayed toward 1.0."""
        b = self._budgets.get((symbol, strategy))
        return 1.0 if b is None else self._decayed(b, now_ms)
