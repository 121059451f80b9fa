"""The block reader equals the reference line reader: hypothesis, in both builds of ``hedge.feeds.linescan``.

The reference is the reader a line at a time (``read_lines`` -> ``_hftbacktest_records`` ->
``in_time_order``); the block reader (``iter_recording``: ``read_blocks`` -> ``parse_block`` ->
``TimeOrder``) must give the same records and the same ``ReadStats`` (lines, bad lines by kind,
damage) on random lines (odd receive times, snapshots, blank and binary lines, CR endings, jumps and
corrupt times), split into random blocks, and on gzip files cut anywhere.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from functools import partial
from itertools import chain
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedge import native
from hedge.feeds import linescan as loaded
from hedge.feeds import recording
from hedge.feeds.recording import (
    TIME_LOOKAHEAD,
    TIME_SLACK_NS,
    ReadStats,
    RecordedLine,
    in_time_order,
    iter_recording,
    out_of_order,
    read_lines,
    time_confirmed,
)
from tests.kit.compiled import require_compiled

T = TypeVar("T")
PURE = native.load_pure("hedge.feeds.linescan")
T0 = 1_721_260_800_000_000_000
FRAME = b'{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate"}}'
SNAP = b'{"lastUpdateId":5,"bids":[],"asks":[]}'


@pytest.fixture(scope="module", params=["compiled", "pure"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "pure":
        return PURE
    require_compiled("hedge.feeds.linescan")
    return loaded


_steps = st.sampled_from([0, 1, 1_000_000, 400_000_000, 999_999_999, 1_000_000_001, 5_000_000_000,
                          -500_000_000, -1_000_000_001, -3_000_000_000, 10**17, -(10**17)])
_odd_prefix = st.sampled_from([b"", b" ", b"+", b"-", b"0", b"1_2", b"\t", b"x", b"12345678901234567890",
                               b"99999999999999999999999", b"\xef\xbc\x91"])
_body = st.sampled_from([FRAME, SNAP, b'{"symbol":"ethusdt",' + SNAP[1:], b'{"e":"trade"}', b"{", b"",
                         FRAME + b"\r", FRAME + b"\r\r", b'{"stream"', b"\xff\x00 binary", b"  "])


@st.composite
def _lines(draw: st.DrawFn) -> list[bytes]:
    """Mostly plain frame lines on a clock with jumps and corrupt times; some odd lines of every kind."""
    t = draw(st.sampled_from([T0, 0, 5]))
    out = []
    for _ in range(draw(st.integers(0, 60))):
        t = max(0, t + draw(_steps))
        kind = draw(st.integers(0, 9))
        if kind < 6:
            out.append(b"%d %s" % (t, FRAME))
        elif kind == 6:
            out.append(b"%d %s" % (t, draw(_body)))
        elif kind == 7:
            out.append(draw(_odd_prefix) + b"%d" % t + draw(st.sampled_from([b" ", b"  ", b"\t", b""])) + draw(_body))
        else:
            out.append(draw(st.binary(max_size=30)).replace(b"\n", b""))
    return out


def _reference(lines: list[bytes], st_: ReadStats) -> list[RecordedLine]:
    return list(in_time_order(recording._hftbacktest_records(lines, "BTCUSDT", st_), st_))


def _split(items: list[T], cuts: list[int]) -> Iterator[list[T]]:
    i = 0
    for c in sorted(cuts):
        yield items[i:c]
        i = c
    yield items[i:]


@settings(max_examples=300, deadline=None)
@given(lines=_lines(), cuts=st.lists(st.integers(0, 60), max_size=5))
def test_blocks_give_the_reference_records_and_counts(impl: ModuleType, lines: list[bytes], cuts: list[int]) -> None:
    ref_st = ReadStats()
    expected = _reference(lines, ref_st)
    got_st = ReadStats()
    slow = partial(recording._hftbacktest_record, name_symbol="BTCUSDT", st=got_st)
    order = impl.TimeOrder(TIME_SLACK_NS, TIME_LOOKAHEAD, time_confirmed, partial(out_of_order, st=got_st))
    got: list[RecordedLine] = []
    for part in _split(lines, cuts):
        block = b"".join(x + b"\n" for x in part)
        assert impl.count_lines(block) == len(part) == block.count(b"\n")
        recs = impl.parse_block(block, RecordedLine, slow)
        got_st.lines += len(recs)
        got += order.feed(recs)
    got += order.flush()
    assert got == expected
    assert got_st == ref_st


@settings(max_examples=200, deadline=None)
@given(times=st.lists(st.one_of(st.integers(0, 2**63), st.integers(T0 - 3 * 10**9, T0 + 3 * 10**9),
                                st.integers(-5, 10**30)), max_size=40),
       cuts=st.lists(st.integers(0, 40), max_size=6), last=st.sampled_from([-1, T0, 2**70]))
def test_time_order_in_any_batches_equals_in_time_order(impl: ModuleType, times: list[int], cuts: list[int],
                                                        last: int) -> None:
    recs = [RecordedLine(t, b"%d" % i) for i, t in enumerate(times)]
    ref_st, got_st = ReadStats(), ReadStats()
    expected = list(in_time_order(recs, ref_st, last=last))
    order = impl.TimeOrder(TIME_SLACK_NS, TIME_LOOKAHEAD, time_confirmed, partial(out_of_order, st=got_st), last)
    got = list(chain.from_iterable(order.feed(part) for part in _split(recs, cuts))) + order.flush()
    assert got == expected and got_st == ref_st


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(lines=_lines(), cut=st.floats(0.0, 1.0), end=st.booleans())
def test_a_gzip_file_cut_anywhere_reads_as_the_reference(impl: ModuleType, tmp_path: Path, lines: list[bytes],
                                                         cut: float, end: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole reader on a file (``read_blocks``, small chunks, a cut gzip stream), every inflater."""
    monkeypatch.setattr(recording, "parse_block", impl.parse_block)
    monkeypatch.setattr(recording, "TimeOrder", impl.TimeOrder)
    monkeypatch.setattr(recording, "READ_CHUNK", 97)
    data = gzip.compress(b"\n".join(lines) + (b"\n" if end else b""), compresslevel=1, mtime=0)
    cut_at = max(2, int(len(data) * cut))
    path = tmp_path / "btcusdt_20240718.gz"
    path.write_bytes(data[:cut_at])
    whole = b"\n".join(lines) + (b"\n" if end else b"")
    for name, (opener, errors) in recording.gzip_readers().items():
        monkeypatch.setattr(recording, "_INFLATER", (name, opener, errors))
        ref_st = ReadStats()
        expected = _reference(list(read_lines(path, ref_st.damage)), ref_st)
        got_st = ReadStats()
        assert list(iter_recording([path], got_st)) == expected
        assert got_st == ref_st
        if cut_at == len(data):  # intact: every line, as split by hand
            assert list(read_lines(path)) == ((whole[:-1] if end else whole).split(b"\n") if whole else [])
