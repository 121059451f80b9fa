"""A feed counts the bookTickers it does not publish (``TickerSeen``) in telemetry's containers: the
surfaces get exactly what they would had each been published (last-seen stamps, last data by symbol,
feed lag, bus counts, bad input), whatever the order of the receive times."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.bus import Bus
from hedge.events import BookTicker
from hedge.feeds.dispatch import FrameDispatcher
from hedge.model.clock import EventClock
from hedge.state.telemetry import Telemetry
from tests.unit.feeds.test_codec import DEPTH, TICKER, TRADE


def ticker(symbol: str, event_ms: int) -> bytes:
    return TICKER.replace(b'"s":"BTCUSDT"', f'"s":"{symbol}"'.encode()).replace(
        b'"E":1721347022508', f'"E":{event_ms}'.encode())


@st.composite
def frames(draw: st.DrawFn) -> tuple[bytes, int]:
    kind = draw(st.sampled_from(["ticker", "ticker", "ticker", "bad_ticker", "depth", "trade"]))
    recv = draw(st.sampled_from([0, draw(st.integers(1, 4 * 10**18))]))
    if kind == "ticker":
        raw = ticker(draw(st.sampled_from(["BTCUSDT", "ETHUSDT", "XRPUSDT"])), draw(st.integers(0, 4 * 10**15)))
    elif kind == "bad_ticker":  # a malformed one: counted as bad input, never stamped
        raw = TICKER.replace(b'"b":"63943.90"', draw(st.sampled_from([b'"b":"-1"', b'"b":"nan"', b'"b":"x"'])))
    else:
        raw = DEPTH if kind == "depth" else TRADE
    return raw, recv


def _run(lines: list[tuple[bytes, int]], *, subscriber: bool, lag: bool) -> tuple[object, ...]:
    bus, clock = Bus(), EventClock()
    t = Telemetry(clock)
    t.attach(bus)
    if subscriber:  # a real consumer: every BookTicker is built and published
        bus.subscribe(BookTicker, lambda ev: None)
    d = FrameDispatcher(bus, symbols=["BTCUSDT", "ETHUSDT"])
    t.track_feed_lag = lag
    t.watch_feed(d.tickers)
    for i, (raw, recv) in enumerate(lines):
        clock.advance_to_ns(10**9 * (i + 1))
        d.on_frame(raw, recv)
    h = t.feed_lag
    return (t.last_seen_ns, t.last_data_ns, (h.counts, h.count, h.sum), bus.published(), d.stats(),
            t.last_event_ages_s(clock.now_ns()))


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(frames(), max_size=30), lag=st.booleans())
def test_pulled_figures_equal_published_ones(lines: list[tuple[bytes, int]], lag: bool) -> None:
    lean = _run(lines, subscriber=False, lag=lag)
    assert lean == _run(lines, subscriber=True, lag=lag)


def test_no_event_is_built_without_a_real_subscriber_and_none_is_counted_twice() -> None:
    bus, t = Bus(), Telemetry(EventClock())
    t.attach(bus)
    d = FrameDispatcher(bus, symbols=["BTCUSDT"])
    t.watch_feed(d.tickers)
    assert not bus.wants(BookTicker)  # telemetry's subscription is passive
    d.on_frame(ticker("BTCUSDT", 1_000), 2 * 10**9)
    assert d.tickers.last_ns == 2 * 10**9 and t.feed_lag.count == 1 and t.feed_lag.sum == 1.0
    got: list[BookTicker] = []
    bus.subscribe(BookTicker, got.append)  # a real consumer from now on: published, not stamped
    d.on_frame(ticker("BTCUSDT", 2_000), 3 * 10**9)
    assert len(got) == 1
    assert t.last_seen_ns[BookTicker] == 3 * 10**9 and t.last_data_ns == {"BTCUSDT": 3 * 10**9}
    assert t.feed_lag.count == 2 and bus.published() == {"BookTicker": 2}
