"""The live pipeline's features, read by the shadow's signals instead of deriving them a second time.

Owns: ``SharedFeatures`` — a ``FeatureEngine`` whose states ARE the live engine's (the same dict,
read only): ``on_book`` returns the live state of the tick's symbol (the live engine has already
updated it: the shadow handles a tick after the live pipeline), ``on_trade`` and ``on_mark`` change
nothing (the live engine took them). ``shareable`` says when the shadow may use it: the candidate's
feature parameters (``strategy.signals``, but ``publish_every_ms``: a view's cadence) equal the live
ones and every candidate symbol is a live one; the features are then exactly those the candidate's
own engine would derive, so its decisions are unchanged.

Must never: write a feature state (the live pipeline's), or be used when ``shareable`` is False.
"""

from __future__ import annotations

import msgspec

from hedge.config import Config
from hedge.events import BookUpdate, MarkPrice, Trade
from hedge.signals.features import FeatureEngine, SymbolFeatures


def shareable(live: Config, candidate: Config) -> bool:
    """The candidate's features are the live pipeline's (same parameters but the views' publishing cadence,
    its symbols among the live ones)."""
    lp, cp = live.strategy.signals, candidate.strategy.signals
    return (msgspec.structs.replace(cp, publish_every_ms=lp.publish_every_ms) == lp
            and set(candidate.strategy.universe) <= set(live.strategy.universe))


class SharedFeatures(FeatureEngine):
    """The live ``FeatureEngine``'s states, read only (see the module docstring)."""

    def __init__(self, live: FeatureEngine) -> None:
        super().__init__(live.params)
        self.states = live.states

    def state(self, symbol: str) -> SymbolFeatures:
        st = self.states.get(symbol)
        return st if st is not None else SymbolFeatures(symbol, self.params)  # not added: the dict is live's

    def on_book(self, u: BookUpdate) -> SymbolFeatures:
        return self.states.get(u.symbol) or self.state(u.symbol)

    def on_trade(self, t: Trade) -> SymbolFeatures:
        return self.state(t.symbol)

    def on_mark(self, m: MarkPrice) -> SymbolFeatures:
        return self.state(m.symbol)
