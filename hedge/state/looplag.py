"""The event-loop lag probe: how late the loop runs a task that asked to wake on time.

Owns: one small periodic task that sleeps ``interval_s`` and records how much later than asked it
woke up (a busy hot path, a blocking call or GC pauses all show up here) into ``Telemetry``.

Clock: reads ``time.perf_counter()`` directly, on purpose: the lag is a real duration (how late
the event loop woke), which no injected clock could measure (tests/unit/model/test_clock_usage.py).

Must never: do anything else on its wake-up; its own cost is one sleep per interval.
"""

from __future__ import annotations

import asyncio
import time

from hedge.state.telemetry import Telemetry


class LoopLagProbe:
    name = "loop-lag-probe"

    def __init__(self, telemetry: Telemetry, interval_s: float = 0.5) -> None:
        self.telemetry = telemetry
        self.interval_s = interval_s

    async def run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            self.telemetry.observe_loop_lag(max(0.0, time.perf_counter() - t0 - self.interval_s))
