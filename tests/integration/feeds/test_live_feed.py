"""MarketFeed against a local Binance-like server on 127.0.0.1 (real websockets + aiohttp sockets).

The server streams the real recorded BTCUSDT depth frames on /public/stream and answers
GET /fapi/v1/depth with the reference book at the position it has streamed to. It drops the
first connection mid-stream and stalls the second: the feed must reconnect (backoff attempt
reset after data), invalidate the book at once, resync through a new snapshot and publish valid
updates again — every one equal to the reference. Backoff waits go through an injected sleep
(no real sleeping).
"""

from __future__ import annotations

import asyncio
import random

import pytest

from hedge.backoff import backoff_delays
from hedge.bus import Bus
from hedge.config import FeedsConfig
from hedge.events import BookState, BookStatus, BookUpdate, FeedStats, FeedStatus
from hedge.feeds.connection import Endpoints, WsConnection, endpoints, stream_names, stream_urls
from hedge.feeds.market import MarketFeed
from hedge.handoff import Handoff
from tests.integration.feeds.fake_binance import FakeBinance
from tests.integration.feeds.recorded import CHAIN, TOPS, Reference
from tests.kit.wait import budget_s, wait_for


async def test_drop_and_stall_reconnect_resync_publish_again() -> None:
    fake = FakeBinance([(0, 120, "drop"), (150, 120, "stall"), (300, 199, "idle")])
    waits: list[float] = []

    async def no_sleep(s: float) -> None:
        waits.append(s)
        await asyncio.sleep(0)

    async with fake.running():
        # The stall must be seen quickly, but a starved CI process must not look stalled in the idle phase.
        cfg = FeedsConfig(streams=["depth"], watchdog_s=budget_s(0.5), snapshot_min_interval_s=0.05)
        bus = Bus()
        updates: list[BookUpdate] = []
        status: list[BookStatus] = []
        feed_status: list[FeedStatus] = []
        bus.subscribe(BookUpdate, updates.append)
        bus.subscribe(BookStatus, status.append)
        bus.subscribe(FeedStatus, feed_status.append)
        ep = Endpoints(f"ws://127.0.0.1:{fake.ws_port}", f"http://127.0.0.1:{fake.rest_port}")
        feed = MarketFeed(cfg, ["BTCUSDT"], bus, ep, sleep=no_sleep, delays=backoff_delays(0.4, 6.4, random.Random(7)))
        task = asyncio.create_task(feed.run())
        try:
            await wait_for(lambda: fake.sent_upto >= 498
                           and feed.dispatcher.book("BTCUSDT").last_u == CHAIN[498].final_id, 30)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    assert fake.paths == ["/public/stream?streams=btcusdt@depth@100ms"] * 3
    st = feed.stats()
    assert st.reconnects == 2 and feed.connections[0].connects == 3
    assert [s.state for s in status] == [BookState.VALID, BookState.INVALID, BookState.VALID, BookState.INVALID, BookState.VALID]
    assert "disconnected" in status[1].reason and "stalled" in status[3].reason
    assert [f.connected for f in feed_status] == [True, False, True, False, True]
    # Each drop followed a connection that had delivered data: the backoff restarted at attempt 0.
    assert len(waits) == 2 and all(0.2 <= w <= 0.4 for w in waits)
    assert fake.snapshots == 3 and st.snapshots_applied == 3 and st.gaps == 0
    # What the operator sees per connection (status, diagnostics, /metrics): the connection's own counters.
    stats: list[FeedStats] = []
    bus.subscribe(FeedStats, stats.append)
    feed.publish_connection_stats()
    (public,) = stats
    assert public.connection == "public" and public.reconnects == 2 and public.gaps == 0 and public.parse_errors == 0
    assert public.messages == feed.connections[0].frames > 300
    valid = [u for u in updates if u.valid]
    for u in valid:
        assert (u.bid_px, u.bid_qty, u.ask_px, u.ask_qty) == TOPS[u.update_id]
    # Published again after each reconnect, and nothing valid between an invalidation and its resync.
    ids = [u.update_id for u in valid]
    assert any(CHAIN[300].final_id <= i for i in ids) and any(CHAIN[150].final_id <= i < CHAIN[300].first_id for i in ids)
    cut = [k for k, u in enumerate(updates) if not u.valid]
    assert len(cut) == 2
    ref = Reference()
    ref.advance_to(498)
    book = feed.dispatcher.book("BTCUSDT").book
    assert book.bids(10_000) == sorted(ref.bids.items(), reverse=True)
    assert book.asks(10_000) == sorted(ref.asks.items())


