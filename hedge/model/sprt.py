"""Wald's sequential probability ratio test on a stream of won/lost trades.

Owns: the log-likelihood ratio of "the win rate is ``p1`` (an edge)" against "it is ``p0`` (no
edge)" and its decision. Each win adds ``ln(p1/p0)``, each loss ``ln((1-p1)/(1-p0))``. With
error rates ``alpha`` (switching off a good stream) and ``beta`` (keeping a dead one), the
stream is **switched off** when ``llr <= ln(beta / (1 - alpha))`` and the edge is **confirmed**
when ``llr >= ln((1 - beta) / alpha)``; between the two the test goes on. A confirmed stream
restarts from 0 so that an edge that later fades can still be caught; a switched-off stream
stays off until ``reset()`` (an operator decision, not an automatic one).

Must never: turn a stream back on by itself.
"""

from __future__ import annotations

import enum
import math


class SprtDecision(enum.StrEnum):
    CONTINUE = "continue"
    EDGE = "edge"  # H1 accepted: the edge is there
    NO_EDGE = "no_edge"  # H0 accepted: switch off


class Sprt:
    __slots__ = ("_lose", "_win", "enabled", "llr", "lower", "trials", "upper")

    def __init__(self, p0: float, p1: float, alpha: float, beta: float) -> None:
        if not 0.0 < p0 < p1 < 1.0:
            raise ValueError(f"need 0 < p0 < p1 < 1, got p0={p0} p1={p1}")
        if not (0.0 < alpha < 1.0 and 0.0 < beta < 1.0):
            raise ValueError(f"alpha and beta must be in (0, 1), got {alpha}, {beta}")
        self._win = math.log(p1 / p0)
        self._lose = math.log((1.0 - p1) / (1.0 - p0))
        self.upper = math.log((1.0 - beta) / alpha)
        self.lower = math.log(beta / (1.0 - alpha))
        self.llr = 0.0
        self.trials = 0
        self.enabled = True

    def update(self, won: bool) -> SprtDecision:
        if not self.enabled:
            return SprtDecision.NO_EDGE
        self.trials += 1
        self.llr += self._win if won else self._lose
        if self.llr <= self.lower:
            self.enabled = False
            return SprtDecision.NO_EDGE
        if self.llr >= self.upper:
            self.llr = 0.0
            return SprtDecision.EDGE
        return SprtDecision.CONTINUE

    def reset(self) -> None:
        self.llr = 0.0
        self.trials = 0
        self.enabled = True
