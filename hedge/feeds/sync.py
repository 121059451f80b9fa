"""Per-symbol depth synchronisation: Binance's local-book procedure, and the snapshot scheduler.

Owns: ``BookSync`` — the state machine that turns a symbol's DepthDiff stream plus REST
snapshots into a trustworthy OrderBook and publishes ``BookUpdate`` (after every applied diff)
and ``BookStatus`` (on every state change); and ``SnapshotScheduler`` — the asynchronous,
rate-limited (one request per symbol per ``min_interval_s``) fetching of snapshots through an
injected fetcher.

The procedure, exactly as Binance documents it: buffer diffs; get a snapshot; drop diffs with
``u < lastUpdateId``; the first applied diff must have ``U <= lastUpdateId <= u``; every next
diff must have ``pu == previous u``. ``U`` continuity is never checked (futures ids are global).
A gap, a crossed book, a snapshot that cannot bridge the buffered stream (older than the
buffer) or a crossed snapshot makes the book INVALID at once: a ``BookUpdate`` with
``valid=False`` is published so that latest-value consumers stop pricing from it, and a new
snapshot is requested. A diff whose ``u`` is not above the last applied ``u`` (a duplicate or a
late out-of-order copy) changes nothing the book does not already hold: it is counted as stale
and skipped instead of forcing a resync.

The hot path (``on_diff`` while VALID) is plain synchronous calls: no await, no logging.

Must never: publish a ``BookUpdate`` with ``valid=True`` from a book that is not in sync, await
on the hot path, or request snapshots faster than the rate limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import msgspec

from hedge.bus import Bus
from hedge.events import BookState, BookStatus, BookUpdate, DepthDiff, DepthSnapshot
from hedge.feeds.book import OrderBook
from hedge.model.clock import Clock, LiveClock
from hedge.reach import level_for
from hedge.tasks import cancel_and_wait

log = logging.getLogger(__name__)

RequestFn = Callable[[str], None]
Fetcher = Callable[[str], Awaitable[DepthSnapshot]]

_VALID = BookState.VALID


class BookSyncStats(msgspec.Struct, kw_only=True):
    state: str = BookState.SYNCING.value
    diffs_applied: int = 0
    gaps: int = 0
    crossed: int = 0
    resyncs: int = 0
    stale_diffs: int = 0
    snapshots_applied: int = 0
    snapshots_rejected: int = 0
    snapshots_stale: int = 0
    snapshots_ignored: int = 0
    snapshot_requests: int = 0
    buffer_overflow: int = 0


class BookSync:
    """The sync state machine of one symbol (see the module docstring)."""

    def __init__(
        self,
        symbol: str,
        bus: Bus,
        *,
        request_snapshot: RequestFn | None = None,
        imbalance_levels: int = 5,
        max_buffer: int = 10_000,
    ) -> None:
        self.symbol = symbol
        self.book = OrderBook()
        self.state = BookState.SYNCING
        self.last_u = 0  # final id of the last applied diff (0 when not in sync)
        self.stats = BookSyncStats()
        self._publish = bus.publish
        self._request = request_snapshot
        self._levels = imbalance_levels
        self._buffer: deque[DepthDiff] = deque()
        self._max_buffer = max_buffer
        self._loaded_id = 0  # lastUpdateId of an applied snapshot awaiting its bridging diff
        self._requested = False

    # ------------------------------------------------------------------ diffs

    def on_diff(self, d: DepthDiff) -> None:
        """Feed one diff of this symbol, in stream order."""
        if self.state is _VALID:
            if d.prev_final_id == self.last_u:
                self._apply(d)
            elif d.final_id <= self.last_u:
                self.stats.stale_diffs += 1
            else:
                self.stats.gaps += 1
                self._invalidate(f"gap: pu={d.prev_final_id} != last u={self.last_u}", d.recv_ns)
                self._buffer_diff(d)
            return
        if self._loaded_id:
            self._bridge(d)
        else:
            self._buffer_diff(d)

    def _bridge(self, d: DepthDiff) -> None:
        """A snapshot is loaded: find the first diff with U <= lastUpdateId <= u."""
        last_id = self._loaded_id
        if d.final_id < last_id:
            return  # already in the snapshot
        if d.first_id <= last_id:
            self._loaded_id = 0
            self._apply(d, bridging=True)
            return
        # The stream starts after the snapshot: it cannot be bridged.
        self.stats.snapshots_stale += 1
        self._loaded_id = 0
        self._invalidate(f"snapshot older than the stream: lastUpdateId={last_id} < U={d.first_id}", d.recv_ns)
        self._buffer_diff(d)

    def _apply(self, d: DepthDiff, *, bridging: bool = False) -> None:
        """Apply one in-sequence diff and publish; ``bridging``: the first diff after a snapshot."""
        book = self.book
        book.apply(d.bids, d.asks)
        self.last_u = d.final_id
        self.stats.diffs_applied += 1
        t = book.touch(self._levels)
        if bridging and (t is None or t[0] < t[2]):
            self._set_state(_VALID, "synced", d.recv_ns)
        if t is None:
            # A one-sided book cannot be priced from.
            self._publish_invalid(d.final_id, d.ts_ms, d.recv_ns)
            return
        bpx, bq, apx, aq, imb = t
        if bpx >= apx:
            self.stats.crossed += 1
            self._invalidate(f"crossed: bid {bpx} >= ask {apx} after u={d.final_id}", d.recv_ns)
            return
        mid = (bpx + apx) * 0.5
        self._publish(
            BookUpdate(
                ts_ms=d.ts_ms,
                recv_ns=d.recv_ns,
                symbol=self.symbol,
                update_id=d.final_id,
                valid=True,
                bid_px=bpx,
                bid_qty=bq,
                ask_px=apx,
                ask_qty=aq,
                mid=mid,
                micro=(bpx * aq + apx * bq) / (bq + aq),
                imbalance=imb,
                spread_bps=(apx - bpx) / mid * 1e4,
            )
        )

    def _publish_invalid(self, update_id: int, ts_ms: int, recv_ns: int) -> None:
        """Tell latest-value consumers to stop pricing from this book (last known top kept for context)."""
        bb = self.book.best_bid() or (0.0, 0.0)
        ba = self.book.best_ask() or (0.0, 0.0)
        self._publish(
            BookUpdate(
                ts_ms=ts_ms,
                recv_ns=recv_ns,
                symbol=self.symbol,
                update_id=update_id,
                valid=False,
                bid_px=bb[0],
                bid_qty=bb[1],
                ask_px=ba[0],
                ask_qty=ba[1],
                mid=0.0,
                micro=0.0,
                imbalance=0.0,
                spread_bps=0.0,
            )
        )

    def _buffer_diff(self, d: DepthDiff) -> None:
        buf = self._buffer
        if len(buf) >= self._max_buffer:
            buf.popleft()
            self.stats.buffer_overflow += 1
        buf.append(d)
        if not self._requested:
            self._ask_snapshot()

    # ------------------------------------------------------------------ snapshots

    def bridges(self, last_update_id: int) -> bool:
        """Would a snapshot with ``last_update_id`` sync this book now: it needs one, and a buffered
        diff has ``U <= lastUpdateId <= u`` (the procedure's first applied diff)?"""
        return self.state is not _VALID and not self._loaded_id and any(
            d.first_id <= last_update_id <= d.final_id for d in self._buffer
        )

    @property
    def needs_snapshot(self) -> bool:
        return self.state is not _VALID and not self._loaded_id

    def on_snapshot(self, snap: DepthSnapshot) -> None:
        """A REST snapshot arrived (fetched on request, or read from a recording)."""
        self._requested = False
        if self.state is _VALID:
            self.stats.snapshots_ignored += 1  # nothing to repair; applying it could only regress
            return
        book = self.book
        book.apply_snapshot(snap.bids, snap.asks)
        if book.is_crossed() or snap.last_update_id <= 0:
            self.stats.snapshots_rejected += 1
            book.clear()
            self._invalidate(f"bad snapshot: crossed or no id (lastUpdateId={snap.last_update_id})", snap.recv_ns)
            if self._buffer:
                self._ask_snapshot()
            return
        self.stats.snapshots_applied += 1
        self._loaded_id = snap.last_update_id
        buffered = self._buffer
        self._buffer = deque()
        for d in buffered:
            self.on_diff(d)

    def invalidate(self, reason: str, recv_ns: int) -> None:
        """Mark the book invalid from outside (e.g. its connection dropped): buffered diffs are dropped."""
        self._buffer.clear()
        if self.state is not _VALID and not self._loaded_id:
            return  # nothing is published as valid already
        self._invalidate(reason, recv_ns)

    def _invalidate(self, reason: str, recv_ns: int) -> None:
        self.last_u = 0
        self._loaded_id = 0
        self.stats.resyncs += 1
        self._set_state(BookState.INVALID, reason, recv_ns)
        self._publish_invalid(0, 0, recv_ns)
        log.warning("book %s invalid (%s): resyncing", self.symbol, reason)

    def _ask_snapshot(self) -> None:
        self._requested = True
        self.stats.snapshot_requests += 1
        if self._request is not None:
            self._request(self.symbol)

    def _set_state(self, state: BookState, reason: str, recv_ns: int) -> None:
        """``recv_ns`` is that of the frame or snapshot that caused the change: replays stay deterministic."""
        self.state = state
        self.stats.state = state.value
        self._publish(
            BookStatus(recv_ns=recv_ns, symbol=self.symbol, state=state, reason=reason, resyncs=self.stats.resyncs)
        )


class RetryAfter(Exception):
    """A fetcher's way to say "not before ``seconds``" (HTTP 429/418 with Retry-After)."""

    def __init__(self, seconds: float, message: str) -> None:
        super().__init__(message)
        self.seconds = seconds


class SnapshotScheduler:
    """Fetch depth snapshots on request: one in flight per symbol, at most one per ``min_interval_s``.

    A request made inside the interval is not dropped: it is served when the interval ends. A
    failed fetch is logged (at most once per interval per symbol) and retried after the interval,
    or after the fetcher's ``RetryAfter`` when the exchange asked for longer.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        deliver: Callable[[DepthSnapshot], None],
        *,
        min_interval_s: float = 2.0,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._fetcher = fetcher
        self._deliver = deliver
        self._min_interval_s = min_interval_s
        self._clock: Clock = clock or LiveClock()
        self._sleep = sleep
        self._last: dict[str, float] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.fetched = 0
        self.failures = 0

    def request(self, symbol: str) -> None:
        task = self._tasks.get(symbol)
        if task is not None and not task.done():
            return
        self._tasks[symbol] = asyncio.get_running_loop().create_task(self._fetch(symbol), name=f"snapshot:{symbol}")

    async def _fetch(self, symbol: str) -> None:
        while True:
            last = self._last.get(symbol)
            if last is not None:
                wait = last + self._min_interval_s - self._clock.now_s()
                if wait > 0:
                    await self._sleep(wait)
            self._last[symbol] = self._clock.now_s()
            try:
                snap = await self._fetcher(symbol)
            except asyncio.CancelledError:
                raise
            except RetryAfter as exc:
                self.failures += 1
                self._last[symbol] = self._clock.now_s() + max(0.0, exc.seconds - self._min_interval_s)
                log.warning("snapshot %s refused (%s); retrying in %.1fs", symbol, exc, max(exc.seconds, 0.0))
                continue
            except Exception as exc:
                self.failures += 1
                log.log(level_for(exc), "snapshot %s failed (%s: %s); retrying", symbol, type(exc).__name__, exc)
                continue
            self.fetched += 1
            self._tasks.pop(symbol, None)  # delivery may ask again (e.g. a rejected snapshot)
            self._deliver(snap)
            return

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        for t in tasks:
            await cancel_and_wait(t)
        self._tasks.clear()
