"""hedge's own market feed (hedge.feeds.MarketFeed) against the local exchange, with stream faults.

Proves the two halves agree: the feed syncs its book on the exchange's /public + /market streams
and REST snapshots, its book equals the exchange's own book, an injected depth gap is detected and
resynced, and a dropped connection reconnects.
"""

from __future__ import annotations

import asyncio

import pytest

from hedge.bus import Bus
from hedge.config import FeedsConfig
from hedge.events import BookState
from hedge.exchange.server import LocalExchange
from hedge.feeds.connection import endpoints
from hedge.feeds.market import MarketFeed
from tests.kit.wait import wait_for


@pytest.mark.slow
async def test_feed_syncs_detects_gap_and_reconnects() -> None:
    ex = LocalExchange(port=0, speed=10.0)
    await ex.start()
    cfg = FeedsConfig(snapshot_min_interval_s=0.0, backoff_initial_s=0.05, backoff_max_s=0.2)
    feed = MarketFeed(cfg, ["BTCUSDT"], Bus(), endpoints("local", cfg, local_port=ex.port))
    task = asyncio.create_task(feed.run())
    try:
        sync = feed.dispatcher.book("BTCUSDT")
        await wait_for(lambda: sync.state is BookState.VALID and sync.stats.diffs_applied > 5, 30,
                       what="a synced book", interval=0.02)
        # the feed's book equals the exchange's book whenever both have applied the same diff
        await wait_for(lambda: sync.last_u == ex.last_update_id["BTCUSDT"], 30, what="feed caught up", interval=0.02)
        server = ex.engine.book("BTCUSDT")
        assert sync.book.bids(200) == server.bids(200) and sync.book.asks(200) == server.asks(200)
        before = feed.stats()
        assert before.gaps == 0
        ex.faults.settings["depth_gap"].count = 1
        await wait_for(lambda: feed.stats().gaps >= 1, 30, what="gap detection", interval=0.02)
        await wait_for(lambda: feed.stats().snapshots_applied > before.snapshots_applied, 30,
                       what="resync snapshot", interval=0.02)
        await wait_for(lambda: sync.state is BookState.VALID, 30, what="valid again", interval=0.02)
        ex.hub.drop_all()
        await wait_for(lambda: feed.stats().reconnects >= 1, 30, what="reconnect", interval=0.02)
        await wait_for(lambda: sync.state is BookState.VALID and sync.last_u == ex.last_update_id["BTCUSDT"], 30,
                       what="resynced", interval=0.02)
        assert sync.book.bids(50) == ex.engine.book("BTCUSDT").bids(50)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await ex.stop()
