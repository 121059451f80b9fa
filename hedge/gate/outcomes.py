"""The gate's record of the outcomes runners report: expectancy and the SPRT over won and lost round trips.

Owns: the win/loss count, the realised PnL sum and the sequential probability ratio test's
log-likelihood ratio (``strategy.scores``: H0 win rate ``sprt_p0``, H1 ``sprt_p1``), reported on
``/health`` and ``/metrics``.

Must never: decide an order (``check_order`` does; the runner reads these to switch itself off).
"""

from __future__ import annotations

import math

from hedge.config import Config


class Outcomes:
    def __init__(self, cfg: Config) -> None:
        sc = cfg.strategy.scores
        self._win = math.log(sc.sprt_p1 / sc.sprt_p0)
        self._loss = math.log((1.0 - sc.sprt_p1) / (1.0 - sc.sprt_p0))
        self.wins = 0
        self.losses = 0
        self.pnl = 0.0
        self.llr = 0.0

    def record(self, outcome: str, realized_pnl: float) -> None:
        """One closed round trip (``win``/``loss``; anything else is not an outcome yet)."""
        if outcome == "win":
            self.wins += 1
            self.llr += self._win
        elif outcome == "loss":
            self.losses += 1
            self.llr += self._loss
        else:
            return
        self.pnl += realized_pnl

    @property
    def expectancy(self) -> float:
        """Mean realised PnL per closed round trip (0.0 with none)."""
        n = self.wins + self.losses
        return self.pnl / n if n else 0.0
