"""Atomic state-file writes: temp file + fsync + rename; a reader never sees a partial file."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import orjson
import pytest

from hedge.state import atomic
from hedge.state.atomic import atomic_write, tmp_path_for


def test_writes_through_fsynced_temp_then_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "nav_state.json"
    target.write_bytes(b'{"old": true}')
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append("replace")
        assert Path(src) == tmp_path_for(target) and Path(src).read_bytes() == b'{"new": 1}'
        assert target.read_bytes() == b'{"old": true}'  # untouched until the rename
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    atomic_write(target, b'{"new": 1}')
    assert calls[:2] == ["fsync", "replace"]  # the data is durable before it becomes visible
    assert calls[2:] == ["fsync"]  # then the directory entry
    assert target.read_bytes() == b'{"new": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["nav_state.json"]


def test_a_failed_write_leaves_the_previous_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "kpis.json"
    target.write_bytes(b'{"fills": 1}')

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b'{"fills": 2}')
    assert target.read_bytes() == b'{"fills": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["kpis.json"]


def test_concurrent_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "diagnostics.json"
    # Sizes from 10 B to ~400 kB, so a non-atomic writer would certainly be caught mid-write.
    payloads = [orjson.dumps({"i": i, "pad": "x" * (i * 4003 % 400_000)}) for i in range(120)]
    atomic_write(target, payloads[0])
    stop = threading.Event()
    seen: list[int] = []
    bad: list[bytes] = []

    def reader() -> None:
        while not stop.is_set():
            data = target.read_bytes()
            try:
                seen.append(orjson.loads(data)["i"])
            except orjson.JSONDecodeError:
                bad.append(data[:80])

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for p in payloads:
            atomic_write(target, p)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert bad == []
    assert len(seen) > 50 and len(set(seen)) > 5  # the readers really raced the writer
    assert orjson.loads(target.read_bytes())["i"] == 119
