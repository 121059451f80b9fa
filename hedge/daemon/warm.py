"""Cache warming of the decision path: the risk check and the router's decision rehearsed every few ms.

Owns: ``DecisionWarmer``, the service (``features.warm_decision_path``, live daemon only) that calls
``RiskStage.rehearse`` and ``RouterStage.rehearse`` for every traded symbol every
``WARM_INTERVAL_S`` while the engine runs.

Design: on this machine (2 shared KVM vCPUs) code that has not run for a few milliseconds runs
many times slower than hot (scripts/bench_latency.py's ``trivial_call_*``): an intent's path runs
~10 times a second between thousands of market frames, so live it always runs cold — the risk
check ~45 us live against ~3 us hot. Rehearsing the pure part of that path every 2 ms keeps its
code and data warm (measured in docs/performance.md). A rehearsal builds a probe intent and a
probe request from the current book and drops them: no count, journal line, file write, order
record, timer or event (tests/unit/test_pipeline.py proves it on a pipeline), so the engine's
state and orders are the same with the warmer on or off. Off by default: it spends CPU (a few us
per symbol per rehearsal) to buy latency.

Must never: publish, write, count or keep anything; or run in a replay (its clock is event time).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

WARM_INTERVAL_S = 0.002  # the cold price grows past ~1 ms of idle (bench_latency: 2-3 us after 1 ms, 5-7 after 20)

Rehearse = Callable[[str], object]  # a stage's rehearsal of its decision on one symbol (its result dropped)


class DecisionWarmer:
    """Rehearse each stage's decision for every symbol every ``interval_s`` (see the module docstring)."""

    name = "warm"

    def __init__(self, rehearsals: Sequence[Rehearse], symbols: Sequence[str], *,
                 interval_s: float = WARM_INTERVAL_S) -> None:
        self.rehearsals = tuple(rehearsals)
        self.symbols = tuple(symbols)
        self.interval_s = interval_s
        self.runs = 0
        self.errors = 0

    def rehearse(self) -> None:
        """One pass over every symbol (a rehearsal that raises is counted and logged, never raised)."""
        self.runs += 1
        for symbol in self.symbols:
            for rehearse in self.rehearsals:
                try:
                    rehearse(symbol)
                except Exception:
                    self.errors += 1
                    if self.errors == 1:
                        log.exception("warm: a rehearsal failed (counted from now on, not logged again)")

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            self.rehearse()
