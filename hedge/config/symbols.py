"""The schema of symbols.yaml: each symbol's tier, correlation group and liquidity bucket.

Owns: the frozen Structs of symbols.yaml with the spec's defaults (BTCUSDT, three buckets).

Must never: read a file or the environment, or check references across files (``hedge.config.checks``).
"""

from __future__ import annotations

import msgspec

from hedge.config.types import Fraction, NonNeg, Section, SymbolName
from hedge.events import Tier


class SymbolInfo(Section, frozen=True):
    tier: Tier = Tier.TACTICAL
    group: str = ""
    liquidity: str = "normal"


class CorrelationGroup(Section, frozen=True):
    cap: Fraction = 0.40


class LiquidityBucket(Section, frozen=True):
    slippage_bps: NonNeg = 2.0
    max_book_participation: Fraction = 0.10


class SymbolsConfig(Section, frozen=True):
    symbols: dict[SymbolName, SymbolInfo] = msgspec.field(
        default_factory=lambda: {"BTCUSDT": SymbolInfo(tier=Tier.CORE, liquidity="deep")}
    )
    correlation_groups: dict[str, CorrelationGroup] = {}
    liquidity_buckets: dict[str, LiquidityBucket] = msgspec.field(
        default_factory=lambda: {
            "deep": LiquidityBucket(slippage_bps=1.0),
            "normal": LiquidityBucket(),
            "thin": LiquidityBucket(slippage_bps=5.0, max_book_participation=0.05),
        }
    )
