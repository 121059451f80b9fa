"""The typed (compiled, ``clock.pxd``) ``EventClock`` keeps time and fires timers exactly as its ``.py`` does.

A random program of timers (some cancelled, some creating a timer in turn), ``step`` calls (the replay
driver's per-line call, times going back sometimes) and ``advance_to_ns`` runs on the compiled clock and on
``native.load_pure("hedge.model.clock")``'s: every answer, reading and firing (which timer, at what time)
must be equal. Skipped when the build runs the clock pure, failed then under ``HEDGE_EXPECT_COMPILED``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge import native
from hedge.model import clock as compiled_clock
from tests.kit.compiled import require_compiled

PURE = native.load_pure("hedge.model.clock")
T0 = 1_721_347_000_000_000_000

op = st.one_of(
    st.tuples(st.just("timer"), st.floats(0.0, 5.0, allow_nan=False), st.booleans(), st.booleans()),
    st.tuples(st.just("step"), st.integers(-2_000_000_000, 3_000_000_000)),
    st.tuples(st.just("advance"), st.integers(-1_000_000_000, 4_000_000_000)),
)


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    require_compiled("hedge.model.clock")


def _run(module: Any, ops: list[tuple[Any, ...]]) -> list[Any]:
    c = module.EventClock(T0)
    out: list[Any] = []

    def fire(n: int, chain: bool) -> None:
        out.append(("fired", n, c.now_ns()))
        if chain:
            c.call_later(0.25, lambda: out.append(("chained", n, c.now_ns())))

    for n, o in enumerate(ops):
        if o[0] == "timer":
            t = c.call_later(o[1], lambda n=n, chain=o[3]: fire(n, chain))
            if o[2]:
                t.cancel()
        elif o[0] == "step":
            due = c.step(c.now_ns() + o[1])
            out.append(("step", due, c.now_ns(), c.next_due_ns() if due else None))
            if due:
                c.advance_to_ns(c.now_ns() + o[1])
        else:
            c.advance_to_ns(c.now_ns() + o[1])
        out.append((c.now_ns(), c.now_ms(), c.now_s(), c.pending()))
    return out


@given(st.lists(op, max_size=60))
@settings(max_examples=150, deadline=None)
def test_compiled_clock_runs_as_the_pure_one(ops: list[tuple[Any, ...]]) -> None:
    assert _run(compiled_clock, ops) == _run(PURE, ops)
