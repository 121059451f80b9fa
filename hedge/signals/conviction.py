"""Conviction from the factors and the risk state: a size multiplier in [0, 1] for an entry intent.

Owns: the multiplier (``strategy.conviction``, on with it or ``runtime.features.intel``; docs/intel.md)::

    conviction = (agreement_floor + (1 - agreement_floor) * agreement) * risk_multiplier
    risk_multiplier = ramp(dd_used) * (reducing_multiplier if REDUCING, 0 if HALTED, else 1)
    dd_used = max(drawdown / portfolio_dd_limit, daily_drawdown / daily_dd_limit)
    ramp(u) = 1 for u <= drawdown_start, 1 - (u - start) / (1 - start) up to u = 1, then 0

``agreement`` is ``hedge.signals.factors.agreement``. The risk state arrives as ``RiskSnapshot``
events (the signals stage never imports risk).

Must never: raise the size (the result is in [0, 1]), veto an order (risk does), or read a clock.
"""

from __future__ import annotations

from collections.abc import Sequence

from hedge.config.intel import ConvictionParams
from hedge.events import RiskSnapshot, TradingState
from hedge.signals.factors import agreement
from hedge.signals.features import SymbolFeatures


def risk_multiplier(p: ConvictionParams, dd_used: float, state: TradingState) -> float:
    """The risk state's share in [0, 1]: non-increasing in ``dd_used`` (the drawdown limit's used share)."""
    if state is TradingState.HALTED or not dd_used < 1.0:  # also NaN
        return 0.0
    start = p.drawdown_start
    ramp = 1.0 if dd_used <= start else (1.0 - dd_used) / (1.0 - start)
    if state is TradingState.REDUCING:
        ramp *= p.reducing_multiplier
    return ramp


def conviction(p: ConvictionParams, agreement_share: float, dd_used: float, state: TradingState) -> float:
    a = min(1.0, max(0.0, agreement_share))
    return (p.agreement_floor + (1.0 - p.agreement_floor) * a) * risk_multiplier(p, dd_used, state)


class Conviction:
    """The screener's multiplier: the live risk state (from ``RiskSnapshot``) and the tick's factors."""

    def __init__(self, params: ConvictionParams, portfolio_dd_limit: float, daily_dd_limit: float,
                 scores: Sequence[float]) -> None:
        self.p = params
        self._limits = (portfolio_dd_limit, daily_dd_limit)
        self._scores = scores  # the signals stage's per-tick list of the strategies' scores (read, never written)
        self.dd_used = 0.0
        self.state = TradingState.ACTIVE

    def on_risk(self, r: RiskSnapshot) -> None:
        port, daily = self._limits
        self.dd_used = max(r.drawdown / port if port > 0.0 else 0.0, r.daily_drawdown / daily if daily > 0.0 else 0.0)
        self.state = r.state

    def multiplier(self, f: SymbolFeatures, score: float) -> float:
        side = 1.0 if score > 0.0 else -1.0
        return conviction(self.p, agreement(f, self._scores, side), self.dd_used, self.state)
