"""The exchange's own book gives exactly what the engine's book gives (the replay shares the
engine's book with the matching engine; the local exchange matches against its own)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.exchange.book import Book, from_best, mid_price
from hedge.feeds.book import OrderBook

prices = st.integers(min_value=1, max_value=400).map(lambda t: round(t * 0.1, 1))
qtys = st.sampled_from([0.0, 0.0, 0.001, 0.5, 1.25, 3.0])
levels = st.lists(st.tuples(prices, qtys), max_size=30)


@settings(max_examples=200, deadline=None)
@given(snap=st.tuples(levels, levels), diffs=st.lists(st.tuples(levels, levels), max_size=20))
def test_same_levels_best_and_queues_as_the_engine_book(
    snap: tuple[list[tuple[float, float]], list[tuple[float, float]]],
    diffs: list[tuple[list[tuple[float, float]], list[tuple[float, float]]]],
) -> None:
    ours, theirs = Book(), OrderBook()
    ours.apply_snapshot(*snap)
    theirs.apply_snapshot(*snap)
    for bids, asks in diffs:
        ours.apply(bids, asks)
        theirs.apply(bids, asks)
        assert ours.best_bid() == theirs.best_bid() and ours.best_ask() == theirs.best_ask()
        assert ours.bids(1 << 30) == theirs.bids(1 << 30) and ours.asks(1 << 30) == theirs.asks(1 << 30)
        assert ours.depth() == theirs.depth()
        assert list(from_best(ours, True)) == list(from_best(theirs, True))
        assert mid_price(ours) == mid_price(theirs)
        for px, _ in bids + asks:
            assert ours.bid_qty(px) == theirs.bid_qty(px) and ours.ask_qty(px) == theirs.ask_qty(px)
