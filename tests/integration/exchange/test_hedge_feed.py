"""hedge's own market feed (hedge.feeds.MarketFeed) against the local exchange, with stream faults.

Proves the two halves agree: the feed syncs its book on the exchange's /public + /market streams
and REST snapshots, its book equals the exchange's own book, an injected depth gap is detected and
resynced, and a dropped connection reconnects.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hedge.bus import Bus
from hedge.config import FeedsConfig
from hedge.events import BookState
from hedge.exchange.server import LocalExchange
from hedge.feeds.connection import endpoints
from hedge.feeds.market import MarketFeed
from tests.kit.wait import wait_for

Book = tuple[list[tuple[float, float]], list[tuple[float, float]]]


def watch_books(ex: LocalExchange, depth: int) -> dict[int, Book]:
    """The exchange's BTCUSDT book by last update id, noted at each depth flush (a consistent cut: no
    diff is played during it). The player never waits for the feed, so on a loaded machine there may
    be no moment at which the feed's update id equals the exchange's latest: compare at equal ids."""
    books: dict[int, Book] = {}
    flush = ex.depth.flush

    def noting(**kw: Any) -> None:
        flush(**kw)
        u = ex.last_update_id.get("BTCUSDT")
        if u is not None and u not in books:
            book = ex.engine.book("BTCUSDT")
            books[u] = (book.bids(depth), book.asks(depth))
            if len(books) > 2000:
                del books[next(iter(books))]

    ex.depth.flush = noting  # type: ignore[method-assign]
    return books


@pytest.mark.slow
async def test_feed_syncs_detects_gap_and_reconnects() -> None:
    ex = LocalExchange(port=0, speed=10.0)
    await ex.start()
    books = watch_books(ex, 200)
    cfg = FeedsConfig(snapshot_min_interval_s=0.0, backoff_initial_s=0.05, backoff_max_s=0.2)
    feed = MarketFeed(cfg, ["BTCUSDT"], Bus(), endpoints("local", cfg, local_port=ex.port))
    task = asyncio.create_task(feed.run())
    try:
        sync = feed.dispatcher.book("BTCUSDT")
        await wait_for(lambda: sync.state is BookState.VALID and sync.stats.diffs_applied > 5, 30,
                       what="a synced book", interval=0.02)
        # the feed's book equals the exchange's book whenever both have applied the same diff
        seen = await wait_for(lambda: books.get(sync.last_u), 30, what="feed at an update id the exchange noted",
                              interval=0.02)
        assert (sync.book.bids(200), sync.book.asks(200)) == seen
        before = feed.stats()
        assert before.gaps == 0
        ex.faults.settings["depth_gap"].count = 1
        await wait_for(lambda: feed.stats().gaps >= 1, 30, what="gap detection", interval=0.02)
        await wait_for(lambda: feed.stats().snapshots_applied > before.snapshots_applied, 30,
                       what="resync snapshot", interval=0.02)
        await wait_for(lambda: sync.state is BookState.VALID, 30, what="valid again", interval=0.02)
        ex.hub.drop_all()
        dropped_at = ex.last_update_id["BTCUSDT"]
        await wait_for(lambda: feed.stats().reconnects >= 1, 30, what="reconnect", interval=0.02)
        seen = await wait_for(lambda: sync.state is BookState.VALID and sync.last_u > dropped_at
                              and books.get(sync.last_u), 30, what="resynced", interval=0.02)
        assert (sync.book.bids(200), sync.book.asks(200)) == seen
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await ex.stop()
