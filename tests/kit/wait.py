"""Waiting in tests: on a condition, with a deadline, never a fixed sleep.

``wait_for`` (async) and ``wait_for_sync`` poll ``cond`` until it returns something truthy and
return that value; past ``timeout`` seconds they fail with an AssertionError naming ``what``.
``cond`` may be a coroutine function (a REST call, an HTTP probe): its awaitable is awaited.
With ``wake`` (an ``asyncio.Event`` the test sets whenever something happened) ``wait_for``
re-checks on each wake-up instead of polling. The default timeout is generous (30 s): it only
bounds how long a failing test takes, so a loaded machine never turns a slow pass into a failure.

``budget_s(nominal)`` is a latency budget a test asserts (the kill switch's 2 s, a clean
shutdown's 2 s), stretched by how overloaded the machine is (the run queue per core): the test
still fails when the thing never happens or takes far longer, but not because other processes
had the cores.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_for(
    cond: Callable[[], T | Awaitable[T]],
    timeout: float = 30.0,  # noqa: ASYNC109 - a poll with its own deadline, not a cancellable call
    *,
    what: str = "condition",
    interval: float = 0.01,
    wake: asyncio.Event | None = None,
) -> T:
    """The first truthy value of ``cond()`` within ``timeout`` seconds (AssertionError if none)."""
    deadline = time.monotonic() + timeout
    while True:
        if wake is not None:
            wake.clear()
        value = cond()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")
        if wake is None:
            await asyncio.sleep(min(interval, left))
        else:
            try:
                async with asyncio.timeout(left):
                    await wake.wait()
            except TimeoutError:
                pass


def wait_for_sync(cond: Callable[[], T], timeout: float = 30.0, *, what: str = "condition",
                  interval: float = 0.05) -> T:
    """``wait_for`` for synchronous tests (a subprocess, a file written by another process)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")
        time.sleep(min(interval, left))


def budget_s(nominal: float) -> float:
    """``nominal`` seconds times the machine's overload (1-minute load per core, at least 1, at most 10)."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return nominal * min(max(load, 1.0), 10.0)
