"""``hedge record`` as a subprocess against the local Binance-like server, then replayed.

The recording must hold every frame byte for byte as the server sent it, with receive times,
plus the snapshot the book needed (with its symbol); replaying it must sync the book with no gap.
"""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import signal
import sys
from pathlib import Path

from hedge.bus import Bus
from hedge.config import FeedsConfig
from hedge.events import BookUpdate, DepthDiff, Event
from hedge.feeds.connection import Endpoints
from hedge.feeds.market import MarketFeed
from hedge.feeds.recording import RecordingWriter, ReplaySource, iter_hftbacktest
from tests.integration.feeds.fake_binance import FakeBinance
from tests.integration.feeds.recorded import CHAIN, CHAIN_RAW
from tests.kit.wait import wait_for

ROOT = Path(__file__).resolve().parents[3]


async def test_record_then_replay(tmp_path: Path) -> None:
    out = tmp_path / "rec.gz"
    fake = FakeBinance([(0, 400, "idle")])
    async with fake.running():
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hedge", "record", "--symbols", "BTCUSDT", "--out", str(out),
            "--streams", "depth", "--ws-url", f"ws://127.0.0.1:{fake.ws_port}",
            "--rest-url", f"http://127.0.0.1:{fake.rest_port}", "--config", str(ROOT / "configs"),
            cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            # stopped (SIGTERM: an orderly stop) once it has read all 400 frames, not after a fixed time: on a
            # loaded machine 3 s of recording held only part of them
            await wait_for(lambda: fake.delivered_upto >= 399, 60, what="the recorder reading all 400 frames",
                           interval=0.05)
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    summary = json.loads(stdout.decode().strip().splitlines()[-1])
    assert summary["snapshots"] == 1 and summary["books"] == {"BTCUSDT": "VALID"}
    recs = list(iter_hftbacktest([out]))
    frames = [r for r in recs if not r.is_snapshot and b"depthUpdate" in r.raw]
    assert [r.raw for r in frames] == CHAIN_RAW[:400]  # exactly as received
    assert all(a.recv_ns <= b.recv_ns for a, b in itertools.pairwise(recs))
    snaps = [r for r in recs if r.is_snapshot]
    assert len(snaps) == 1 and snaps[0].symbol == "BTCUSDT"
    assert gzip.decompress(out.read_bytes()).count(b"\n") == len(recs)
    bus = Bus()
    src = ReplaySource([out], bus)
    src.run_sync()
    st = src.feed_stats()
    assert st.gaps == 0 and st.books["BTCUSDT"].state == "VALID"
    assert src.dispatcher.book("BTCUSDT").last_u == CHAIN[399].final_id


async def test_live_events_equal_replayed_events(tmp_path: Path) -> None:
    """The live feed (tapped by the recorder) and the replay of what it recorded publish the same events."""
    out = tmp_path / "live.gz"
    fake = FakeBinance([(0, 200, "drop"), (230, 169, "idle")])
    live: list[Event] = []
    async with fake.running():
        writer = RecordingWriter(out)
        bus = Bus()
        bus.subscribe(Event, live.append)
        cfg = FeedsConfig(streams=["depth"], watchdog_s=5.0, snapshot_min_interval_s=0.05)
        ep = Endpoints(f"ws://127.0.0.1:{fake.ws_port}", f"http://127.0.0.1:{fake.rest_port}")
        feed = MarketFeed(cfg, ["BTCUSDT"], bus, ep, tap=writer, delays=lambda n: 0.01)
        task = asyncio.create_task(feed.run())
        try:
            await wait_for(lambda: feed.dispatcher.book("BTCUSDT").last_u == CHAIN[398].final_id, 20)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            writer.close()
    assert feed.stats().snapshots_applied == 2
    replayed: list[Event] = []
    bus2 = Bus()
    bus2.subscribe(Event, replayed.append)
    ReplaySource([out], bus2).run_sync()
    # The disconnect itself is not in the stream: drop connection-status events and the
    # invalidation the drop caused (the replay sees the gap on the next diff instead).
    def market(evs: list[Event]) -> list[Event]:
        return [e for e in evs if isinstance(e, DepthDiff) or (isinstance(e, BookUpdate) and e.valid)]

    assert market(live) == market(replayed)
    assert len([e for e in market(live) if isinstance(e, BookUpdate)]) > 300
