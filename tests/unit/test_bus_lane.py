"""The bus's urgent lane (``subscribe(..., urgent=True)``, hedge/bus.py's docstring, guarantees 1-5).

The property test builds random publish graphs (handlers on several topics, urgent or not, that publish
further events, one that raises) and runs the same stream through a bus with the urgent flags and one
without: every non-urgent subscriber (handlers and an inbox) must see the same sequence, every urgent one
its events in publish order, and a re-entrant event must reach its urgent handlers before anything queued.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.bus import Bus, Policy
from hedge.events import BookTicker, Event, Heartbeat, Side, Trade

TOPICS: tuple[type[Event], ...] = (BookTicker, Trade, Heartbeat)
MAX_DEPTH = 3


def _make(topic: int, i: int) -> Event:
    if topic == 0:
        return BookTicker(symbol="A", update_id=i, bid_px=1.0, bid_qty=1.0, ask_px=2.0, ask_qty=1.0)
    if topic == 1:
        return Trade(symbol="A", trade_id=i, price=1.0, qty=1.0, taker_side=Side.BUY)
    return Heartbeat(component=str(i))


def _id(e: Event) -> int:
    if isinstance(e, BookTicker):
        return e.update_id
    if isinstance(e, Trade):
        return e.trade_id
    assert isinstance(e, Heartbeat)
    return int(e.component)


class Graph:
    """Runs subscriptions ``(topic, urgent, spawns, raises)`` on a bus; an event's identity is its path
    (who published it from which event), the same with and without the lane; its id is its publish rank."""

    def __init__(self, subs: list[tuple[int, bool, list[int], bool]], lane: bool) -> None:
        self.bus = Bus()
        self.ids = itertools.count()
        self.path: dict[int, tuple[Any, ...]] = {}
        self.id_of: dict[tuple[Any, ...], int] = {}
        self.published_at: dict[int, int] = {}  # event id -> len(log) when it was published
        self.log: list[tuple[int, tuple[Any, ...], int]] = []  # (handler, event path, publish rank)
        self.urgent = {n for n, s in enumerate(subs) if s[1]}  # urgent with the lane (left out of ``observed``)
        for n, (topic, urgent, spawns, raises) in enumerate(subs):
            self.bus.subscribe(TOPICS[topic], self._handler(n, spawns, raises), urgent=urgent and lane)
        self.inbox = self.bus.stage("tape", TOPICS, _noop, maxsize=10_000, policy=Policy.DROP_OLDEST).inbox

    def _handler(self, n: int, spawns: list[int], raises: bool) -> Any:
        def h(e: Event) -> None:
            path = self.path[_id(e)]
            self.log.append((n, path, _id(e)))
            if len(path) < MAX_DEPTH:
                for k, topic in enumerate(spawns):
                    self.publish(topic, (*path, (n, k)))
            if raises:
                raise RuntimeError(n)
        h.__qualname__ = f"h{n}"
        return h

    def publish(self, topic: int, path: tuple[Any, ...]) -> None:
        i = next(self.ids)
        self.path[i], self.id_of[path], self.published_at[i] = path, i, len(self.log)
        self.bus.publish(_make(topic, i))

    def observed(self) -> tuple[list[Any], list[Any]]:
        handlers = [(n, p) for n, p, _ in self.log if n not in self.urgent]
        queued = []
        while (e := self.inbox.get_nowait()) is not None:
            queued.append(self.path[_id(e)])
        return handlers, queued


subscription = st.tuples(st.integers(0, len(TOPICS) - 1), st.booleans(),
                         st.lists(st.integers(0, len(TOPICS) - 1), max_size=2), st.booleans())


@given(st.lists(subscription, min_size=1, max_size=7), st.lists(st.integers(0, len(TOPICS) - 1), min_size=1,
                                                                 max_size=6))
@settings(max_examples=200, deadline=None)
def test_observers_see_what_they_saw_without_the_lane_and_urgent_handlers_see_publish_order(
        subs: list[tuple[int, bool, list[int], bool]], roots: list[int]) -> None:
    runs = []
    for lane in (True, False):
        g = Graph(subs, lane)
        for r, topic in enumerate(roots):
            g.publish(topic, (r,))
        runs.append(g)
    with_lane, without = runs
    assert with_lane.observed() == without.observed()  # handlers and the inbox: the same sequence
    assert with_lane.bus.published() == without.bus.published()
    assert with_lane.bus.handler_errors == without.bus.handler_errors
    for n in with_lane.urgent:  # guarantee 2: an urgent handler sees its events in publish order
        ranks = [i for m, _, i in with_lane.log if m == n]
        assert ranks == sorted(ranks)
    # guarantee 1: between a re-entrant event's publish and its urgent deliveries run only the rest of
    # the event being dispatched (its publisher's) and urgent deliveries: nothing queued
    log = with_lane.log
    for pos, (n, path, i) in enumerate(log):
        if n in with_lane.urgent and len(path) > 1:
            parent = with_lane.id_of[path[:-1]]
            between = log[with_lane.published_at[i]:pos]
            assert all(m in with_lane.urgent or j == parent for m, _, j in between), (path, between)


def _order_frame(lane: bool) -> list[str]:
    bus, calls = Bus(), []

    def exits(e: BookTicker) -> None:
        bus.publish(Trade(symbol="exit", trade_id=e.update_id, price=1.0, qty=1.0, taker_side=Side.SELL))

    def signals(e: BookTicker) -> None:
        bus.publish(Heartbeat(component="features"))
        bus.publish(Trade(symbol="entry", trade_id=e.update_id, price=1.0, qty=1.0, taker_side=Side.BUY))

    def risk(t: Trade) -> None:
        calls.append(f"risk:{t.symbol}")
        bus.publish(Heartbeat(component=f"decision:{t.symbol}"))

    def router(h: Heartbeat) -> None:
        if h.component.startswith("decision:"):
            calls.append(f"route:{h.component[9:]}")

    bus.subscribe(Event, lambda e: calls.append(f"tel:{type(e).__name__}"))  # telemetry's on_any: first
    bus.subscribe(BookTicker, exits)
    bus.subscribe(BookTicker, signals)
    bus.subscribe(Trade, risk, urgent=lane)
    bus.subscribe(Heartbeat, router, urgent=lane)
    bus.subscribe(Heartbeat, lambda h: calls.append(f"state:{h.component}"))
    bus.publish(BookTicker(symbol="A", update_id=1, bid_px=1.0, bid_qty=1.0, ask_px=2.0, ask_qty=1.0))
    return calls


def test_the_order_path_runs_ahead_of_observers_and_keeps_exit_before_entry() -> None:
    """The live order frame: a book handler publishes an exit intent, a later one a view then an entry
    intent; risk (urgent) checks both before the router (urgent) routes either, all before the view's
    observers; the observers then see every event in the order they did without the lane."""
    logs = {lane: _order_frame(lane) for lane in (True, False)}
    assert logs[True][:5] == ["tel:BookTicker", "risk:exit", "risk:entry", "route:exit", "route:entry"]
    assert logs[False][:5] == ["tel:BookTicker", "tel:Trade", "risk:exit", "tel:Heartbeat", "state:features"]
    observers = {lane: [c for c in cs if not c.startswith(("risk", "route"))] for lane, cs in logs.items()}
    assert observers[True] == observers[False]
    assert sorted(logs[True]) == sorted(logs[False])


def test_an_outermost_event_runs_its_handlers_in_subscription_order() -> None:
    bus = Bus()
    calls: list[str] = []
    bus.subscribe(BookTicker, lambda e: calls.append("observer"))
    bus.subscribe(BookTicker, lambda e: calls.append("urgent"), urgent=True)
    bus.publish(BookTicker(symbol="A", update_id=1, bid_px=1.0, bid_qty=1.0, ask_px=2.0, ask_qty=1.0))
    assert calls == ["observer", "urgent"]


def test_reentrant_publishing_from_urgent_handlers_chains_in_the_lane_and_keeps_its_place_for_observers() -> None:
    """An urgent handler's publish of an urgent event runs in the same lane (before any queued observer);
    what it publishes reaches the observers at the urgent handler's place, after what earlier handlers of
    the same event published."""
    bus = Bus()
    calls: list[str] = []

    def root(e: Heartbeat) -> None:
        if e.component == "root":
            bus.publish(Heartbeat(component="queued"))
            bus.publish(Trade(symbol="A", trade_id=1, price=1.0, qty=1.0, taker_side=Side.BUY))

    def before(t: Trade) -> None:
        calls.append(f"before:{t.trade_id}")
        bus.publish(Heartbeat(component=f"before-{t.trade_id}"))

    def urgent(t: Trade) -> None:
        calls.append(f"urgent:{t.trade_id}")
        if t.trade_id < 3:
            bus.publish(Trade(symbol="A", trade_id=t.trade_id + 1, price=1.0, qty=1.0, taker_side=Side.BUY))
            bus.publish(Heartbeat(component=f"by-urgent-{t.trade_id}"))

    bus.subscribe(Heartbeat, root)
    bus.subscribe(Heartbeat, lambda h: calls.append(f"hb:{h.component}"))
    bus.subscribe(Trade, before)
    bus.subscribe(Trade, urgent, urgent=True)
    bus.subscribe(Trade, lambda t: calls.append(f"after:{t.trade_id}"))
    bus.publish(Heartbeat(component="root"))
    assert calls == [
        "hb:root", "urgent:1", "urgent:2", "urgent:3",  # the chain, in the lane, ahead of "queued"
        "hb:queued",
        "before:1", "after:1",  # trade 1's observers; at urgent's place: trade 2, by-urgent-1 queued
        "hb:before-1", "before:2", "after:2", "hb:by-urgent-1",
        "hb:before-2", "before:3", "after:3", "hb:by-urgent-2",
        "hb:before-3",
    ]
    assert bus.published() == {"Heartbeat": 7, "Trade": 3}


def test_a_failing_urgent_handler_is_isolated_and_counted_and_what_it_published_is_delivered() -> None:
    bus = Bus()
    calls: list[str] = []

    def boom(t: Trade) -> None:
        bus.publish(Heartbeat(component="before-raising"))
        raise RuntimeError("urgent failure")

    def spawn(h: Heartbeat) -> None:
        if h.component == "root":
            bus.publish(Trade(symbol="A", trade_id=1, price=1.0, qty=1.0, taker_side=Side.BUY))

    bus.subscribe(Heartbeat, spawn)
    bus.subscribe(Heartbeat, lambda h: calls.append(f"hb:{h.component}"))
    bus.subscribe(Trade, boom, urgent=True)
    bus.subscribe(Trade, lambda t: calls.append("urgent-2"), urgent=True)
    bus.subscribe(Trade, lambda t: calls.append("observer"))
    for _ in range(2):
        bus.publish(Heartbeat(component="root"))
    assert calls == ["hb:root", "urgent-2", "observer", "hb:before-raising"] * 2
    (name, count), = bus.handler_errors.items()
    assert "boom" in name and count == 2


async def test_a_stage_inbox_receives_what_it_did_without_the_lane() -> None:
    got: dict[bool, list[str]] = {}
    for lane in (True, False):
        bus = Bus()
        seen: list[str] = []

        async def stage(e: Event, seen: list[str] = seen) -> None:
            seen.append(f"{type(e).__name__}:{_id(e)}")

        def spawn(h: Heartbeat, bus: Bus = bus) -> None:
            c = int(h.component)
            if c < 13:  # roots 0-2 publish c+10 then a trade; c+10 publishes c+20 (queued before the trade's)
                bus.publish(Heartbeat(component=str(c + 10)))
            if c < 3:
                bus.publish(Trade(symbol="A", trade_id=c, price=1.0, qty=1.0, taker_side=Side.BUY))

        def urgent(t: Trade, bus: Bus = bus) -> None:
            bus.publish(Heartbeat(component=str(100 + t.trade_id)))

        bus.subscribe(Heartbeat, spawn)
        bus.subscribe(Trade, urgent, urgent=lane)
        bus.stage("s", (Heartbeat, Trade), stage)
        bus.start()
        for i in range(3):
            bus.publish(Heartbeat(component=str(i)))
        await bus.drain(5.0)
        await bus.close()
        got[lane] = seen
    assert got[True][:5] == ["Heartbeat:0", "Heartbeat:10", "Trade:0", "Heartbeat:20", "Heartbeat:100"]
    assert got[True] == got[False] and len(got[True]) == 15


def test_an_urgent_subscription_takes_no_symbol() -> None:
    with pytest.raises(ValueError, match="no symbol"):
        Bus().subscribe(BookTicker, lambda e: None, symbol="A", urgent=True)


async def _noop(_: Event) -> None:
    await asyncio.sleep(0)