async def test_a_failing_connection_never_stops_the_others() -> None:
    fake = FakeBinance([(0, 299, "idle")], drop_market=True)
    async with fake.running():
        cfg = FeedsConfig(streams=["depth", "aggTrade"], watchdog_s=5.0, snapshot_min_interval_s=0.05)
        bus = Bus()
        ep = Endpoints(f"ws://127.0.0.1:{fake.ws_port}", f"http://127.0.0.1:{fake.rest_port}")
        feed = MarketFeed(cfg, ["BTCUSDT"], bus, ep, delays=lambda n: 0.02)
        published: list[FeedStats] = []
        bus.subscribe(FeedStats, published.append)
        assert [c.name for c in feed.connections] == ["public", "market"]
        task = asyncio.create_task(feed.run())
        try:
            await wait_for(lambda: feed.dispatcher.book("BTCUSDT").last_u == CHAIN[298].final_id
                           and fake.market_drops >= 3 and len({s.connection for s in published}) == 2, 30)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    public, market = feed.connections
    assert public.connects == 1 and public.reconnects == 0
    assert market.connects >= 3 and market.reconnects >= 3  # kept failing, kept retrying
    assert feed.stats().books["BTCUSDT"].state == BookState.VALID and feed.stats().gaps == 0
    assert {s.connection for s in published} == {"public", "market"}  # published periodically by the service


class _DiskFullOnce:
    """A recorder tap whose first write fails (a full disk for a moment)."""

    def __init__(self) -> None:
        self.frames = 0

    def write_frame(self, recv_ns: int, raw: bytes | str) -> None:
        self.frames += 1
        if self.frames == 1:
            raise OSError(28, "No space left on device")

    def write_snapshot(self, recv_ns: int, symbol: str, raw: bytes | str) -> None:
        pass


async def test_a_frame_whose_handling_raises_is_counted_and_the_feed_goes_on() -> None:
    fake = FakeBinance([(0, 200, "idle")])
    async with fake.running():
        cfg = FeedsConfig(streams=["depth"], watchdog_s=5.0, snapshot_min_interval_s=0.05)
        bus = Bus()
        published: list[FeedStats] = []
        bus.subscribe(FeedStats, published.append)
        ep = Endpoints(f"ws://127.0.0.1:{fake.ws_port}", f"http://127.0.0.1:{fake.rest_port}")
        feed = MarketFeed(cfg, ["BTCUSDT"], bus, ep, tap=_DiskFullOnce())
        task = asyncio.create_task(feed.run())
        try:
            await wait_for(lambda: feed.dispatcher.book("BTCUSDT").last_u == CHAIN[199].final_id and published
                           and published[-1].messages >= 199, 30)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert published[-1].handler_errors == 1 and feed.connections[0].reconnects == 0
    assert feed.stats().books["BTCUSDT"].state == BookState.VALID


async def test_backoff_schedule_without_real_sleeping() -> None:
    # Nothing listens on this port: every attempt fails at once; the injected sleep records the waits.
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    waits: list[float] = []
    enough = asyncio.Event()

    async def fake_sleep(d: float) -> None:
        waits.append(d)
        if len(waits) >= 9:
            enough.set()
            await asyncio.Event().wait()
        await asyncio.sleep(0)

    conn = WsConnection("public", f"ws://127.0.0.1:{port}/public/stream?streams=x@depth",
                        lambda raw, ns: None, delays=backoff_delays(0.4, 6.4, random.Random(3)), sleep=fake_sleep)
    task = asyncio.create_task(conn.run())
    await asyncio.wait_for(enough.wait(), 30)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    expected = backoff_delays(0.4, 6.4, random.Random(3))
    assert waits == [expected(n) for n in range(9)]
    for n, w in enumerate(waits):
        d = min(6.4, 0.4 * 2**n)
        assert d / 2 <= w <= d
    assert all(3.2 <= w <= 6.4 for w in waits[4:])  # then it keeps retrying at the cap
    assert conn.connects == 0 and conn.reconnects == 0


async def test_proactive_reconnect_before_connection_limit() -> None:
    fake = FakeBinance([(0, 50, "idle")] * 5)
    waits: list[float] = []

    async def no_sleep(s: float) -> None:
        waits.append(s)
        await asyncio.sleep(0)

    async with fake.running():
        conn = WsConnection("public", f"ws://127.0.0.1:{fake.ws_port}/public/stream?streams=btcusdt@depth@100ms",
                            lambda raw, ns: None, watchdog_s=30.0, reconnect_before_s=0.3, sleep=no_sleep)
        task = asyncio.create_task(conn.run())
        await wait_for(lambda: conn.connects >= 2, 30)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert waits and waits[0] == 0.0  # a planned reconnect does not back off
    assert conn.frames >= 50


