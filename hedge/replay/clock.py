"""Replay time: the recording's event time, as every clock a replayed stage takes.

Owns: ``EventClock`` — the router's ``Clock`` (``now()`` in seconds, ``call_later``) whose time is
the receive time of the recorded line being replayed, kept as exact integer ns and also read as
ns (the risk stage's and the router's timestamps) and ms (the matching engine's). The replay
driver advances it to each line's time before the line is handled; timers due up to that time
fire first, in due-time order (then creation order), each seeing the clock at its due time
(``next_due_ns`` lets the driver stop at each due time to let the venue calls it caused finish).

Design: not ``hedge.router.clock.ManualClock`` (float seconds) because every replayed line moves
the clock: integer ns keeps event time exact, and a line with no timer due costs one comparison.

Must never: read the wall clock, go backwards (an older line leaves the time as it is), or fire a
timer from inside ``call_later``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from hedge.router.clock import Timer


class _EventTimer:
    __slots__ = ("cancelled", "fn")

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class EventClock:
    """Event time in integer ns, with timers (see the module docstring)."""

    def __init__(self, start_ns: int = 0) -> None:
        self._ns = start_ns
        self._heap: list[tuple[int, int, _EventTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._ns / 1e9

    def now_ns(self) -> int:
        return self._ns

    def now_ms(self) -> int:
        return self._ns // 1_000_000

    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        t = _EventTimer(fn)
        heapq.heappush(self._heap, (self._ns + max(0, round(delay * 1e9)), next(self._seq), t))
        return t

    def pending(self) -> int:
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    def step(self, ns: int) -> bool:
        """The driver's per-line call: move to ``ns`` and return False, or — when a timer (maybe a
        cancelled one) falls due by then — move nothing and return True (fire them with
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
        """Move to ``ns``, firing every timer due by then (also those they create) at its due time."""
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
