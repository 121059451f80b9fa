"""The memory probe: SIGUSR2 snapshots; the second names what grew since the first, by traceback."""

from __future__ import annotations

import asyncio
import os
import signal
import tracemalloc
from pathlib import Path

from hedge.state.memory_probe import REPORT, MemoryProbe
from tests.kit.wait import wait_for

_kept: list[bytes] = []


def _grow() -> None:
    _kept.extend(bytes(1000) + bytes([i % 256]) for i in range(2000))  # ~2 MB retained


async def test_the_second_snapshot_reports_what_grew_since_the_first(tmp_path: Path) -> None:
    probe = MemoryProbe(tmp_path)
    task = asyncio.create_task(probe.run())
    try:
        await wait_for(tracemalloc.is_tracing, what="tracing on")
        os.kill(os.getpid(), signal.SIGUSR2)
        await wait_for(lambda: probe.baseline is not None, what="the baseline snapshot")
        _grow()
        os.kill(os.getpid(), signal.SIGUSR2)
        report = await wait_for(lambda: (tmp_path / REPORT).exists() and (tmp_path / REPORT).read_text(),
                                what="the growth report")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        _kept.clear()
    first = report.split("\n#2:")[0]  # the top traceback: the allocation that grew most
    assert "#1: +" in first and "_grow" in first and "test_memory_probe.py" in first
    assert not tracemalloc.is_tracing()  # stopped with the service
