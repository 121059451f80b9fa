"""Clocks for the router's timers (maker timeout, TWAP slices, unknown-order resolution).

Owns: the ``Clock`` protocol (``now()`` in seconds, ``call_later(delay, fn)`` returning a
cancellable ``Timer``), ``LoopClock`` (the running asyncio loop: the daemon) and ``ManualClock``
(time moves only when ``advance()`` is called: tests and replay, so nothing sleeps).

Must never: run a callback re-entrantly from inside ``call_later``; callbacks run from the loop
(``LoopClock``) or from ``advance()`` (``ManualClock``), in due-time order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float: ...

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer: ...


class LoopClock:
    """The running event loop's monotonic clock and timers."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, delay), fn)


class _ManualTimer:
    __slots__ = ("cancelled", "due", "fn")

    def __init__(self, due: float, fn: Callable[[], None]) -> None:
        self.due = due
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that only moves when told to; due timers fire inside ``advance()``."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._heap: list[tuple[float, int, _ManualTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        t = _ManualTimer(self._now + max(0.0, delay), fn)
        heapq.heappush(self._heap, (t.due, next(self._seq), t))
        return t

    def pending(self) -> int:
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer that falls due, in order (also ones they create)."""
        self.advance_to(self._now + seconds)

    def advance_to(self, end: float) -> None:
        """Move time to ``end`` exactly (no float drift from summed steps), firing due timers."""
        while self._heap and self._heap[0][0] <= end:
            due, _, t = heapq.heappop(self._heap)
            if t.cancelled:
                continue
            self._now = max(self._now, due)
            t.fn()
        self._now = max(self._now, end)
