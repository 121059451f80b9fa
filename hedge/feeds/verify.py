"""Book verification against the exchange's own top of book (the first truth the feeds must pass).

Owns: the comparison of every valid ``BookUpdate`` with every ``BookTicker`` that carries the same
update id (Binance's bookTicker ``u`` shares the depth stream's id space): best bid/ask price and
quantity must be equal. The two may arrive in either order, so each side waits for the other in
a bounded map.

Must never: change a book, or publish anything (it only listens).
"""

from __future__ import annotations

from collections import OrderedDict

import msgspec

from hedge.bus import Bus
from hedge.events import BookTicker, BookUpdate

_Top = tuple[float, float, float, float]


class VerifyStats(msgspec.Struct, kw_only=True):
    book_updates: int = 0
    invalid_updates: int = 0
    bookticker_checks: int = 0
    bookticker_mismatches: int = 0
    first_mismatches: list[str] = []


class BookVerifier:
    """Subscribe to BookUpdate and BookTicker on ``bus`` and compare tops with equal update ids."""

    def __init__(self, bus: Bus, *, window: int = 4096, keep_mismatches: int = 10) -> None:
        self.stats = VerifyStats()
        self._books: dict[str, OrderedDict[int, _Top]] = {}
        self._tickers: dict[str, OrderedDict[int, _Top]] = {}
        self._window = window
        self._keep = keep_mismatches
        bus.subscribe(BookUpdate, self.on_update)
        bus.subscribe(BookTicker, self.on_ticker)

    def _remember(self, where: dict[str, OrderedDict[int, _Top]], symbol: str, uid: int, top: _Top) -> None:
        m = where.get(symbol)
        if m is None:
            m = where[symbol] = OrderedDict()
        m[uid] = top
        if len(m) > self._window:
            m.popitem(last=False)

    def _compare(self, symbol: str, uid: int, book: _Top, ticker: _Top) -> None:
        st = self.stats
        st.bookticker_checks += 1
        if book != ticker:
            st.bookticker_mismatches += 1
            if len(st.first_mismatches) < self._keep:
                st.first_mismatches.append(f"{symbol} u={uid}: book {book} != bookTicker {ticker}")

    def on_update(self, ev: BookUpdate) -> None:
        st = self.stats
        st.book_updates += 1
        if not ev.valid:
            st.invalid_updates += 1
            return
        top = (ev.bid_px, ev.bid_qty, ev.ask_px, ev.ask_qty)
        waiting = self._tickers.get(ev.symbol)
        if waiting is not None:
            t = waiting.pop(ev.update_id, None)
            if t is not None:
                self._compare(ev.symbol, ev.update_id, top, t)
        self._remember(self._books, ev.symbol, ev.update_id, top)

    def on_ticker(self, ev: BookTicker) -> None:
        top = (ev.bid_px, ev.bid_qty, ev.ask_px, ev.ask_qty)
        seen = self._books.get(ev.symbol)
        b = seen.get(ev.update_id) if seen is not None else None
        if b is not None:
            self._compare(ev.symbol, ev.update_id, b, top)
        else:
            self._remember(self._tickers, ev.symbol, ev.update_id, top)
