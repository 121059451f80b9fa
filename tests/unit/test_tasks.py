"""``cancel_and_wait``: the child ends, its cancellation is absorbed, the caller's own cancellation is not."""

from __future__ import annotations

import asyncio

import pytest

from hedge.tasks import cancel_and_wait
from tests.kit.wait import wait_for


async def test_the_child_is_cancelled_and_awaited() -> None:
    child = asyncio.create_task(asyncio.sleep(3600))
    await cancel_and_wait(child)
    assert child.cancelled()


async def test_a_child_that_fails_on_its_way_out_says_so() -> None:
    async def fails_when_cancelled() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    child = asyncio.create_task(fails_when_cancelled())
    await asyncio.sleep(0)  # the child is inside its sleep
    with pytest.raises(RuntimeError, match="cleanup failed"):
        await cancel_and_wait(child)


async def test_an_owner_cancelled_while_it_waits_for_its_child_stays_cancelled() -> None:
    """What a websocket connection did: cancelled while it waited for its watchdog to end, it carried on."""
    dying = asyncio.Event()
    release = asyncio.Event()
    carried_on: list[str] = []

    async def slow_to_die() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            dying.set()
            await release.wait()  # its clean-up takes a while
            raise

    async def owner() -> None:
        child = asyncio.create_task(slow_to_die())
        await asyncio.sleep(0)
        await cancel_and_wait(child)
        carried_on.append("the owner went on after its own cancellation")

    task = asyncio.create_task(owner())
    await wait_for(dying.is_set, what="the child's clean-up")
    task.cancel()  # the owner is inside cancel_and_wait
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert carried_on == []
