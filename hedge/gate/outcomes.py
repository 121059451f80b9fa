"""The gate's evidence from the outcomes runners report: per strategy x symbol, the SPRT and the expectancy's CI.

Owns: one record per (symbol, strategy) of the closed round trips reported to ``/posttrade/log``
(``outcome`` win/loss with the trip's ``realized_pnl``):
- Wald's SPRT (``hedge.model.sprt``, ``strategy.scores.sprt_p0/p1/alpha/beta``) on won/lost trips;
  once it accepts "no edge" it stays off until ``reset`` (an operator's ``POST /posttrade/reset``);
- the mean realised PnL over the last ``strategy.scores.window_trades`` trips and the upper end of
  its 95% confidence interval, ``mean + 1.96 * s / sqrt(n)`` (``s`` the sample standard deviation),
  judged from ``strategy.scores.min_trades`` trips on (at least 2; ``inf`` before): below 0, the
  strategy loses money on that symbol with 95% confidence. It recovers as newer trips push the
  losing ones out of the window, or on ``reset``.
``edge`` turns a record into the ``EdgeRisk`` that ``check_order`` gates on (``sprt_no_edge``,
``negative_expectancy``). Deterministic: a pure function of the reported sequence.

Must never: decide an order (``check_order`` does), or turn a switched-off SPRT back on by itself.
"""

from __future__ import annotations

import math
from collections import deque

from hedge.config import Config, ScoreParams
from hedge.model.sprt import Sprt, SprtDecision
from hedge.risk.context import EdgeRisk

Z95 = 1.96


class Evidence:
    """One strategy x symbol: its SPRT, the rolling window of realised PnL per trip, wins and losses."""

    __slots__ = ("_min", "_pnl", "losses", "sprt", "wins")

    def __init__(self, p: ScoreParams) -> None:
        self.sprt = Sprt(p.sprt_p0, p.sprt_p1, p.sprt_alpha, p.sprt_beta)
        self._pnl: deque[float] = deque(maxlen=p.window_trades)
        self._min = max(2, p.min_trades)
        self.wins = 0
        self.losses = 0

    def add(self, won: bool, pnl: float) -> SprtDecision:
        self._pnl.append(pnl)
        if won:
            self.wins += 1
        else:
            self.losses += 1
        return self.sprt.update(won)

    @property
    def trips(self) -> int:
        return len(self._pnl)

    @property
    def expectancy(self) -> float:
        """Mean realised PnL per trip in the window (0.0 with none)."""
        n = len(self._pnl)
        return math.fsum(self._pnl) / n if n else 0.0

    @property
    def expectancy_hi(self) -> float:
        """Upper end of the expectancy's 95% CI (``inf`` below the minimum number of trips)."""
        n = len(self._pnl)
        if n < self._min:
            return math.inf
        mean = math.fsum(self._pnl) / n
        var = math.fsum((x - mean) ** 2 for x in self._pnl) / (n - 1)
        return mean + Z95 * math.sqrt(var / n)

    def risk(self) -> EdgeRisk:
        s = self.sprt
        return EdgeRisk(sprt_off=not s.enabled, sprt_llr=s.llr, sprt_lower=s.lower, expectancy_hi=self.expectancy_hi)


class Outcomes:
    """Every strategy x symbol's ``Evidence``, created at its first reported outcome."""

    def __init__(self, cfg: Config) -> None:
        self._params = cfg.strategy.scores
        self.records: dict[tuple[str, str], Evidence] = {}

    def record(self, symbol: str, strategy: str, outcome: str, realized_pnl: float) -> Evidence | None:
        """One closed round trip (``win``/``loss``; anything else is not an outcome yet: ``None``)."""
        if outcome not in ("win", "loss"):
            return None
        ev = self.records.get((symbol, strategy))
        if ev is None:
            ev = self.records[(symbol, strategy)] = Evidence(self._params)
        ev.add(outcome == "win", realized_pnl)
        return ev

    def edge(self, symbol: str, strategy: str) -> EdgeRisk | None:
        """What ``check_order`` sees for this strategy x symbol (``None``: nothing reported yet)."""
        ev = self.records.get((symbol, strategy))
        return ev.risk() if ev is not None else None

    def reset(self, symbol: str, strategy: str) -> bool:
        """An operator's fresh start: forget the record (False when there was none)."""
        return self.records.pop((symbol, strategy), None) is not None