async def test_a_task_a_frame_handed_off_runs_before_the_next_buffered_frame() -> None:
    fake = FakeBinance([(0, 50, "idle")])  # 50 frames sent back to back: they arrive in batches
    handoff = Handoff()
    seen: list[tuple[int, int]] = []  # (the frame that started the task, frames handled when it ran)
    tasks: list[asyncio.Task[None]] = []

    async def urgent(n: int) -> None:
        seen.append((n, conn.frames))

    def on_frame(raw: bytes, ns: int) -> None:
        if conn.frames % 5 == 0:
            tasks.append(asyncio.get_running_loop().create_task(urgent(conn.frames)))
            handoff.request()

    async with fake.running():
        conn = WsConnection("public", f"ws://127.0.0.1:{fake.ws_port}/public/stream?streams=btcusdt@depth@100ms",
                            on_frame, watchdog_s=30.0, handoff=handoff)
        task = asyncio.create_task(conn.run())
        await wait_for(lambda: conn.frames >= 50 and len(seen) >= 10, 30)
        task.cancel()
        await asyncio.gather(task, *tasks, return_exceptions=True)
    assert seen[:10] == [(n, n) for n in range(5, 55, 5)] and conn.yields == len(seen)


def test_urls_split_and_legacy_paths() -> None:
    names = stream_names(["BTCUSDT", "ETHUSDT"], ["depth", "bookTicker", "aggTrade", "markPrice", "trade"], "100ms")
    assert names[:5] == ["btcusdt@depth@100ms", "btcusdt@bookTicker", "btcusdt@aggTrade", "btcusdt@markPrice", "btcusdt@trade"]
    assert stream_names(["BTCUSDT"], ["depth"], "250ms") == ["btcusdt@depth"]
    urls = stream_urls("wss://fstream.binance.com/", names)
    assert [(n, u.split("?")[0]) for n, u, _ in urls] == [
        ("public", "wss://fstream.binance.com/public/stream"),
        ("market", "wss://fstream.binance.com/market/stream"),
    ]
    assert urls[0][1].endswith("streams=btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade/ethusdt@depth@100ms/ethusdt@bookTicker/ethusdt@trade")
    assert urls[1][2] == ["btcusdt@aggTrade", "btcusdt@markPrice", "ethusdt@aggTrade", "ethusdt@markPrice"]
    legacy = stream_urls("wss://fstream.binance.com", names, paths="legacy")
    assert len(legacy) == 1 and legacy[0][1] == "wss://fstream.binance.com/stream?streams=" + "/".join(names)
    chunked = stream_urls("ws://h", [f"s{i}@depth" for i in range(450)], per_connection=200)
    assert [n for n, _, _ in chunked] == ["public-1", "public-2", "public-3"] and len(chunked[2][2]) == 50
    cfg = FeedsConfig()
    assert endpoints("binance", cfg) == Endpoints("wss://fstream.binance.com", "https://fapi.binance.com")
    assert endpoints("binance-testnet", cfg) == Endpoints("wss://fstream.binancefuture.com", "https://testnet.binancefuture.com")
    assert endpoints("local", cfg, local_port=8123) == Endpoints("ws://127.0.0.1:8123", "http://127.0.0.1:8123")
    with pytest.raises(ValueError):
        endpoints("local", cfg)


def test_each_connection_counts_its_own_malformed_frames() -> None:
    """Parse errors in the operator's per-connection counters belong to the connection that sent them."""
    from tests.unit.feeds.test_codec import DEPTH, TICKER

    bus = Bus()
    stats: list[FeedStats] = []
    bus.subscribe(FeedStats, stats.append)
    cfg = FeedsConfig(streams=["depth", "bookTicker", "aggTrade"])
    feed = MarketFeed(cfg, ["BTCUSDT"], bus, Endpoints("ws://127.0.0.1:1", "http://127.0.0.1:1"))
    public, market = feed.connections
    assert (public.name, market.name) == ("public", "market")
    public._on_frame(DEPTH, 1)
    public._on_frame(TICKER, 2)
    market._on_frame(b"{not json", 3)
    market._on_frame(b'{"e":"aggTrade"}', 4)
    public._on_frame(b"[]", 5)
    feed.publish_connection_stats()
    by = {s.connection: s for s in stats}
    assert by["public"].parse_errors == 1 and by["market"].parse_errors == 2
    assert sum(feed.stats().parse_errors.values()) == 3  # the feed's own totals are unchanged
