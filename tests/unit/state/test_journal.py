from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from hedge.events import Heartbeat
from hedge.state.journal import Journals, JournalWriter, ReadStats, read_journal


def test_records_are_jsonl_with_ts_kind_data(tmp_path: Path) -> None:
    w = JournalWriter(tmp_path / "events.jsonl")
    w.write("hb", Heartbeat(component="engine", recv_ns=5), ts_ns=123)
    w.write("plain", {"a": 1})
    w.close()
    lines = (tmp_path / "events.jsonl").read_bytes().splitlines()
    first = orjson.loads(lines[0])
    assert first == {"ts_ns": 123, "kind": "hb", "data": {"ts_ms": 0, "recv_ns": 5, "component": "engine",
                                                          "ok": True, "detail": ""}}
    assert orjson.loads(lines[1])["data"] == {"a": 1}


def test_buffered_until_flush(tmp_path: Path) -> None:
    w = JournalWriter(tmp_path / "j.jsonl", buffer_bytes=1 << 20)
    w.write("k", {"x": 1})
    assert (tmp_path / "j.jsonl").read_bytes() == b""
    w.flush()
    assert (tmp_path / "j.jsonl").read_bytes().count(b"\n") == 1
    w.close()


def test_append_only_across_reopen(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    w = JournalWriter(p)
    w.write("k", {"n": 1})
    w.close()
    before = p.read_bytes()
    w = JournalWriter(p)
    w.write("k", {"n": 2})
    w.close()
    after = p.read_bytes()
    assert after.startswith(before)
    assert [x.decode() for x in read_journal(p)] == [{"n": 1}, {"n": 2}]


def test_rotation_at_size_keeps_backups(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    w = JournalWriter(p, max_bytes=2000, backups=3, buffer_bytes=1)  # flush every line
    for i in range(200):
        w.write("k", {"i": i, "pad": "x" * 40})
    w.close()
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == ["j.jsonl", "j.jsonl.1", "j.jsonl.2", "j.jsonl.3"]
    for f in files:
        assert f.stat().st_size <= 2000
    assert w.rotations > 3
    # newest records are in the live file, and backups are contiguous and older
    live = [r.decode()["i"] for r in read_journal(p)]
    b1 = [r.decode()["i"] for r in read_journal(tmp_path / "j.jsonl.1")]
    assert live[-1] == 199
    assert b1[-1] + 1 == live[0]


def test_torn_last_line_is_counted_skipped_and_never_rewritten(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    w = JournalWriter(p)
    w.write("k", {"n": 1})
    w.close()
    torn = b'{"ts_ns":1,"kind":"k","da'
    with open(p, "ab") as f:
        f.write(torn)  # a crash mid-write
    w = JournalWriter(p)
    assert w.torn_on_open == 1
    w.write("k", {"n": 2})
    w.close()
    raw = p.read_bytes()
    assert torn + b"\n" in raw  # the torn bytes are still there, untouched
    stats = ReadStats()
    assert [r.decode()["n"] for r in read_journal(p, stats)] == [1, 2]
    assert stats.torn == 1 and stats.lines == 2


def test_journals_open_every_named_file(tmp_path: Path) -> None:
    j = Journals(tmp_path)
    j.write("risk_vetoes", "veto", {"reason": "nav_stale"})
    j.close()
    names = {f.name for f in tmp_path.iterdir()}
    assert {"events.jsonl", "orders_success.jsonl", "orders_failed.jsonl", "orders_denied.jsonl",
            "risk_vetoes.jsonl", "orders_executed.jsonl"} <= names
    assert b"nav_stale" in (tmp_path / "risk_vetoes.jsonl").read_bytes()


async def test_durable_lines_are_group_committed_once_per_loop_iteration(tmp_path: Path) -> None:
    js = Journals(tmp_path, names=(), durable=("orders_sent", "fills"))
    sent, fills, events = js.writer("orders_sent"), js.writer("fills"), js.writer("events")
    for i in range(3):
        sent.write("request", {"n": i})
    fills.write("fill", {"t": 1})
    events.write("hb", {"n": 0})
    assert (tmp_path / "orders_sent.jsonl").read_bytes() == b""  # nothing yet: one commit per iteration
    await asyncio.sleep(0)
    assert (tmp_path / "orders_sent.jsonl").read_bytes().count(b"\n") == 3  # in the kernel: kill -9 safe
    assert (tmp_path / "fills.jsonl").read_bytes().count(b"\n") == 1
    assert (tmp_path / "events.jsonl").read_bytes() == b""  # high-volume journals stay buffered
    g = js.group
    assert g.commits == 1 and g.seq == 4
    await g.synced(4)  # the sync thread fdatasynced both files, once
    assert g.synced_seq == 4 and g.syncs == 1 and g.sync_errors == 0
    sent.write("request", {"n": 3})
    js.group.commit()  # the router's commit before an order leaves: in the file now, not at the next turn
    assert (tmp_path / "orders_sent.jsonl").read_bytes().count(b"\n") == 4
    await g.synced(5)
    assert g.syncs == 2
    await asyncio.sleep(0)
    assert g.commits == 2  # the scheduled commit found nothing left to do
    js.close()


async def test_commits_while_a_sync_runs_are_synced_together_in_order(tmp_path: Path) -> None:
    js = Journals(tmp_path, names=())
    w = js.writer("fills")
    g = js.group
    for i in range(1, 6):  # five loop turns: one sync in flight, the later commits queue behind it
        w.write("fill", {"t": i})
        await asyncio.sleep(0)
    await g.synced(5)
    assert g.commits == 5 and 1 <= g.syncs <= 5 and g.synced_seq == 5
    js.close()
    assert [orjson.loads(x)["data"]["t"] for x in (tmp_path / "fills.jsonl").read_bytes().splitlines()] == [1, 2, 3, 4, 5]


def test_without_fsync_the_same_lines_are_written_unsynced(tmp_path: Path) -> None:
    def lines(fsync: bool) -> tuple[list[bytes], int]:
        js = Journals(tmp_path / str(fsync), names=(), fsync=fsync)
        w = js.writer("fills")
        w.write("fill", {"t": 7}, ts_ns=1)  # no running loop here: committed (and synced) at once
        assert js.group.synced_seq == 1
        return (tmp_path / str(fsync) / "fills.jsonl").read_bytes().splitlines(), js.group.syncs

    synced, n_synced = lines(True)
    unsynced, n_unsynced = lines(False)
    assert synced == unsynced == [b'{"ts_ns":1,"kind":"fill","data":{"t":7}}'] and (n_synced, n_unsynced) == (1, 0)


def test_close_syncs_only_when_the_journals_commit_with_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hedge.state.journal as journal

    synced: list[int] = []
    monkeypatch.setattr(journal.os, "fsync", synced.append)
    for fsync in (True, False):
        synced.clear()
        js = Journals(tmp_path / str(fsync), names=("events", "fills"), fsync=fsync)
        js.write("events", "k", {"x": 1})
        js.close()
        assert len(synced) == (2 if fsync else 0)  # one per journal, or none (replay)
        assert (tmp_path / str(fsync) / "events.jsonl").read_bytes().count(b"\n") == 1  # the line is written either way
