"""FrameDispatcher: routes decoded events onto the bus and depth into the books; corrupted real
frames (truncated, bytes flipped, fields dropped) never raise out of it and are all counted."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.bus import Bus
from hedge.events import BookTicker, BookUpdate, DepthDiff, Event, Trade
from hedge.feeds.codec import Codec
from hedge.feeds.dispatch import MAX_NAMED_OTHERS, MAX_OPEN_BOOKS, FrameDispatcher
from tests.unit.feeds.test_codec import AGG, DEPTH, MARK, TICKER, TRADE

FRAMES = [DEPTH, TICKER, TRADE, AGG, MARK]


def test_routes_events_and_feeds_books() -> None:
    bus = Bus()
    seen: list[Event] = []
    bus.subscribe(Event, seen.append)
    d = FrameDispatcher(bus)
    for i, f in enumerate(FRAMES):
        d.on_frame(f, i)
    assert [type(e).__name__ for e in seen] == ["DepthDiff", "BookTicker", "Trade", "Trade", "MarkPrice"]
    assert set(d.books) == {"BTCUSDT"} and d.books["BTCUSDT"].stats.snapshot_requests == 1
    body = b'{"lastUpdateId":4984028368000,"bids":[["63939.80","1"]],"asks":[["63947.40","2"]]}'
    assert d.on_snapshot_body(body, "BTCUSDT", 9)
    ups = [e for e in seen if isinstance(e, BookUpdate)]
    assert len(ups) == 1 and ups[0].valid and ups[0].bid_px == 63939.8 and ups[0].ask_qty == 0.109
    assert not d.on_snapshot_body(b'{"code":-1121,"msg":"Invalid symbol."}', "BTCUSDT", 10)
    s = d.stats()
    assert s.messages == {"depthUpdate": 1, "bookTicker": 1, "trade": 1, "aggTrade": 1, "markPriceUpdate": 1, "snapshot": 1}
    assert s.diffs_applied == 1 and s.parse_errors == {"bad_snapshot": 1} and s.books["BTCUSDT"].state == "VALID"


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    f = bytearray(draw(st.sampled_from(FRAMES)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "cut", "drop", "dup"]))
        if not f:
            break
        i = draw(st.integers(0, len(f) - 1))
        if op == "flip":
            f[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del f[i:]
        elif op == "drop":
            j = draw(st.integers(i, min(len(f), i + 30)))
            del f[i:j]
        else:
            f[i:i] = f[i : i + draw(st.integers(1, 20))]
    return bytes(f)


@settings(max_examples=400, deadline=None)
@given(frames=st.lists(corrupted(), min_size=1, max_size=8))
def test_corrupted_frames_never_raise_and_are_counted(frames: list[bytes]) -> None:
    bus = Bus()
    published: list[Event] = []
    bus.subscribe(Event, published.append)
    d = FrameDispatcher(bus, codec=Codec(report_interval_s=1e9))
    for i, f in enumerate(frames):
        d.on_frame(f, i)
    s = d.stats()
    total = sum(s.messages.values()) + sum(s.unknown_types.values()) + sum(s.parse_errors.values()) + s.control
    assert total == len(frames)
    market = [e for e in published if isinstance(e, DepthDiff | Trade | BookTicker) or type(e).__name__ == "MarkPrice"]
    dropped = sum(s.other_symbols.values()) + s.other_overflow  # a corrupted symbol name: counted, not booked
    assert len(market) + dropped == sum(s.messages.values())
    assert bus.handler_errors == {}


def _depth_of(symbol: str) -> bytes:
    return DEPTH.replace(b'"s":"BTCUSDT"', b'"s":"' + symbol.encode() + b'"')


def test_a_closed_set_books_only_its_symbols_and_counts_the_rest() -> None:
    bus = Bus()
    seen: list[Event] = []
    bus.subscribe(Event, seen.append)
    d = FrameDispatcher(bus, symbols=["BTCUSDT"])
    d.on_frame(_depth_of("ETHUSDT"), 1)
    d.on_frame(TICKER.replace(b'"s":"BTCUSDT"', b'"s":"ETHUSDT"'), 2)
    d.on_frame(DEPTH, 3)
    assert set(d.books) == {"BTCUSDT"}
    assert [type(e).__name__ for e in seen] == ["DepthDiff"] and seen[0].symbol == "BTCUSDT"
    assert d.stats().other_symbols == {"ETHUSDT": 2}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=300))
def test_an_open_dispatcher_never_grows_past_its_bound(names: list[str]) -> None:
    """Fuzzed symbol names (437 books after fuzzing on main): bounded books, well-formed names only,
    and every frame either published (its symbol has a book) or counted as dropped."""
    bus = Bus()
    published: list[DepthDiff] = []
    bus.subscribe(DepthDiff, published.append)
    d = FrameDispatcher(bus)
    sent = 0
    for n in names:
        frame = DEPTH.replace(b'"s":"BTCUSDT"', b'"s":' + orjson.dumps(n))
        if d.codec.decode(frame, 0) is None:
            continue
        sent += 1
        d.on_frame(frame, 0)
    s = d.stats()
    assert len(d.books) <= MAX_OPEN_BOOKS and len(s.other_symbols) <= MAX_NAMED_OTHERS
    assert all(sym.isascii() and sym.isalnum() and sym.upper() == sym for sym in d.books)
    assert all(e.symbol in d.books for e in published)
    assert len(published) + sum(s.other_symbols.values()) + s.other_overflow == sent


def test_an_open_dispatcher_stops_at_max_open_books() -> None:
    d = FrameDispatcher(Bus())
    for i in range(MAX_OPEN_BOOKS + 10):
        d.on_frame(_depth_of(f"S{i}USDT"), i)
    assert len(d.books) == MAX_OPEN_BOOKS
    assert sum(d.stats().other_symbols.values()) == 10


def test_book_ticker_built_only_for_subscribers_and_counted_either_way() -> None:
    bus = Bus()
    d = FrameDispatcher(bus, symbols=["BTCUSDT"])
    d.on_frame(TICKER, 1)  # nobody subscribes: no event built, the publish still counted
    d.on_frame(TICKER.replace(b'"s":"BTCUSDT"', b'"s":"ETHUSDT"'), 2)  # another symbol: dropped as before
    assert bus.published() == {"BookTicker": 1} and d.other_symbols == {"ETHUSDT": 1}
    got: list[BookTicker] = []
    bus.subscribe(BookTicker, got.append)
    d.on_frame(TICKER, 3)
    assert [(t.recv_ns, t.bid_px, t.ask_qty) for t in got] == [(3, 63943.9, 0.095)]
    assert bus.published() == {"BookTicker": 2} and d.stats().messages == {"bookTicker": 3}
