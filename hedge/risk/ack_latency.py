"""Order-ack latency as the risk gate sees it: the latest measured, or the oldest unanswered request's age.

Owns: when each request was sent (until its first answer), the latest measured ack latency and
when it was measured; a measurement counts for ``risk.ack_latency_window_s``.

Must never: publish, or decide anything (``check_order`` compares the value with its limit).
"""

from __future__ import annotations

from hedge.model.clock import Clock

# Unanswered requests remembered (oldest forgotten beyond it). Every request is answered (a definite
# status, or "not sent" / unresolved as REJECTED) within seconds, so this only caps a pathological
# pile-up: 4,096 unanswered orders would long have tripped the ack-latency limit.
SENT_MEMORY = 4096


class AckLatency:
    """``sent`` on a request, ``answered`` on its first definite answer; ``value(now)`` for the gate."""

    def __init__(self, window_s: float, clock: Clock) -> None:
        self.last_ms = 0.0  # the latest measured
        self._at_ns = 0  # when it was measured
        self._window_ns = int(window_s * 1e9)
        self._clock = clock
        self._sent_ns: dict[str, int] = {}  # unanswered requests, oldest first

    def sent(self, client_order_id: str, recv_ns: int) -> None:
        self._sent_ns[client_order_id] = recv_ns or self._clock.now_ns()
        if len(self._sent_ns) > SENT_MEMORY:
            del self._sent_ns[next(iter(self._sent_ns))]

    def answered(self, client_order_id: str, recv_ns: int) -> None:
        """The order's first definite answer (not PENDING, not UNKNOWN) measures its latency."""
        sent = self._sent_ns.pop(client_order_id, 0)
        if sent:
            self._at_ns = recv_ns or self._clock.now_ns()
            self.last_ms = (self._at_ns - sent) / 1e6

    def value(self, now_ns: int) -> float:
        """The latest ack latency measured within the window, or the oldest unanswered request's age if larger."""
        measured = self.last_ms if now_ns - self._at_ns <= self._window_ns else 0.0
        if self._sent_ns:
            oldest = next(iter(self._sent_ns.values()))
            return max(measured, (now_ns - oldest) / 1e6)
        return measured
