"""Parquet tapes (hedge.feeds.parquet): any events written read back equal, in the same order."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.events import BookTicker, DepthDiff, DepthSnapshot, MarkPrice, Side, Trade
from hedge.feeds import parquet
from hedge.feeds.parquet import TapeWriter, iter_parquet, write
from hedge.feeds.recording import ReadStats, RecordedLine, iter_recording
from hedge.feeds.seen import TickerStamp

ids = st.integers(min_value=0, max_value=2**62)
ms = st.integers(min_value=0, max_value=2**45)
px = st.floats(min_value=1e-8, max_value=1e12, allow_nan=False)
qty = st.floats(min_value=0.0, max_value=1e12, allow_nan=False)
rate = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)
symbol = st.sampled_from(["BTCUSDT", "ETHUSDT", "1000PEPEUSDT"])
levels = st.lists(st.tuples(px, qty), max_size=6)


c = {"ts_ms": ms, "symbol": symbol}
event = st.one_of(
    st.builds(DepthDiff, **c, first_id=ids, final_id=ids, prev_final_id=ids, transact_ms=ms, bids=levels, asks=levels),
    st.builds(DepthSnapshot, ts_ms=ms, symbol=st.sampled_from(["", "BTCUSDT"]), last_update_id=ids, transact_ms=ms,
              bids=levels, asks=levels),
    st.builds(Trade, **c, trade_id=ids, price=px, qty=qty, taker_side=st.sampled_from(list(Side)), trade_ms=ms,
              aggregated=st.booleans()),
    st.builds(BookTicker, **c, update_id=ids, bid_px=px, bid_qty=qty, ask_px=px, ask_qty=qty, transact_ms=ms),
    st.builds(MarkPrice, **c, mark_price=px, index_price=qty, funding_rate=rate, next_funding_ms=ms, settle_price=qty),
    st.builds(RecordedLine, st.just(0), st.binary(max_size=40), st.booleans(), st.sampled_from(["", "BTCUSDT"])),
)


def in_receive_order(events: list[object]) -> list[object]:
    """The events with increasing receive times (as a recording has them)."""
    return [msgspec.structs.replace(ev, recv_ns=1_700_000_000_000_000_000 + i * 1000)  # type: ignore[type-var]
            for i, ev in enumerate(events)]


@settings(max_examples=30, deadline=None)
@given(st.lists(event, min_size=1, max_size=30), st.integers(min_value=1, max_value=9))
def test_any_events_read_back_equal_and_in_order(generated: list[object], batch: int) -> None:
    events = in_receive_order(generated)
    w = TapeWriter()
    for ev in events:
        if isinstance(ev, RecordedLine) and ev.is_snapshot:  # what the codec could not use: kept as raw bytes
            w.write_snapshot(ev.recv_ns, ev.symbol, ev.raw)
        elif isinstance(ev, RecordedLine):
            w.write_frame(ev.recv_ns, ev.raw)
        else:
            w.add(ev)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as d, mock.patch.object(parquet, "BATCH_ROWS", batch):
        path = write(Path(d) / "t.parquet", [w.take()])
        st_ = ReadStats()
        back = list(iter_parquet(path, st_))
        lean = list(iter_parquet(path, ReadStats(), tickers=False))  # nobody needs the BookTickers
    assert st_.lines == len(events)
    expected = [RecordedLine(ev.recv_ns, ev.raw, ev.is_snapshot, ev.symbol if ev.is_snapshot else "")
                if isinstance(ev, RecordedLine) else ev for ev in events]
    assert back == expected
    assert lean == [TickerStamp(ev.recv_ns, ev.symbol, ev.ts_ms) if isinstance(ev, BookTicker) else ev
                    for ev in expected]


def test_a_tape_of_the_bundled_recording_reads_as_its_frames_decode(tmp_path: Path) -> None:
    """The gz lines decoded by the codec and the tape's rows are the same events, line for line."""
    from hedge.feeds.codec import Codec
    from hedge.feeds.recording import bundled_btcusdt

    src = bundled_btcusdt()[0]
    out = tmp_path / "a.parquet"
    parquet.convert(src, out)
    codec = Codec()
    decoded = [codec.decode_snapshot(r.raw, r.symbol, r.recv_ns) if r.is_snapshot else codec.decode(r.raw, r.recv_ns)
               for r in iter_recording([src]) if isinstance(r, RecordedLine)]
    assert list(iter_recording([out])) == decoded
