"""The one clock: time as integer nanoseconds since the epoch, with timers.

Owns: the ``Clock`` protocol every stage is given (``now_ns()``, ``now_ms()``, ``now_s()`` and
``call_later(delay_s, fn)`` returning a cancellable ``Timer``), ``LiveClock`` (the daemon: wall
time that never steps back, timers on the running asyncio loop) and ``EventClock`` (replay and
tests: time moves only when it is told to, timers fire in due-time order).

Design:
- Integer ns is the one time: ms and s are views of it, and every name carries its unit
  (``_ns``, ``_ms``, ``_s``). Event time stays exact in replay (no float drift from summed steps).
- ``LiveClock`` reads the wall clock once, at construction, and advances it with the monotonic
  clock: a stamp is comparable with the exchange's times, and an NTP step never makes time run
  backwards inside a run (a timeout measured across a step stays right).
- ``EventClock.step(ns)`` is the replay driver's per-line call; a line with no timer due costs one
  comparison. Compiled (setup.py HOT_MODULES), ``clock.pxd`` makes ``EventClock`` a cdef class whose
  ``step`` and ``now_ns`` are C methods (~25 ns a line instead of ~50; times stay Python ints).
- ``iso_utc(ms)`` writes a time for people (logs, /health, reasons): ``2026-01-02T03:04:05Z``.

Must never: run a callback re-entrantly from inside ``call_later`` (callbacks run from the loop or
from ``advance_*``), let event time go backwards, or import anything else from ``hedge``.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


def iso_utc(ms: int) -> str:
    """Epoch milliseconds as an ISO 8601 UTC time to the second (``2026-01-02T03:04:05Z``)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now_ns(self) -> int: ...

    def now_ms(self) -> int: ...

    def now_s(self) -> float: ...

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Timer: ...


class LiveClock:
    """Wall time read once and advanced monotonically; timers on the running event loop."""

    __slots__ = ("_offset_ns",)

    def __init__(self) -> None:
        self._offset_ns = time.time_ns() - time.monotonic_ns()

    def now_ns(self) -> int:
        return self._offset_ns + time.monotonic_ns()

    def now_ms(self) -> int:
        return (self._offset_ns + time.monotonic_ns()) // 1_000_000

    def now_s(self) -> float:
        return (self._offset_ns + time.monotonic_ns()) / 1e9

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, delay_s), fn)


class _EventTimer:
    __slots__ = ("cancelled", "fn")

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class EventClock:
    """Event time in integer ns, moved only by ``step``/``advance_*``; timers fire in due order
    (then creation order), each seeing the clock at its due time."""

    def __init__(self, start_ns: int = 0) -> None:
        self._ns = start_ns
        self._heap: list[tuple[int, int, _EventTimer]] = []
        self._seq = itertools.count()

    def now_ns(self) -> int:
        return self._ns

    def now_ms(self) -> int:
        return self._ns // 1_000_000

    def now_s(self) -> float:
        return self._ns / 1e9

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Timer:
        t = _EventTimer(fn)
        heapq.heappush(self._heap, (self._ns + max(0, round(delay_s * 1e9)), next(self._seq), t))
        return t

    def pending(self) -> int:
        """Timers not yet fired nor cancelled."""
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    def step(self, ns: int) -> bool:
        """The replay driver's per-line call: move to ``ns`` and return False, or — when a timer
        (maybe a cancelled one) falls due by then — move nothing and return True (fire them with
        ``next_due_ns`` / ``advance_to_ns`` first)."""
        heap = self._heap
        if heap and heap[0][0] <= ns:
            return True
        if ns > self._ns:
            self._ns = ns
        return False

    def next_due_ns(self) -> int | None:
        """When the next live timer falls due (cancelled ones are dropped), or None."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def advance_to_ns(self, ns: int) -> None:
        """Move to ``ns``, firing every timer due by then (also those they create) at its due time;
        an earlier ``ns`` leaves the time as it is."""
        heap = self._heap
        while heap and heap[0][0] <= ns:
            due, _, t = heapq.heappop(heap)
            if t.cancelled:
                continue
            if due > self._ns:
                self._ns = due
            t.fn()
        if ns > self._ns:
            self._ns = ns

    def advance_s(self, seconds: float) -> None:
        """Move forward by ``seconds`` (rounded to whole ns), firing the timers that fall due."""
        self.advance_to_ns(self._ns + round(seconds * 1e9))
