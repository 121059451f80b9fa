"""GroupCommit: which lines an order waits for, and a waiter's sync started beside a running one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedge.state import group_commit
from hedge.state.group_commit import GroupCommit
from hedge.state.journal import Journals, JournalWriter
from tests.kit.wait import wait_for


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> list[threading.Event]:
    """Every fdatasync batch blocks on its own gate (opened by the test, in any order)."""
    gates: list[threading.Event] = []
    lock = threading.Lock()
    real = group_commit.run_sync_jobs

    def run(jobs: list[group_commit.SyncJob]) -> int:
        gate = threading.Event()
        with lock:
            gates.append(gate)
        gate.wait(30)
        return real(jobs)

    monkeypatch.setattr(group_commit, "run_sync_jobs", run)
    return gates


@pytest.fixture
def fills(tmp_path: Path) -> Iterator[tuple[GroupCommit, JournalWriter]]:
    """The group commit and the fills journal of fresh journals (closed after the test)."""
    js = Journals(tmp_path, names=())
    yield js.group, js.writer("fills")
    js.close()


async def test_request_lines_are_not_a_barrier_answers_and_fills_are(tmp_path: Path) -> None:
    js = Journals(tmp_path, names=())
    g = js.group
    js.writer("fills").write("fill", {"t": 1})
    assert (g.seq, g.barrier_seq) == (1, 1)
    js.writer("orders_sent").write("request", {"t": 2})  # another order's request: nobody waits for it
    assert (g.seq, g.barrier_seq) == (2, 1)
    js.writer("order_updates").write("update", {"t": 3})
    assert (g.seq, g.barrier_seq) == (3, 3)
    await g.synced(3)
    js.close()


async def test_a_waiter_gets_its_own_sync_beside_the_running_one_and_order_is_kept(
    fills: tuple[GroupCommit, JournalWriter], gated: list[threading.Event]
) -> None:
    g, w = fills
    w.write("fill", {"t": 1})
    await asyncio.sleep(0)  # committed; its sync runs (held at the gate)
    await wait_for(lambda: len(gated) == 1, timeout=10)
    w.write("fill", {"t": 2})
    waiter = asyncio.ensure_future(g.synced(2))  # an order waits for line 2: not covered by the running sync
    await wait_for(lambda: len(gated) == 2, timeout=10)  # started at once, not after the first one
    assert g.urgent_syncs == 1
    gated[1].set()  # the second returns first: line 2 is on disk, line 1 maybe not yet
    await wait_for(lambda: g.syncs == 1, timeout=10)
    assert g.synced_seq == 0 and not waiter.done()
    gated[0].set()
    await asyncio.wait_for(waiter, 10)
    assert g.synced_seq == 2 and g.syncs == 2 and g.sync_errors == 0


async def test_without_a_waiter_later_commits_queue_behind_the_running_sync(
    fills: tuple[GroupCommit, JournalWriter], gated: list[threading.Event]
) -> None:
    g, w = fills
    for i in range(3):
        w.write("fill", {"t": i})
        await asyncio.sleep(0)
    await wait_for(lambda: len(gated) == 1, timeout=10)
    assert g.commits == 3 and g.urgent_syncs == 0
    gated[0].set()
    await wait_for(lambda: len(gated) == 2, timeout=10)  # the queued ones, together
    gated[1].set()
    await asyncio.wait_for(g.synced(3), 10)
    assert g.syncs == 2
