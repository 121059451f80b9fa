"""The market-data hot path shared by the live feed and the replay source: frame -> event -> book.

Owns: the per-symbol ``BookSync`` set, and the route of every decoded frame: each event is
published on the bus, and each DepthDiff is also fed to its symbol's book, which publishes the
``BookUpdate``. Snapshot bodies are decoded here and handed to their book; an unusable body is
counted and logged, never raised.

Which symbols get a book: given ``symbols`` (the live subscription, the replay's universe), those
and no others: a frame or snapshot of any other symbol is counted (``other_symbols``, at most
``MAX_NAMED_OTHERS`` names, the rest in ``other_overflow``) and dropped, never published. Given
none (offline tools: ``--verify-book``, ``calibrate``), a book per symbol seen, up to
``MAX_OPEN_BOOKS`` well-formed names; a fuzzed or hostile recording cannot grow memory without
bound.

Design: everything here is synchronous plain calls (decode -> publish -> book -> publish); the
live connection and the replay source call ``on_frame`` for every frame, so both publish exactly
the same events in the same order for the same input. BookTicker frames (~3/4 of all) go no further
than their wire Struct when the bus has nobody for them (``Bus.publish_needed``: the publish is
counted, nothing is built); with a real subscriber (a strategy, the shadow pipeline's cost,
``--verify-book``) they are published as ever. Telemetry's subscription is passive: what it counts of
a bookTicker (last-seen stamps, feed lag) is written by ``tickers`` (``hedge.feeds.seen.TickerSeen``)
into telemetry's own containers, handed over at wiring, so the engine builds, publishes and handles
no BookTicker at all and the surfaces read the same figures. A Parquet tape's bookTicker rows come
as ``TickerStamp`` (``on_event``) when the replay opened it with nobody for them.

Must never: await, log per frame, or know where frames come from (socket or file).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import msgspec

from hedge.bus import Bus
from hedge.events import BookTicker, DepthDiff, DepthSnapshot, Event
from hedge.feeds.codec import Codec, CodecError, MarketEvent, WireTicker, ticker_event
from hedge.feeds.framescan import LEAN, ticker_stamp, undecided
from hedge.feeds.seen import TickerSeen, TickerStamp
from hedge.feeds.sync import BookSync, BookSyncStats, RequestFn

log = logging.getLogger(__name__)


MAX_OPEN_BOOKS = 64  # books an open dispatcher (no symbol set given) creates at most
MAX_NAMED_OTHERS = 32  # distinct dropped symbol names counted by name


# the lean bookTicker path where it pays: the compiled scan (~0.1 us a frame, vs ~0.6 us the decode);
# the pure reference (a regular expression, ~0.9 us) would cost more than it saves
_ticker_stamp = ticker_stamp if LEAN else undecided


def _symbol_like(name: str) -> bool:
    """An exchange symbol's shape: 2-32 upper-case letters and digits (BTCUSDT, 1000PEPEUSDT)."""
    return 2 <= len(name) <= 32 and name.isascii() and name.isalnum() and name.upper() == name


class FeedStats(msgspec.Struct, kw_only=True):
    """The counters of a market-data feed (live or replayed), for metrics and summaries."""

    messages: dict[str, int] = {}
    unknown_types: dict[str, int] = {}
    parse_errors: dict[str, int] = {}
    control: int = 0
    diffs_applied: int = 0
    gaps: int = 0
    crossed: int = 0
    resyncs: int = 0
    stale_diffs: int = 0
    snapshots_applied: int = 0
    snapshots_rejected: int = 0
    reconnects: int = 0
    books: dict[str, BookSyncStats] = {}
    other_symbols: dict[str, int] = {}  # frames dropped: a symbol outside the set (by name, bounded)
    other_overflow: int = 0  # frames dropped whose symbol name was not counted by name


