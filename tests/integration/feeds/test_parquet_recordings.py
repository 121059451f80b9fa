"""Parquet tapes end to end: converted recordings replay like their source (same fingerprints, same
events), ``hedge record --format parquet`` survives ``kill -9`` with readable files, and the local
exchange plays a tape as its market."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp
import pyarrow.parquet as pq
import pytest

from hedge.bus import Bus
from hedge.events import DepthDiff, Event
from hedge.feeds.codec import Codec
from hedge.feeds.parquet import convert
from hedge.feeds.recording import ReadStats, ReplaySource, bundled_btcusdt, bundled_cryptofeed, iter_recording
from hedge.replay.summary import ReplaySummary
from tests.integration.feeds.fake_binance import FakeBinance
from tests.integration.feeds.recorded import CHAIN_RAW
from tests.kit.exchange import running_exchange
from tests.kit.replay import classic_config, run_replay
from tests.kit.wait import wait_for

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bundled_tapes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("tapes")
    outs = [d / f.name.replace(".gz", ".parquet") for f in bundled_btcusdt()]
    for src, out in zip(bundled_btcusdt(), outs, strict=True):
        convert(src, out)
    return outs


def _same_run(a: ReplaySummary, b: ReplaySummary) -> None:
    assert a.fingerprint == b.fingerprint
    assert (a.events, a.lines, a.fills, a.pnl, a.bad_lines) == (b.events, b.lines, b.fills, b.pnl, b.bad_lines)


@pytest.mark.slow
def test_a_tape_replays_with_the_fingerprints_of_its_gz_source(
    bundled_tapes: list[Path], bundled_replay: tuple[ReplaySummary, Path],
    classic_replay: tuple[ReplaySummary, Path], tmp_path: Path,
) -> None:
    _same_run(run_replay(tmp_path / "d", files=bundled_tapes)[0], bundled_replay[0])
    classic = run_replay(tmp_path / "c", classic_config(), files=bundled_tapes)[0]
    assert classic.fills > 0  # the classic profile trades: the fingerprint covers real decisions
    _same_run(classic, classic_replay[0])


def _published(files: list[Path]) -> tuple[list[Event], dict[str, int]]:
    bus = Bus()
    seen: list[Event] = []
    bus.subscribe(Event, seen.append)
    src = ReplaySource(files, bus)
    src.run_sync()
    return seen, src.feed_stats().messages


def test_a_cryptofeed_recording_converts_to_a_tape_that_publishes_the_same_events(tmp_path: Path) -> None:
    src = bundled_cryptofeed().parent
    out = tmp_path / "cf.parquet"
    w = convert(src, out)
    assert w.snapshots >= 4 and w.rows > 1000  # REST snapshots merged in by time, 4 symbols
    assert len(set(pq.read_table(out, columns=["symbol"]).column("symbol").to_pylist()) - {""}) == 4
    gz_events, gz_counts = _published([src])
    tape_events, tape_counts = _published([out])
    assert tape_counts == gz_counts
    assert len(tape_events) > 1000 and tape_events == gz_events


def test_frames_the_codec_cannot_use_are_kept_and_counted_alike(tmp_path: Path) -> None:
    src = tmp_path / "btcusdt_20240101.gz"
    lines = [b'{"result":null,"id":1}', b'{"e":"kline","E":1,"s":"BTCUSDT"}', b'{"e":"depthUpdate","E":"x"}',
             b"not json", CHAIN_RAW[0]]
    import gzip

    src.write_bytes(gzip.compress(b"".join(b"%d %s\n" % (1_700_000_000_000_000_000 + i, ln)
                                           for i, ln in enumerate(lines))))
    out = tmp_path / "t.parquet"
    convert(src, out)
    assert pq.read_table(out, columns=["kind"]).column("kind").to_pylist() == ["frame"] * 4 + ["depth"]
    a, b = ReplaySource([src], Bus()), ReplaySource([out], Bus())
    a.run_sync()
    b.run_sync()
    assert b.feed_stats() == a.feed_stats()
    assert b.dispatcher.codec.stats.errors == {"bad_depthUpdate": 1, "invalid_json": 1}


def _depth_rows(files: list[Path]) -> list[DepthDiff]:
    return [r for r in iter_recording(files, ReadStats()) if isinstance(r, DepthDiff)]


@pytest.mark.slow
async def test_record_parquet_killed_leaves_readable_files(tmp_path: Path) -> None:
    """kill -9 mid-stream: every file left is a complete tape holding the frames in order (a prefix)."""
    out = tmp_path / "rec"
    fake = FakeBinance([(0, len(CHAIN_RAW), "idle")])
    async with fake.running():
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hedge", "record", "--symbols", "BTCUSDT", "--out", str(out), "--format", "parquet",
            "--flush-seconds", "0.2", "--roll-minutes", "0.01", "--streams", "depth",
            "--ws-url", f"ws://127.0.0.1:{fake.ws_port}", "--rest-url", f"http://127.0.0.1:{fake.rest_port}",
            "--config", str(ROOT / "configs"), cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            # two files rolled and the stream still running: kill it mid-write
            await wait_for(lambda: len(list(out.glob("*.parquet"))) >= 2 and fake.sent_upto < len(CHAIN_RAW) - 50, 60)
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
    files = sorted(out.glob("*.parquet"))
    assert len(files) >= 2
    for f in files:
        assert pq.ParquetFile(f).metadata.num_rows > 0  # a footer: the file is complete
    codec = Codec()
    sent = [codec.decode(raw, 0) for raw in CHAIN_RAW]
    got = _depth_rows(files)
    assert len(got) > 0
    first = next(i for i, ev in enumerate(sent) if ev is not None and ev.final_id == got[0].final_id)
    assert [(e.final_id, e.bids, e.asks) for e in got] == [
        (e.final_id, e.bids, e.asks) for e in sent[first : first + len(got)] if e is not None]
    src = ReplaySource([out], Bus())  # the directory: its tapes in name (= time) order
    src.run_sync()
    assert src.stats.lines == sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    assert src.feed_stats().gaps == 0 and src.feed_stats().books["BTCUSDT"].state == "VALID"


async def test_the_local_exchange_plays_a_tape_as_its_market(bundled_tapes: list[Path]) -> None:
    async with running_exchange(market=bundled_tapes, speed=50.0) as ex:
        assert ex.market_files == bundled_tapes
        await wait_for(lambda: ex.player.events_played > 100, 30)
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{ex.port}/fapi/v1/depth", params={"symbol": "BTCUSDT"}) as r:
            body = json.loads(await r.text())
    assert r.status == 200 and body["bids"] and body["asks"]
    assert float(body["bids"][0][0]) < float(body["asks"][0][0])
    assert body["lastUpdateId"] >= _depth_rows(bundled_tapes)[0].prev_final_id
