"""The alert dispatcher: the wall between the engine and slow or failing notifiers.

Owns: one bounded queue per notifier, the worker task that drains it, the per-send timeout and
the alert counters (raised, sent, failed, dropped, deduplicated). ``offer()`` is synchronous,
O(1) and never raises: when a notifier's queue is full the oldest alert is dropped and counted
(the newest state matters most). A send that fails or exceeds ``timeout_s`` is counted and
logged once per interval with its text masked; the worker goes on with the next alert.

Must never: let the engine wait on a network call, let a notifier's exception escape, or log a
secret (notifier errors are masked before logging).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence

from hedge.events import Alert
from hedge.model.clock import Clock, LiveClock
from hedge.state.alerts.notifier import Notifier
from hedge.state.masking import Masker
from hedge.state.schemas import AlertStats

log = logging.getLogger(__name__)

_LOG_EVERY_S = 30.0


class _Lane:
    def __init__(self, notifier: Notifier, maxsize: int) -> None:
        self.notifier = notifier
        self.queue: deque[Alert] = deque(maxlen=maxsize)
        self.wake = asyncio.Event()


class AlertDispatcher:
    """A service (``name`` + ``run()``) delivering alerts to every notifier, off the hot path."""

    name = "alerts"

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        *,
        queue_size: int = 256,
        timeout_s: float = 5.0,
        masker: Masker | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or LiveClock()
        self.lanes = [_Lane(n, queue_size) for n in notifiers]
        self.timeout_s = timeout_s
        self.masker = masker or Masker()
        self.stats = AlertStats()
        self._last_log: dict[str, float] = {}

    def offer(self, alert: Alert) -> None:
        """Queue ``alert`` for every notifier. Never blocks, never raises."""
        for lane in self.lanes:
            if len(lane.queue) == lane.queue.maxlen:
                self.stats.dropped += 1
            lane.queue.append(alert)
            lane.wake.set()

    def snapshot(self) -> AlertStats:
        st = self.stats
        return AlertStats(
            raised=st.raised, sent=st.sent, failed=st.failed, dropped=st.dropped, deduplicated=st.deduplicated
        )

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._drain(lane), name=f"alerts:{lane.notifier.name}") for lane in self.lanes]
        try:
            if tasks:
                await asyncio.gather(*tasks)
            else:
                await asyncio.Event().wait()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for lane in self.lanes:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(lane.notifier.aclose(), 1.0)

    async def _drain(self, lane: _Lane) -> None:
        while True:
            if not lane.queue:
                lane.wake.clear()
                await lane.wake.wait()
                continue
            alert = lane.queue.popleft()
            try:
                await asyncio.wait_for(lane.notifier.send(alert), self.timeout_s)
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                self._failed(lane.notifier.name, f"no answer within {self.timeout_s:g} s")
            except Exception as exc:
                self._failed(lane.notifier.name, f"{type(exc).__name__}: {exc}")
            else:
                self.stats.sent += 1

    def _failed(self, notifier: str, what: str) -> None:
        self.stats.failed += 1
        now = self.clock.now_s()
        if now - self._last_log.get(notifier, -_LOG_EVERY_S) >= _LOG_EVERY_S:
            self._last_log[notifier] = now
            log.warning(
                "alerts: %s could not deliver (%s); %d failed so far", notifier, self.masker.mask(what),
                self.stats.failed,
            )
