"""hedge.handoff: an eager first step run as the new task, outcomes settled on the task's own turn."""

from __future__ import annotations

import asyncio

import pytest

from hedge.handoff import Handoff, settled, start_eager


async def test_the_first_step_runs_at_once_as_the_new_task_and_the_rest_on_the_loop() -> None:
    seen: list[object] = []
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def body() -> None:
        seen.append(asyncio.current_task())
        seen.append(await gate)
        seen.append(asyncio.current_task())

    caller = asyncio.current_task()
    task = start_eager(body())
    assert seen == [task] and asyncio.current_task() is caller  # ran here, as the new task; the caller restored
    gate.set_result("answer")
    await task
    assert seen == [task, "answer", task]


async def test_a_step_that_finishes_or_raises_is_the_task_outcome() -> None:
    async def done() -> None:
        return None

    async def fails() -> None:
        raise ValueError("refused")

    ok, bad = start_eager(done()), start_eager(fails())
    await ok
    with pytest.raises(ValueError, match="refused"):
        await bad


async def test_cancelling_the_task_reaches_the_suspended_coroutine() -> None:
    cleaned: list[str] = []

    async def body() -> None:
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            cleaned.append("finally")

    task = start_eager(body())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally"]


async def test_settled_hands_an_immediate_outcome_to_the_next_turn_and_passes_a_suspended_one() -> None:
    order: list[str] = []

    async def instant() -> str:
        return "ack"

    async def refused() -> str:
        raise ValueError("no")

    async def handle(call: object) -> None:
        try:
            order.append(await settled(call))  # type: ignore[arg-type]
        except ValueError:
            order.append("refused")

    start_eager(handle(instant()))
    start_eager(handle(refused()))
    order.append("caller")  # both outcomes wait for the tasks' own turn
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == ["caller", "ack", "refused"]

    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def slow() -> str:
        return await gate

    task = asyncio.ensure_future(settled(slow()))
    gate.set_result("late")
    assert await task == "late"


def test_the_handoff_flag_is_taken_once() -> None:
    h = Handoff()
    assert not h.take()
    h.request()
    h.request()
    assert h.take() and not h.take() and h.requests == 2
