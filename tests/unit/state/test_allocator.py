"""The allocator policy: glibc thresholds taken, free heap handed back, never on the loop thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hedge.state.allocator import AllocatorPolicy
from tests.kit.wait import wait_for

pytestmark = pytest.mark.skipif(AllocatorPolicy().libc is None, reason="glibc only")


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_trim_returns_freed_heap_to_the_kernel() -> None:
    policy = AllocatorPolicy()
    policy.trim()  # a clean start
    # Many small blocks (below any mmap threshold: from the heap), the last one kept so the
    # heap top is pinned and glibc's automatic top trim cannot return the holes below it.
    blocks = [bytearray(512) for _ in range(100_000)]
    pin = bytearray(512)
    before = _rss_kb()
    del blocks
    freed_untrimmed = _rss_kb()
    released = policy.trim()
    after = _rss_kb()
    assert released == 1 and policy.trims == 2 and policy.released >= 1
    assert freed_untrimmed - after > 20_000, (before, freed_untrimmed, after)  # >= 20 MB of 50 back
    del pin


def test_thresholds_are_taken_by_glibc() -> None:
    assert AllocatorPolicy().apply_thresholds()


async def test_the_service_trims_on_its_timer_off_the_loop_thread() -> None:
    policy = AllocatorPolicy(interval_s=0.01)
    loop_thread = threading.get_ident()
    threads: list[int] = []
    real_trim = policy.trim

    def trim() -> int:
        threads.append(threading.get_ident())
        return real_trim()

    policy.trim = trim  # type: ignore[method-assign]
    task = asyncio.create_task(policy.run())
    try:
        await wait_for(lambda: policy.trims >= 2, what="two trims")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert threads and loop_thread not in threads
