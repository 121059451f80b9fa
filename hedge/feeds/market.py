"""The live market-data service: websocket connections + REST snapshots + books, onto the bus.

Owns: ``MarketFeed`` — a supervised service (``name`` + ``async run()``) that opens the
connections for its symbols and streams, fetches depth snapshots (``GET /fapi/v1/depth``,
aiohttp) through the rate-limited ``SnapshotScheduler``, drives the shared ``FrameDispatcher``
(decode -> publish -> book sync -> BookUpdate), invalidates the books of a connection that went
down, publishes ``FeedStatus`` on connection changes and each connection's counters (the
``hedge.events.FeedStats`` event: frames, parse errors, gaps of the books it carries, reconnects,
frames whose handling raised)
every ``STATS_INTERVAL_S``, and exposes the whole feed's counters as a ``FeedStats`` Struct.
An optional ``tap`` receives every frame and every snapshot body exactly as received (the
recorder).

Must never: let one connection's failure stop another, await on the frame path, or log per frame.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import aiohttp

from hedge.backoff import backoff_delays
from hedge.bus import Bus
from hedge.config import FeedsConfig
from hedge.events import DepthSnapshot
from hedge.events import FeedStats as ConnectionStats
from hedge.feeds.codec import Codec
from hedge.feeds.connection import Endpoints, WsConnection, stream_names, stream_urls
from hedge.feeds.dispatch import FeedStats, FrameDispatcher
from hedge.feeds.sync import RetryAfter, SnapshotScheduler
from hedge.model.clock import Clock, LiveClock

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 1.0  # each connection's counters are published (ConnectionStats) this often


class Tap(Protocol):
    """Receives raw market data exactly as received (see ``hedge.feeds.recording.RecordingWriter``)."""

    def write_frame(self, recv_ns: int, raw: bytes | str) -> None: ...

    def write_snapshot(self, recv_ns: int, symbol: str, raw: bytes | str) -> None: ...


class SnapshotHttpError(Exception):
    pass


class MarketFeed:
    """Market data for ``symbols`` from one venue's endpoints. See the module docstring."""

    name = "feeds"

    def __init__(
        self,
        cfg: FeedsConfig,
        symbols: Sequence[str],
        bus: Bus,
        endpoints: Endpoints,
        *,
        tap: Tap | None = None,
        journal: Callable[[str, Mapping[str, Any]], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        delays: Callable[[int], float] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.cfg = cfg
        self.clock: Clock = clock or LiveClock()
        self.symbols = [s.upper() for s in symbols]
        self.bus = bus
        self.endpoints = endpoints
        self._tap = tap
        self.dispatcher = FrameDispatcher(
            bus,
            codec=Codec(journal=journal),
            request_snapshot=self._request_snapshot,
            imbalance_levels=cfg.imbalance_levels,
            symbols=self.symbols,
        )
        names = stream_names(self.symbols, cfg.streams, cfg.depth_speed)
        self.connections: list[WsConnection] = []
        # Per connection: its malformed frames and the symbols whose depth it carries (gaps).
        self.parse_errors: dict[str, int] = {}
        self._depth_symbols: dict[str, list[str]] = {}
        for cname, url, streams in stream_urls(endpoints.ws_base, names, paths=cfg.stream_paths):
            if not streams:
                continue
            depth_symbols = self._depth_symbols[cname] = sorted(
                {n.split("@", 1)[0].upper() for n in streams if "@depth" in n}
            )
            self.parse_errors[cname] = 0
            self.connections.append(
                WsConnection(
                    cname,
                    url,
                    self._frame_handler(cname),
                    watchdog_s=cfg.watchdog_s,
                    reconnect_before_s=cfg.reconnect_before_s,
                    delays=delays or backoff_delays(cfg.backoff_initial_s, cfg.backoff_max_s),
                    sleep=sleep,
                    on_status=bus.publish,
                    on_down=self._down_handler(depth_symbols),
                    clock=self.clock,
                )
            )
        self._session: aiohttp.ClientSession | None = None
        self._scheduler: SnapshotScheduler | None = None

    # ------------------------------------------------------------------ hot path

    def _frame_handler(self, connection: str) -> Callable[[bytes | str, int], None]:
        """The connection's frames -> the tap (if any) -> the dispatcher, counting its malformed frames."""
        dispatcher, codec, tap, errors = self.dispatcher, self.dispatcher.codec, self._tap, self.parse_errors

        def on_frame(raw: bytes | str, recv_ns: int) -> None:
            if tap is not None:
                tap.write_frame(recv_ns, raw)
            before = codec.frame_errors
            dispatcher.on_frame(raw, recv_ns)
            if codec.frame_errors != before:
                errors[connection] += 1

        return on_frame

    def _down_handler(self, depth_symbols: list[str]) -> Callable[[str], None]:
        def down(reason: str) -> None:
            now = self.clock.now_ns()
            for s in depth_symbols:
                self.dispatcher.book(s).invalidate(f"disconnected: {reason}", now)

        return down

    # ------------------------------------------------------------------ snapshots

    def _request_snapshot(self, symbol: str) -> None:
        if self._scheduler is not None:
            self._scheduler.request(symbol)

    async def _fetch(self, symbol: str) -> DepthSnapshot:
        assert self._session is not None
        url = f"{self.endpoints.rest_base}/fapi/v1/depth"
        params = {"symbol": symbol, "limit": str(self.cfg.snapshot_limit)}
        async with self._session.get(url, params=params) as resp:
            body = await resp.read()
            recv_ns = self.clock.now_ns()
            if resp.status in (418, 429):
                retry = float(resp.headers.get("Retry-After", "60") or 60)
                raise RetryAfter(retry, f"HTTP {resp.status}")
            if resp.status != 200:
                raise SnapshotHttpError(f"HTTP {resp.status}: {body[:200]!r}")
        snap = self.dispatcher.codec.decode_snapshot(body, symbol, recv_ns)
        if self._tap is not None:
            self._tap.write_snapshot(recv_ns, symbol, body)
        return snap

    # ------------------------------------------------------------------ service

    async def run(self) -> None:
        # A (re)start follows a stop: whatever the books hold may be stale until resynced.
        now = self.clock.now_ns()
        for sync in self.dispatcher.books.values():
            sync.invalidate("feed (re)starting", now)
        timeout = aiohttp.ClientTimeout(total=self.cfg.snapshot_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self._session = session
            self._scheduler = SnapshotScheduler(
                self._fetch, self.dispatcher.on_snapshot, min_interval_s=self.cfg.snapshot_min_interval_s,
                clock=self.clock,
            )
            tasks = [asyncio.create_task(c.run(), name=f"ws:{c.name}") for c in self.connections]
            tasks.append(asyncio.create_task(self._publish_stats(), name="feeds:stats"))
            try:
                # Connections never return or raise (they retry forever); only cancellation ends this.
                await asyncio.gather(*tasks)
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await self._scheduler.close()
                self._scheduler = None
                self._session = None

    def stats(self) -> FeedStats:
        return self.dispatcher.stats(reconnects=sum(c.reconnects for c in self.connections))

    def publish_connection_stats(self) -> None:
        """One ``ConnectionStats`` per connection (the operator's status, diagnostics and metrics)."""
        books = self.dispatcher.books
        now = self.clock.now_ns()
        for c in self.connections:
            self.bus.publish(ConnectionStats(
                recv_ns=now,
                connection=c.name,
                messages=c.frames,
                parse_errors=self.parse_errors[c.name],
                gaps=sum(books[s].stats.gaps for s in self._depth_symbols[c.name] if s in books),
                reconnects=c.reconnects,
                handler_errors=c.callback_errors,
            ))

    async def _publish_stats(self) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL_S)
            self.publish_connection_stats()
