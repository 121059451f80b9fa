"""EventClock: exact integer event time, timers in due order at their due time, never backwards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hedge.model.clock import EventClock

T0 = 1_721_347_020_984_480_942


def test_time_is_exact_ns_and_never_goes_back() -> None:
    c = EventClock(T0)
    assert (c.now_ns(), c.now_ms(), c.now_s()) == (T0, T0 // 1_000_000, T0 / 1e9)
    assert c.step(T0 + 7) is False and c.now_ns() == T0 + 7
    assert c.step(T0) is False and c.now_ns() == T0 + 7  # an older line leaves the time as it is
    c.advance_to_ns(T0 - 1)
    assert c.now_ns() == T0 + 7


def test_timers_fire_in_due_order_each_at_its_due_time() -> None:
    c = EventClock(T0)
    seen: list[tuple[str, int]] = []
    c.call_later(0.002, lambda: seen.append(("b", c.now_ns())))
    c.call_later(0.001, lambda: seen.append(("a", c.now_ns())))
    cancelled = c.call_later(0.0015, lambda: seen.append(("x", c.now_ns())))
    cancelled.cancel()
    c.call_later(0.001, lambda: c.call_later(0.0, lambda: seen.append(("a2", c.now_ns()))))  # created while firing
    assert c.step(T0 + 500_000) is False and seen == []
    assert c.step(T0 + 3_000_000) is True and c.now_ns() == T0 + 500_000  # a timer is due: nothing moved
    assert c.next_due_ns() == T0 + 1_000_000
    c.advance_to_ns(T0 + 3_000_000)
    assert seen == [("a", T0 + 1_000_000), ("a2", T0 + 1_000_000), ("b", T0 + 2_000_000)]
    assert c.now_ns() == T0 + 3_000_000 and c.pending() == 0 and c.next_due_ns() is None


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_any_set_of_timers_fires_sorted_by_due_then_creation(delays_us: list[int]) -> None:
    c = EventClock(T0)
    fired: list[tuple[int, int]] = []
    for i, d in enumerate(delays_us):
        c.call_later(d / 1e6, lambda i=i: fired.append((c.now_ns(), i)))
    c.advance_to_ns(T0 + 20_000_000)
    assert fired == sorted((T0 + d * 1000, i) for i, d in enumerate(delays_us))
