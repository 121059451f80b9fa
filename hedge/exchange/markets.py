"""The markets the matching engine matches against: one book and its prices per symbol.

Owns: ``SymbolMarket`` (a symbol's book, the liquidity client orders took from each level since
the market last updated it, the mark, the last trade price, the funding rate) and
``MarketState``, the matching engine's base: the markets by symbol, the resting client orders and
untriggered stops per symbol, and the prices derived from a market — the mark (the mark given, else the mid, else the
last trade) and the working price of a conditional order (the mark, or the last trade with the
mid before any).

Must never: match, fill or judge an order (the engine's layers above do), or do I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from hedge.exchange.book import Book, BookView, mid_price
from hedge.exchange.orders import Order, WorkingType
from hedge.exchange.symbols import SymbolSpec

DEFAULT_FUNDING_RATE = 0.0001


class SymbolMarket:
    __slots__ = ("book", "funding_rate", "last_price", "mark", "taken_asks", "taken_bids")

    def __init__(self) -> None:
        self.book: BookView = Book()
        self.taken_bids: dict[float, float] = {}
        self.taken_asks: dict[float, float] = {}
        self.mark = 0.0
        self.last_price = 0.0
        self.funding_rate = DEFAULT_FUNDING_RATE

    def level_qty(self, order: Order) -> float:
        """The market's quantity at ``order``'s price on its side (its queue when it joins)."""
        return self.book.bid_qty(order.price) if order.side == "BUY" else self.book.ask_qty(order.price)


class MarketState:
    """Markets by symbol and their prices (the base of ``MatchingEngine``)."""

    def __init__(self, specs: dict[str, SymbolSpec], clock: Callable[[], int]) -> None:
        self.specs = specs
        self.clock = clock
        self._markets: dict[str, SymbolMarket] = {}
        self._resting: dict[str, list[Order]] = {}  # open LIMIT orders in the book, per symbol
        self._stops: dict[str, list[Order]] = {}  # untriggered STOP_MARKET / TAKE_PROFIT_MARKET, per symbol

    def market(self, symbol: str) -> SymbolMarket:
        m = self._markets.get(symbol)
        if m is None:
            m = self._markets[symbol] = SymbolMarket()
            self._resting[symbol] = []
        return m

    def book(self, symbol: str) -> BookView:
        return self.market(symbol).book

    def mark_price(self, symbol: str) -> float:
        m = self.market(symbol)
        if m.mark > 0:
            return m.mark
        mid = mid_price(m.book)
        return mid if mid is not None else m.last_price

    def funding_rate(self, symbol: str) -> float:
        return self.market(symbol).funding_rate

    def working_price(self, symbol: str, working_type: WorkingType) -> float:
        """The price a conditional order is triggered by: the mark, or the last trade (mid before any)."""
        if working_type == "MARK_PRICE":
            return self.mark_price(symbol)
        m = self.market(symbol)
        if m.last_price > 0:
            return m.last_price
        mid = mid_price(m.book)
        return mid if mid is not None else 0.0
