"""Parquet tapes (hedge.feeds.parquet): any events written read back equal, in the same order."""

from __future__ import annotations

import tempfile
from itertools import chain, pairwise
from pathlib import Path
from unittest import mock

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.events import BookTicker, DepthDiff, DepthSnapshot, MarkPrice, Side, Trade
from hedge.feeds import parquet
from hedge.feeds.levels import Levels
from hedge.feeds.parquet import TapeWriter, iter_parquet, write
from hedge.feeds.recording import ReadStats, RecordedLine, in_time_order, iter_recording
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
    for ev in back:  # a depth row's sides are views over the batch's columns, not lists of tuples
        if isinstance(ev, (DepthDiff, DepthSnapshot)):
            assert type(ev.bids) is Levels and type(ev.asks) is Levels
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


# receive-time steps: mostly small, some past the 1 s slack (the recorder paused; backwards)
step = st.one_of(st.integers(min_value=-400_000_000, max_value=900_000_000),
                 st.sampled_from([5_000_000_000, -3_000_000_000, 7_200_000_000_000]))


@settings(max_examples=80, deadline=None)
@given(st.lists(step, min_size=1, max_size=40), st.lists(st.integers(min_value=0, max_value=39), max_size=3),
       st.integers(min_value=1, max_value=12), st.lists(st.integers(min_value=0, max_value=40), max_size=2))
def test_tapes_drop_exactly_the_rows_the_per_row_time_check_drops(steps: list[int], corrupt: list[int], batch: int,
                                                                  cuts: list[int]) -> None:
    """``iter_recording`` over tapes checks receive times a batch at a time: the same records and
    counts as ``in_time_order`` row by row (pauses, jumps back, single corrupt times years off),
    whatever the batch size and however the rows are split into files."""
    t, times = 1_700_000_000_000_000_000, []
    for s in steps:
        t += s
        times.append(t)
    for i in corrupt:
        if i < len(times):
            times[i] += 10**17
    bounds = [0, *sorted(min(c, len(times)) for c in cuts), len(times)]
    with tempfile.TemporaryDirectory() as d, mock.patch.object(parquet, "BATCH_ROWS", batch):
        files = []
        for i, (a, b) in enumerate(pairwise(bounds)):
            w = TapeWriter()
            for k in range(a, b):
                w.add(Trade(recv_ns=times[k], symbol="BTCUSDT", ts_ms=k, trade_id=k, price=1.0, qty=1.0,
                            taker_side=Side.BUY))
            files.append(write(Path(d) / f"{i}.parquet", [w.take()]))
        fast_st, slow_st = ReadStats(), ReadStats()
        fast = list(iter_recording(files, fast_st))
        slow = list(in_time_order(chain.from_iterable(iter_parquet(f, slow_st) for f in files), slow_st))
    assert fast == slow
    assert (fast_st.lines, fast_st.bad_lines, fast_st.bad_kinds) == (slow_st.lines, slow_st.bad_lines,
                                                                      slow_st.bad_kinds)
