"""``MarketView`` keeps each symbol's latest tick and builds its ``BookRisk`` when asked: for any
sequence of ticks and book statuses it answers what a view that built the ``BookRisk`` on every
tick (and marked it not valid on a status other than VALID) would hold."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from hedge.events import BookState, BookStatus, BookUpdate
from hedge.risk.context import BookRisk
from hedge.risk.market_view import MarketView

SYMBOLS = ("BTCUSDT", "ETHUSDT")

ticks = st.builds(
    BookUpdate, symbol=st.sampled_from(SYMBOLS), valid=st.booleans(),
    bid_px=st.floats(min_value=1.0, max_value=1e5), ask_px=st.floats(min_value=1.0, max_value=1e5),
    spread_bps=st.floats(min_value=0.0, max_value=100.0), ts_ms=st.integers(min_value=0, max_value=2**41),
    recv_ns=st.integers(min_value=0, max_value=2**62),
)
statuses = st.builds(BookStatus, symbol=st.sampled_from(SYMBOLS), state=st.sampled_from(BookState))


def eager(events: list[BookUpdate | BookStatus]) -> dict[str, BookRisk]:
    """The reference: a ``BookRisk`` built on every tick, replaced by a not-valid copy on a bad status."""
    books: dict[str, BookRisk] = {}
    for ev in events:
        if isinstance(ev, BookUpdate):
            lag = (ev.recv_ns / 1e6 - ev.ts_ms) if ev.ts_ms > 0 and ev.recv_ns > 0 else 0.0
            books[ev.symbol] = BookRisk(valid=ev.valid, bid=ev.bid_px, ask=ev.ask_px, spread_bps=ev.spread_bps,
                                        lag_ms=lag)
        else:
            book = books.get(ev.symbol)
            if ev.state is not BookState.VALID and book is not None and book.valid:
                books[ev.symbol] = msgspec.structs.replace(book, valid=False)
    return books


@given(st.lists(st.one_of(ticks, statuses), max_size=30))
def test_the_book_built_when_asked_is_the_one_built_on_every_tick(events: list[BookUpdate | BookStatus]) -> None:
    view = MarketView("user")
    for ev in events:
        if isinstance(ev, BookUpdate):
            view.on_book(ev)
        else:
            view.on_book_status(ev)
    want = eager(events)
    for symbol in SYMBOLS:
        assert view.book(symbol) == want.get(symbol)
    assert view.books == want
