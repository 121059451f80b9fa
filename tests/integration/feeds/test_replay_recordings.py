"""Replay of the bundled real recordings: the book must match the exchange's own bookTicker.

These are the first truths the feeds must pass (docs/architecture.md): on the 8-minute BTCUSDT
stream, no gap, no crossed state, 625 bookTicker checks and 0 mismatches; on the 2021 cryptofeed
recording, all four symbols sync with no gap. Also: the replay source publishes the same events
as the live dispatcher does, deterministically, at max speed or paced; and the CLI.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hedge.bus import Bus
from hedge.events import BookState, BookTicker, BookUpdate, DepthDiff, Event, Trade
from hedge.feeds.recording import (
    RecordingWriter,
    ReplaySource,
    bundled_btcusdt,
    bundled_cryptofeed,
    iter_cryptofeed,
    iter_hftbacktest,
)
from hedge.feeds.verify import BookVerifier

ROOT = Path(__file__).resolve().parents[3]


def test_btcusdt_two_files_one_stream_matches_book_ticker() -> None:
    bus = Bus()
    verifier = BookVerifier(bus)
    src = ReplaySource(bundled_btcusdt(), bus)
    rs = src.run_sync()
    fs = src.feed_stats()
    assert rs.lines == 71984 and rs.bad_lines == 0 and rs.snapshots == 1
    assert fs.messages == {"depthUpdate": 9022, "bookTicker": 52260, "trade": 10701, "snapshot": 1}
    assert fs.gaps == 0 and fs.crossed == 0 and fs.resyncs == 0
    assert fs.books["BTCUSDT"].state == BookState.VALID
    assert fs.diffs_applied == 9017  # 9022 minus the 5 diffs older than the snapshot
    assert verifier.stats.bookticker_checks == 625
    assert verifier.stats.bookticker_mismatches == 0
    assert verifier.stats.invalid_updates == 0


def test_cryptofeed_all_four_symbols_sync_without_gaps() -> None:
    bus = Bus()
    verifier = BookVerifier(bus)
    src = ReplaySource([bundled_cryptofeed()], bus)
    rs = src.run_sync()
    fs = src.feed_stats()
    assert rs.snapshots == 4 and rs.snapshots_unattributed == 0
    assert set(fs.books) == {"SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"}
    assert all(b.state == BookState.VALID and b.snapshots_applied == 1 for b in fs.books.values())
    assert fs.gaps == 0 and fs.crossed == 0
    assert fs.unknown_types == {"kline": 67} and fs.parse_errors == {}
    assert verifier.stats.bookticker_checks > 0 and verifier.stats.bookticker_mismatches == 0


def test_cryptofeed_reader_merges_snapshots_by_time() -> None:
    recs = list(iter_cryptofeed(bundled_cryptofeed()))
    assert [r.recv_ns for r in recs] == sorted(r.recv_ns for r in recs)
    snaps = [r for r in recs if r.is_snapshot]
    assert [s.symbol for s in snaps] == ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"]
    assert snaps[0].recv_ns == 1626992741301402000


def _events(paths: list[Path], **kw: object) -> list[Event]:
    bus = Bus()
    out: list[Event] = []
    bus.subscribe(Event, out.append)
    ReplaySource(paths, bus, **kw).run_sync()  # type: ignore[arg-type]
    return out


def test_replay_is_deterministic_and_uses_recorded_times() -> None:
    a = _events(bundled_btcusdt()[:1])
    b = _events(bundled_btcusdt()[:1])
    market = [e for e in a if isinstance(e, DepthDiff | Trade | BookTicker | BookUpdate)]
    assert a == b  # every event, BookStatus included, carries recorded times only
    first = next(iter_hftbacktest(bundled_btcusdt()[:1]))
    assert market[0].recv_ns == first.recv_ns


async def test_async_replay_paced_at_a_real_time_multiple(tmp_path: Path) -> None:
    # Pace the first 0718 lines at 1000x with an injected clock: sleeps sum to the recorded span / 1000.
    lines = list(iter_hftbacktest(bundled_btcusdt()[:1]))[:300]
    path = tmp_path / "btcusdt_20240718.gz"
    with gzip.open(path, "wb") as f:
        for r in lines:
            f.write(b"%d %s\n" % (r.recv_ns, r.raw))
    now = [0.0]
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    bus = Bus()
    got: list[Event] = []
    bus.subscribe(Event, got.append)
    src = ReplaySource([path], bus, speed=1000.0, clock=lambda: now[0], sleep=sleep)
    await src.run()
    span = (lines[-1].recv_ns - lines[0].recv_ns) / 1e9
    assert sum(sleeps) == pytest.approx(span / 1000.0)
    assert got == _events([path])


def test_writer_round_trip_and_snapshot_symbol(tmp_path: Path) -> None:
    out = tmp_path / "rec.gz"
    w = RecordingWriter(out)
    w.write_frame(5, b'{"stream":"a","data":{}}')
    w.write_snapshot(6, "ETHUSDT", b'{"lastUpdateId":1,"bids":[],"asks":[]}')
    w.close()
    assert gzip.decompress(out.read_bytes()) == (
        b'5 {"stream":"a","data":{}}\n6 {"symbol":"ETHUSDT","lastUpdateId":1,"bids":[],"asks":[]}\n'
    )
    recs = list(iter_hftbacktest([out]))
    assert [(r.recv_ns, r.is_snapshot, r.symbol) for r in recs] == [(5, False, ""), (6, True, "ETHUSDT")]


def test_bad_lines_counted_not_raised(tmp_path: Path) -> None:
    p = tmp_path / "x_20240101.gz"
    with gzip.open(p, "wb") as f:
        f.write(b"garbage\n\n123 \nabc {}\n7 not-json\n")
    bus = Bus()
    src = ReplaySource([p], bus)
    rs = src.run_sync()
    assert rs.bad_lines == 3 and rs.lines == 1
    assert src.feed_stats().parse_errors == {"invalid_json": 1}


def test_truncated_gzip_is_read_up_to_the_damage(tmp_path: Path) -> None:
    data = bundled_btcusdt()[0].read_bytes()
    cut = tmp_path / "btcusdt_20240718.gz"
    cut.write_bytes(data[: len(data) // 2])  # a recorder killed mid-write
    bus = Bus()
    src = ReplaySource([cut, bundled_btcusdt()[1]], bus)
    rs = src.run_sync()
    assert list(rs.damaged) == [str(cut)] and 1000 < rs.lines < 71984
    assert src.feed_stats().books["BTCUSDT"].gaps == 1  # the lost tail of 0718 is a gap at 0719's start


def _hedge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hedge", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_cli_verify_book_prints_one_json_summary() -> None:
    r = _hedge("replay", *map(str, bundled_btcusdt()), "--verify-book")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["gaps"] == 0 and out["crossed"] == 0 and out["resyncs"] == 0
    assert out["bookticker_checks"] == 625 and out["bookticker_mismatches"] == 0
    assert out["messages"]["depthUpdate"] == 9022 and out["diffs_applied"] == 9017
    assert out["events_per_s"] > 0


def test_cli_verify_book_missing_file_exits_2() -> None:
    r = _hedge("replay", "--verify-book", "no/such/recording.gz")
    assert r.returncode == 2
    assert "no such file: no/such/recording.gz" in r.stderr


def _first_lines(n: int) -> list[bytes]:
    with gzip.open(bundled_btcusdt()[0], "rb") as f:
        return [next(f) for _ in range(n)]


def _stray(line: bytes) -> bytes:
    """The same diff as another symbol's (a stray frame of a second stream)."""
    return line.replace(b"btcusdt@depth", b"ethusdt@depth").replace(b'"s":"BTCUSDT"', b'"s":"ETHUSDT"')


