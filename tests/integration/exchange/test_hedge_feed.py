"""hedge's own market feed (hedge.feeds.MarketFeed) against the local exchange, with stream faults.

Proves the two halves agree: the feed syncs its book on the exchange's /public + /market streams
and REST snapshots, its book equals the exchange's own book, an injected depth gap is detected and
resynced, and a dropped connection reconnects.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hedge.bus import Bus
from hedge.config import FeedsConfig
from hedge.events import BookState
from hedge.exchange.server import LocalExchange
from hedge.feeds.connection import endpoints
from hedge.feeds.market import MarketFeed


async def _until(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_feed_syncs_detects_gap_and_reconnects() -> None:
    ex = LocalExchange(port=0, speed=10.0)
    await ex.start()
    cfg = FeedsConfig(snapshot_min_interval_s=0.0, backoff_initial_s=0.05, backoff_max_s=0.2)
    feed = MarketFeed(cfg, ["BTCUSDT"], Bus(), endpoints("local", cfg, local_port=ex.port))
    task = asyncio.create_task(feed.run())
    try:
        sync = feed.dispatcher.book("BTCUSDT")
        await _until(lambda: sync.state is BookState.VALID and sync.stats.diffs_applied > 5, 15, "a synced book")
        # the feed's book equals the exchange's book whenever both have applied the same diff
        await _until(lambda: sync.last_u == ex.last_update_id["BTCUSDT"], 5, "feed caught up")
        server = ex.engine.book("BTCUSDT")
        assert sync.book.bids(200) == server.bids(200) and sync.book.asks(200) == server.asks(200)
        before = feed.stats()
        assert before.gaps == 0
        ex.faults.settings["depth_gap"].count = 1
        await _until(lambda: feed.stats().gaps >= 1, 5, "gap detection")
        await _until(lambda: feed.stats().snapshots_applied > before.snapshots_applied, 10, "resync snapshot")
        await _until(lambda: sync.state is BookState.VALID, 10, "valid again")
        ex.hub.drop_all()
        await _until(lambda: feed.stats().reconnects >= 1, 10, "reconnect")
        await _until(
            lambda: sync.state is BookState.VALID and sync.last_u == ex.last_update_id["BTCUSDT"], 10, "resynced"
        )
        assert sync.book.bids(50) == ex.engine.book("BTCUSDT").bids(50)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await ex.stop()
