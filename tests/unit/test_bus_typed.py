"""The typed (compiled, ``bus.pxd``) bus delivers exactly what its ``.py`` does as plain Python.

Random subscriptions (plain, per symbol, passive, urgent, through the base class, a handler that raises, one
that publishes in turn) and a random stream of events go through the compiled ``Bus`` and through
``native.load_pure("hedge.bus")``'s: every delivery (handler, event), the publish counts, the handler errors
and ``publish_needed``'s answers must be equal, in the same order. Skipped when the build runs the bus pure,
failed then under ``HEDGE_EXPECT_COMPILED``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge import bus as compiled_bus
from hedge import native
from hedge.events import BookTicker, BookUpdate, Event, Heartbeat, Side, Trade
from tests.kit.compiled import require_compiled

PURE = native.load_pure("hedge.bus")
TOPICS: tuple[type[Event], ...] = (BookTicker, Trade, BookUpdate, Event, Heartbeat)
SYMBOLS = (None, "A", "B")

subscription = st.tuples(st.sampled_from(range(len(TOPICS))), st.sampled_from(SYMBOLS), st.booleans(),
                         st.sampled_from(("log", "raise", "spawn", "beat")), st.booleans())
event = st.tuples(st.sampled_from(("tick", "trade", "book", "hb")), st.sampled_from(("A", "B", "C")))


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    require_compiled("hedge.bus")


def _event(kind: str, sym: str, i: int) -> Event:
    if kind == "tick":
        return BookTicker(symbol=sym, update_id=i, bid_px=1.0, bid_qty=1.0, ask_px=2.0, ask_qty=1.0)
    if kind == "trade":
        return Trade(symbol=sym, trade_id=i, price=1.0, qty=1.0, taker_side=Side.BUY)
    if kind == "book":
        return BookUpdate(symbol=sym, update_id=i, valid=True, bid_px=1.0, bid_qty=1.0, ask_px=2.0, ask_qty=1.0, mid=1.5,
                          micro=1.5, imbalance=0.0, spread_bps=1.0)
    return Heartbeat(component=sym)


def _run(module: Any, subs: list[tuple[int, str | None, bool, str, bool]], events: list[tuple[str, str]]) -> Any:
    bus = module.Bus()
    log: list[tuple[int, Event]] = []
    spawned = [100_000]

    def handler(n: int, kind: str) -> Any:
        def h(e: Event) -> None:
            log.append((n, e))
            if kind == "raise":
                raise ValueError(n)
            if kind == "spawn" and isinstance(e, Trade) and e.trade_id < 100_000:
                spawned[0] += 1
                bus.publish(_event("tick", e.symbol, spawned[0]))
            if kind == "beat" and isinstance(e, (BookTicker, Trade)):  # a third level, from urgent handlers too
                bus.publish(_event("hb", e.symbol, 0))
        h.__qualname__ = f"h{n}"
        return h

    for n, (topic, sym, passive, kind, urgent) in enumerate(subs):
        bus.subscribe(TOPICS[topic], handler(n, kind), symbol=sym, passive=passive, urgent=urgent and sym is None)
    needed = []
    for i, (kind, sym) in enumerate(events):
        ev = _event(kind, sym, i)
        needed.append(bus.publish_needed(type(ev)))
        bus.publish(ev)
    return log, needed, bus.published(), dict(bus.handler_errors)


@given(st.lists(subscription, max_size=8), st.lists(event, max_size=40))
@settings(max_examples=150, deadline=None)
def test_compiled_bus_delivers_what_the_pure_one_does(subs: list[tuple[int, str | None, bool, str, bool]],
                                                      events: list[tuple[str, str]]) -> None:
    assert _run(compiled_bus, subs, events) == _run(PURE, subs, events)


def test_the_compiled_bus_takes_new_attributes_as_the_pure_one() -> None:
    bus = compiled_bus.Bus()  # a cdef class whose instances still take new attributes (cdef dict __dict__)
    bus.extra = 1  # type: ignore[attr-defined]
    assert bus.extra == 1  # type: ignore[attr-defined]
