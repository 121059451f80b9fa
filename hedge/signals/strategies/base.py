"""The strategy plugin interface: features in, a signed score out.

Owns: the ``Strategy`` protocol and the parameters every strategy shares (entry threshold and
cooldown). A strategy turns one symbol's live features into a score in [-1, 1] (positive = buy
view, magnitude = strength); the screener decides whether and how much to trade.

Must never: size, publish, or keep anything but its own per-symbol state; it is called on every
book tick, so ``score`` must be cheap and allocation-free where possible.
"""

from __future__ import annotations

from typing import Annotated, Protocol

import msgspec

from hedge.signals.features import SymbolFeatures

Unit = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
NonNeg = Annotated[float, msgspec.Meta(ge=0.0)]
Positive = Annotated[float, msgspec.Meta(gt=0.0)]


class StrategyParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Shared by every strategy: act only when ``|score| >= entry_threshold``, at most once per cooldown."""

    entry_threshold: Unit = 0.5
    cooldown_s: NonNeg = 5.0


class Strategy(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def params(self) -> StrategyParams: ...

    def score(self, f: SymbolFeatures) -> float:
        """The strategy's view of ``f.symbol`` after the latest tick, in [-1, 1] (0 = none)."""
        ...


def clip_unit(x: float) -> float:
    return 1.0 if x > 1.0 else -1.0 if x < -1.0 else x