class _FrameRoute:
    """The per-frame path of ``FrameDispatcher`` (its base: the state, ``on_frame``/``on_event`` and
    the routing; ``FrameDispatcher`` builds it and adds snapshots and stats).

    Compiled, this is an extension type whose fields are C slots (hedge/feeds/dispatch.pxd): the
    ~5 field reads of every frame skip the instance dict. ``FrameDispatcher`` stays a Python class
    so that its methods can still be wrapped (scripts/bench_latency.py times ``on_frame``)."""

    bus: Bus
    codec: Codec
    books: dict[str, BookSync]
    tickers: TickerSeen
    other_symbols: dict[str, int]
    other_overflow: int
    _request: RequestFn | None
    _levels: int
    _wire: Callable[[bytes | str, int], MarketEvent | WireTicker | None]
    _publish: Callable[[Event], None]
    _publish_needed: Callable[[type[Event]], bool]
    _saw_ticker: Callable[[str, int, int], None]
    _count_ticker: Callable[[], None]
    _closed: frozenset[str]

    def _admit(self, symbol: str) -> BookSync | None:
        """The book of a symbol not yet in ``books``, or None (the frame is counted and dropped)."""
        if not self._closed and len(self.books) < MAX_OPEN_BOOKS and _symbol_like(symbol):
            return self.book(symbol)
        others = self.other_symbols
        if symbol in others:
            others[symbol] += 1
        elif len(others) < MAX_NAMED_OTHERS:
            others[symbol] = 1
            log.warning("feeds: frames of %r dropped (%s)", symbol[:40],
                        "not subscribed" if self._closed else "too many or malformed symbols")
        else:
            self.other_overflow += 1
        return None

    def book(self, symbol: str) -> BookSync:
        sync = self.books.get(symbol)
        if sync is None:
            sync = BookSync(symbol, self.bus, request_snapshot=self._request, imbalance_levels=self._levels)
            self.books[symbol] = sync
        return sync

    def on_frame(self, raw: bytes | str, recv_ns: int) -> None:
        """One received frame: decode, publish, and (depth) update the book.

        A bookTicker (most frames) is built into its event only when the bus has a subscriber for
        it (``Bus.publish_needed``; the publish is counted either way); else it is stamped in
        ``tickers``. Such a ticker of a symbol with a book takes the lean path when its frame is in
        Binance's exact form (``framescan.ticker_stamp``, compiled build: its symbol and time, every
        field checked as the codec checks it, no decode): the same counts and stamps as below."""
        stamp = _ticker_stamp(raw)
        if stamp is not None and stamp[0] in self.books and not self._publish_needed(BookTicker):
            self._count_ticker()
            self._saw_ticker(stamp[0], stamp[1], recv_ns)
            return
        ev = self._wire(raw, recv_ns)
        if ev is None:
            return
        if isinstance(ev, WireTicker):
            if ev.sym not in self.books and self._admit(ev.sym) is None:
                return
            if self._publish_needed(BookTicker):
                self._publish(ticker_event(ev, recv_ns))
            else:
                self._saw_ticker(ev.sym, ev.ts, recv_ns)
            return
        self._route(ev)

    def on_event(self, ev: MarketEvent | TickerStamp) -> None:
        """An event decoded already (a Parquet tape): counted as its frame would be, then routed; a
        ``TickerStamp`` (the tape's lean bookTicker row) is counted as a published BookTicker."""
        self.codec.count(ev)
        if isinstance(ev, TickerStamp):
            if ev.symbol not in self.books and self._admit(ev.symbol) is None:
                return
            self._publish_needed(BookTicker)  # counted as published (the tape was opened without them)
            self._saw_ticker(ev.symbol, ev.ts_ms, ev.recv_ns)
            return
        self._route(ev)

    def _route(self, ev: MarketEvent) -> None:
        sync = self.books.get(ev.symbol)
        if sync is None and (sync := self._admit(ev.symbol)) is None:
            return
        self._publish(ev)
        if type(ev) is DepthDiff:
            sync.on_diff(ev)


class FrameDispatcher(_FrameRoute):
    """Decode frames, publish their events, and keep each symbol's book in sync."""

    def __init__(
        self,
        bus: Bus,
        *,
        codec: Codec | None = None,
        request_snapshot: RequestFn | None = None,
        imbalance_levels: int = 5,
        symbols: Iterable[str] = (),
    ) -> None:
        self.bus = bus
        self.codec = codec if codec is not None else Codec()
        self.books: dict[str, BookSync] = {}
        self._request = request_snapshot
        self._levels = imbalance_levels
        self._wire = self.codec.wire
        self._publish = bus.publish
        self._publish_needed = bus.publish_needed
        self._closed = frozenset(symbols)
        self.other_symbols: dict[str, int] = {}
        self.other_overflow = 0
        self.tickers = TickerSeen()  # the bookTickers not published (telemetry reads it: ``Telemetry.watch_feed``)
        self._saw_ticker = self.tickers.saw
        self._count_ticker = self.codec.count_ticker
        for s in self._closed:
            self.book(s)

    def on_snapshot(self, snap: DepthSnapshot) -> None:
        sync = self.books.get(snap.symbol)
        if sync is None and (sync := self._admit(snap.symbol)) is None:
            return
        sync.on_snapshot(snap)

    def on_snapshot_body(self, raw: bytes | str, symbol: str, recv_ns: int) -> bool:
        """A raw REST depth body for ``symbol``; False (counted, logged) when it is unusable."""
        try:
            snap = self.codec.decode_snapshot(raw, symbol, recv_ns)
        except CodecError as exc:
            log.warning("feeds: %s", exc)
            return False
        self.on_snapshot(snap)
        return True

    def stats(self, *, reconnects: int = 0) -> FeedStats:
        cs = self.codec.stats
        books = {s: msgspec.structs.replace(b.stats) for s, b in self.books.items()}
        return FeedStats(
            messages=dict(cs.messages),
            unknown_types=dict(cs.unknown),
            parse_errors=dict(cs.errors),
            control=cs.control,
            diffs_applied=sum(b.diffs_applied for b in books.values()),
            gaps=sum(b.gaps for b in books.values()),
            crossed=sum(b.crossed for b in books.values()),
            resyncs=sum(b.resyncs for b in books.values()),
            stale_diffs=sum(b.stale_diffs for b in books.values()),
            snapshots_applied=sum(b.snapshots_applied for b in books.values()),
            snapshots_rejected=sum(b.snapshots_rejected for b in books.values()),
            reconnects=reconnects,
            books=books,
            other_symbols=dict(self.other_symbols),
            other_overflow=self.other_overflow,
        )
