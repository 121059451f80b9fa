"""OrderBook: levels, deletes, top-N, derived figures; hypothesis: equal to a naive dict book (at every
near-key window size). Every test runs against both books: the one ``hedge.feeds.book`` imports (the
compiled extension when the build has it: book.pyx, C data) and the ``.py`` run as plain Python."""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge import native
from hedge.feeds import book as loaded
from hedge.feeds.book import WINDOW
from tests.kit.compiled import require_compiled

PURE = native.load_pure("hedge.feeds.book")


@pytest.fixture(scope="module", params=["compiled", "pure"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "pure":
        return PURE
    require_compiled("hedge.feeds.book")
    return loaded


def test_the_two_books_differ_only_in_build() -> None:
    assert PURE.OrderBook is not loaded.OrderBook and PURE.WINDOW == WINDOW


def test_snapshot_then_diffs(impl: ModuleType) -> None:
    b = impl.OrderBook()
    assert b.best_bid() is None and b.best_ask() is None and not b.is_crossed()
    b.apply_snapshot([(100.0, 1.0), (99.5, 2.0), (98.0, 0.0)], [(101.0, 3.0), (102.0, 4.0)])
    assert b.depth() == (2, 2)  # a zero level in a snapshot is not a level
    assert b.best_bid() == (100.0, 1.0) and b.best_ask() == (101.0, 3.0)
    b.apply([(100.5, 5.0), (100.0, 0.0), (42.0, 0.0)], [(101.0, 0.5)])  # 42.0: deleting an absent level is normal
    assert b.bids(5) == [(100.5, 5.0), (99.5, 2.0)]
    assert b.asks(1) == [(101.0, 0.5)]
    assert b.asks(0) == []
    assert b.imbalance(1) == pytest.approx((5.0 - 0.5) / 5.5)
    assert b.micro_price() == pytest.approx((100.5 * 0.5 + 101.0 * 5.0) / 5.5)
    b.apply([(101.0, 1.0)], [])
    assert b.is_crossed()
    b.clear()
    assert b.depth() == (0, 0) and b.micro_price() == 0.0 and b.imbalance(5) == 0.0


class NaiveBook:
    def __init__(self) -> None:
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}

    def apply(self, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for px, q in levels:
                if q > 0:
                    side[px] = q
                else:
                    side.pop(px, None)

    def top_bids(self, n: int) -> list[tuple[float, float]]:
        return sorted(self.bids.items(), reverse=True)[:n]

    def top_asks(self, n: int) -> list[tuple[float, float]]:
        return sorted(self.asks.items())[:n]


prices = st.integers(min_value=0, max_value=400).map(lambda i: 60000.0 + i / 10)
qtys = st.sampled_from([0.0, 0.0, 0.001, 0.5, 1.25, 37.0])
levels = st.lists(st.tuples(prices, qtys), max_size=12)


@settings(max_examples=200, deadline=None)
@given(snap_b=levels, snap_a=levels, diffs=st.lists(st.tuples(levels, levels), max_size=15), n=st.integers(1, 8),
       window=st.sampled_from([2, 3, 5, 16, WINDOW]))
def test_book_equals_naive_reference(
    impl: ModuleType, snap_b: list[tuple[float, float]], snap_a: list[tuple[float, float]],
    diffs: list[tuple[list[tuple[float, float]], list[tuple[float, float]]]], n: int, window: int,
) -> None:
    # Small windows: levels move between the sorted near keys and the far set on most diffs.
    book, ref = impl.OrderBook(window), NaiveBook()
    book.apply_snapshot(snap_b, snap_a)
    ref.apply(snap_b, snap_a)
    for bids, asks in [([], []), *diffs]:
        book.apply(bids, asks)
        ref.apply(bids, asks)
        assert book.bids(n) == ref.top_bids(n)
        assert book.asks(n) == ref.top_asks(n)
        assert book.best_bid() == (ref.top_bids(1) or [None])[0]
        assert book.best_ask() == (ref.top_asks(1) or [None])[0]
        assert book.depth() == (len(ref.bids), len(ref.asks))
        rb, ra = ref.top_bids(1), ref.top_asks(1)
        assert book.is_crossed() == bool(rb and ra and rb[0][0] >= ra[0][0])
        bv = sum(q for _, q in ref.top_bids(n))
        av = sum(q for _, q in ref.top_asks(n))
        assert book.imbalance(n) == pytest.approx((bv - av) / (bv + av) if bv + av else 0.0)
        t = book.touch(n)
        if not (rb and ra):
            assert t is None
        else:
            assert t is not None and t[:4] == (*rb[0], *ra[0]) and t[4] == pytest.approx(book.imbalance(n))
            micro = book.micro_price()
            assert min(rb[0][0], ra[0][0]) - 1e-9 <= micro <= max(rb[0][0], ra[0][0]) + 1e-9
