"""The microstructure scalper: leans with book pressure and taker flow, against absorbed flow.

Score (clipped to [-1, 1]), only while the spread is at most ``max_spread_bps``::

    w_book * book_imbalance            (top-N levels)
  + w_micro * micro_tilt               ((micro - mid) / half-spread, = the top-1 imbalance)
  + w_flow * flow_imbalance            (taker flow over signals.flow_window_s)
  - w_absorption * absorption          (aggressive flow that failed to move the price)

Owns: its parameters (``MicroScalperParams``: the four weights and ``max_spread_bps``) and the score
formula above.

Must never: hold state beyond its parameters (it is a pure function of the features).
"""

from __future__ import annotations

from hedge.signals.features import SymbolFeatures
from hedge.signals.strategies.base import NonNeg, Positive, StrategyParams, clip_unit


class MicroScalperParams(StrategyParams, frozen=True, kw_only=True):
    w_book: NonNeg = 0.4
    w_micro: NonNeg = 0.2
    w_flow: NonNeg = 0.4
    w_absorption: NonNeg = 0.3
    max_spread_bps: Positive = 5.0


class MicroScalper:
    name = "micro_scalper"

    def __init__(self, params: MicroScalperParams) -> None:
        self.params = params
        self._p = params

    def score(self, f: SymbolFeatures) -> float:
        p = self._p
        if not f.valid or f.spread_bps > p.max_spread_bps:
            return 0.0
        half = 0.5 * (f.ask_px - f.bid_px)
        tilt = (f.micro - f.mid) / half if half > 0.0 else 0.0
        return clip_unit(
            p.w_book * f.book_imbalance
            + p.w_micro * tilt
            + p.w_flow * f.flow_imbalance
            - p.w_absorption * f.absorption
        )
