"""Conviction sizing: how much unlevered notional one intent asks for.

Owns: the sizing formula::

    conviction = max_conviction * min(1, |score|) * regime_multipliers[regime]
                 (* high_vol_tactical_multiplier for a TACTICAL symbol in the high regime)
    notional   = NAV * per_trade_nav_pct * tier_multipliers[tier] * conviction * budget
                 (budget: the feedback allocator's multiplier for the stream, 1.0 when it is off)
    capped at  min(max_notional_usd, NAV * per_trade_nav_pct * tier_multiplier * max_conviction)

Must never: size above its caps, or stand in for the risk limits (``risk.check_order`` still
applies the per-trade, per-symbol, tier and exposure limits to whatever is asked).
"""

from __future__ import annotations

import math

from hedge.config import SizingParams
from hedge.events import Tier, VolRegime

_HIGH, _TACTICAL = VolRegime.HIGH, Tier.TACTICAL  # read once, not per intent


class Sizer:
    __slots__ = ("_max_conv", "_max_usd", "_pct", "_regime", "_tactical_high", "_tier", "min_notional")

    def __init__(self, params: SizingParams, per_trade_nav_pct: float) -> None:
        self._pct = per_trade_nav_pct
        self._max_conv = params.max_conviction
        self._max_usd = params.max_notional_usd
        self.min_notional = params.min_notional_usd
        self._tactical_high = params.high_vol_tactical_multiplier
        self._tier = {t: params.tier_multipliers.get(t, 0.0) for t in Tier}
        self._regime = {r: params.regime_multipliers.get(r, 1.0) for r in VolRegime}

    def conviction(self, score: float, regime: VolRegime, tier: Tier) -> float:
        s = score if score >= 0.0 else -score
        if not s > 0.0:  # zero or NaN: no conviction
            return 0.0
        c = self._max_conv * (s if s < 1.0 else 1.0) * self._regime[regime]
        if regime is _HIGH and tier is _TACTICAL:
            c *= self._tactical_high
        return c if c < self._max_conv else self._max_conv

    def notional(self, nav: float, score: float, regime: VolRegime, tier: Tier, budget: float = 1.0) -> float:
        """Unlevered USDT notional for a signal of ``score`` times the stream's risk ``budget`` (the feedback
        allocator's; the caps still rule); 0 when NAV is not a positive number."""
        if not 0.0 < nav < math.inf:  # also NaN
            return 0.0
        base = nav * self._pct * self._tier[tier]
        n = base * self.conviction(score, regime, tier) * budget
        cap = min(self._max_usd, base * self._max_conv)
        return n if n < cap else cap