def test_a_symbol_less_snapshot_is_attributed_by_the_update_id_chain(tmp_path: Path) -> None:
    """One stray frame before the snapshot left BTCUSDT unsynced for a whole file on main (two books,
    a snapshot with no symbol, a file name without one): the snapshot's update id bridges the BTCUSDT
    diffs buffered, and only those."""
    lines = _first_lines(3000)
    rec = tmp_path / "recording.gz"  # no symbol in the name
    with gzip.open(rec, "wb") as f:
        f.writelines([_stray(lines[0]), *lines])
    src = ReplaySource([rec], Bus())
    rs = src.run_sync()
    fs = src.feed_stats()
    assert rs.snapshots == 1 and rs.snapshots_unattributed == 0
    assert fs.books["BTCUSDT"].state == BookState.VALID and fs.books["BTCUSDT"].snapshots_applied == 1
    assert fs.books["ETHUSDT"].snapshots_applied == 0


def test_a_snapshot_that_bridges_no_book_is_counted_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines = _first_lines(3000)
    snap_at = next(i for i, ln in enumerate(lines) if b"lastUpdateId" in ln)
    ns, body = lines[snap_at].split(b" ", 1)
    doc = json.loads(body)
    doc["lastUpdateId"] = 1  # older than every diff: it bridges nothing
    lines[snap_at] = ns + b" " + json.dumps(doc).encode() + b"\n"
    rec = tmp_path / "recording.gz"
    with gzip.open(rec, "wb") as f:
        f.writelines([_stray(lines[0]), *lines])
    src = ReplaySource([rec], Bus())
    rs = src.run_sync()
    assert rs.snapshots == 1 and rs.snapshots_unattributed == 1
    assert src.feed_stats().books["BTCUSDT"].state != BookState.VALID
    assert any("matches no book's update ids" in r.getMessage() for r in caplog.records)
