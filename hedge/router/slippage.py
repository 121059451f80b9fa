"""Slippage model: what a taker order is expected to cost, and the cap on its limit price.

Owns: the expected cost in bps of taking ``qty`` now (half the spread plus the symbol's liquidity
bucket's ``slippage_bps``, scaled up when ``qty`` exceeds the bucket's share of the far touch),
and the taker fallback's cap: ``min(router.slippage_budget_bps, expected + bucket slippage)``
away from the *arrival* mid (the mid when the intent was approved), so waiting for a maker fill
never widens what the fallback may pay.

Must never: do risk math or size an order; it prices what was already approved.
"""

from __future__ import annotations

from hedge.config import LiquidityBucket, SymbolsConfig
from hedge.events import BookUpdate, Side

_DEFAULT_BUCKET = LiquidityBucket()
_BUY = Side.BUY  # a global read, not an Enum class attribute lookup (~70 ns): these run in every decision


class SlippageModel:
    def __init__(self, symbols: SymbolsConfig, budget_bps: float) -> None:
        self.budget_bps = budget_bps
        self._buckets: dict[str, LiquidityBucket] = {
            sym: symbols.liquidity_buckets.get(info.liquidity, _DEFAULT_BUCKET)
            for sym, info in symbols.symbols.items()
        }
        self._fallback = symbols.liquidity_buckets.get("normal", _DEFAULT_BUCKET)

    def bucket(self, symbol: str) -> LiquidityBucket:
        return self._buckets.get(symbol, self._fallback)

    def expected_bps(self, symbol: str, side: Side, qty: float, book: BookUpdate) -> float:
        b = self._buckets.get(symbol, self._fallback)  # self.bucket(symbol)
        far_qty = book.ask_qty if side is _BUY else book.bid_qty
        participation = qty / far_qty if far_qty > 0.0 else float("inf")
        scale = max(1.0, participation / b.max_book_participation) if b.max_book_participation > 0 else 1.0
        return book.spread_bps / 2.0 + b.slippage_bps * min(scale, 1e6)

    def cap_bps(self, symbol: str, side: Side, qty: float, book: BookUpdate) -> float:
        return min(self.budget_bps, self.expected_bps(symbol, side, qty, book) + self.bucket(symbol).slippage_bps)

    @staticmethod
    def cap_price(arrival_mid: float, side: Side, cap_bps: float) -> float:
        """The worst acceptable price: above the arrival mid for a buy, below it for a sell."""
        return arrival_mid * (1.0 + (cap_bps if side is _BUY else -cap_bps) / 1e4)  # side.sign * cap_bps, exactly
