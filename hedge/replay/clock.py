"""Replay time: the recording's event time, as every clock a replayed stage takes.

Owns: ``EventClock`` — a ``ManualClock`` (the router's timers fire when it is advanced) whose time
is the receive time of the recorded line being replayed, also read as integer ns (the risk
stage's and the router's timestamps) and ms (the matching engine's). The replay driver advances
it to each line's time before the line is handled, so timers due in between fire first, in order.

Must never: read the wall clock, or go backwards (an out-of-order line leaves the time as it is).
"""

from __future__ import annotations

from hedge.router.clock import ManualClock


class EventClock(ManualClock):
    """Seconds as float (``now``), and the same instant as ns / ms for the stages that count in those."""

    def now_ns(self) -> int:
        return round(self.now() * 1e9)

    def now_ms(self) -> int:
        return self.now_ns() // 1_000_000

    def advance_to_ns(self, ns: int) -> None:
        self.advance_to(ns / 1e9)
