"""AckLatency: the latest ack latency or the oldest unanswered request's age, with bounded memory."""

from __future__ import annotations

from hedge.model.clock import EventClock
from hedge.risk import ack_latency
from hedge.risk.ack_latency import AckLatency


def test_unanswered_requests_are_remembered_up_to_a_bound() -> None:
    acks = AckLatency(window_s=10.0, clock=EventClock())
    n = ack_latency.SENT_MEMORY + 500
    for i in range(n):  # never answered (a pathological pile-up)
        acks.sent(f"c{i}", (i + 1) * 1_000_000)
    assert len(acks._sent_ns) == ack_latency.SENT_MEMORY <= 4096
    # the oldest remembered one (c500, sent at 501 ms) still makes the gate's value
    assert acks.value(1_000_000_000) == (1_000_000_000 - 501 * 1_000_000) / 1e6
    for i in range(n):
        acks.answered(f"c{i}", n * 1_000_000 + 10_000_000)
    assert acks._sent_ns == {} and acks.last_ms == 10.0


def test_answered_requests_leave_nothing_behind() -> None:
    acks = AckLatency(window_s=10.0, clock=EventClock())
    for i in range(10_000):
        acks.sent(f"c{i}", 1_000 + i)
        acks.answered(f"c{i}", 2_000 + i)
    assert acks._sent_ns == {} and acks.last_ms == 1_000 / 1e6
