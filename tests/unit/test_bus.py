from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.bus import Bus, Policy
from hedge.events import BookTicker, Event, Heartbeat, Side, Trade


def tick(sym: str, i: int) -> BookTicker:
    return BookTicker(symbol=sym, update_id=i, bid_px=1.0, bid_qty=1.0, ask_px=2.0, ask_qty=1.0)


def trade(sym: str, i: int) -> Trade:
    return Trade(symbol=sym, trade_id=i, price=1.0, qty=1.0, taker_side=Side.BUY)


@given(st.lists(st.tuples(st.sampled_from(["tick", "trade"]), st.sampled_from(["A", "B"])), max_size=60))
@settings(max_examples=150, deadline=None)
def test_sync_handlers_see_each_topic_in_publish_order(seq: list[tuple[str, str]]) -> None:
    bus = Bus()
    seen_ticks: list[int] = []
    seen_trades: list[int] = []
    seen_a: list[int] = []
    bus.subscribe(BookTicker, lambda e: seen_ticks.append(e.update_id))
    bus.subscribe(Trade, lambda e: seen_trades.append(e.trade_id))
    bus.subscribe(BookTicker, lambda e: seen_a.append(e.update_id), symbol="A")
    expect_ticks, expect_trades, expect_a = [], [], []
    for i, (kind, sym) in enumerate(seq):
        if kind == "tick":
            bus.publish(tick(sym, i))
            expect_ticks.append(i)
            if sym == "A":
                expect_a.append(i)
        else:
            bus.publish(trade(sym, i))
            expect_trades.append(i)
    assert seen_ticks == expect_ticks
    assert seen_trades == expect_trades
    assert seen_a == expect_a


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=40))
@settings(max_examples=100, deadline=None)
def test_reentrant_publish_keeps_fifo_order_for_every_subscriber(fanout: list[int]) -> None:
    """A handler publishing more events must not let later subscribers see them out of order."""
    bus = Bus()
    first: list[int] = []
    second: list[int] = []
    counter = [10_000]

    def spawner(e: BookTicker) -> None:
        first.append(e.update_id)
        if e.update_id < 10_000:
            for _ in range(fanout[e.update_id % len(fanout)]):
                counter[0] += 1
                bus.publish(tick("A", counter[0]))

    bus.subscribe(BookTicker, spawner)
    bus.subscribe(BookTicker, lambda e: second.append(e.update_id))
    for i in range(len(fanout)):
        bus.publish(tick("A", i))
    assert first == second
    assert len(first) == len(fanout) + sum(fanout[i % len(fanout)] for i in range(len(fanout)))


def test_failing_handler_is_counted_and_isolated() -> None:
    bus = Bus()
    got: list[int] = []

    def boom(e: BookTicker) -> None:
        raise RuntimeError("bad handler")

    bus.subscribe(BookTicker, boom)
    bus.subscribe(BookTicker, lambda e: got.append(e.update_id))
    for i in range(3):
        bus.publish(tick("A", i))
    assert got == [0, 1, 2]
    (name, count), = bus.handler_errors.items()
    assert "boom" in name and count == 3
    assert bus.published()["BookTicker"] == 3


def test_base_class_subscription_receives_subclasses_and_counts_survive_resubscribe() -> None:
    bus = Bus()
    every: list[str] = []
    bus.subscribe(Event, lambda e: every.append(type(e).__name__))
    bus.publish(tick("A", 1))
    bus.subscribe(Trade, lambda e: None)  # invalidates routes
    bus.publish(trade("A", 2))
    bus.publish(Heartbeat(component="x"))
    assert every == ["BookTicker", "Trade", "Heartbeat"]
    assert bus.published() == {"BookTicker": 1, "Trade": 1, "Heartbeat": 1}



def test_a_passive_subscriber_gets_what_is_published_but_makes_nothing_needed() -> None:
    bus = Bus()
    seen: list[Event] = []
    bus.subscribe(BookTicker, seen.append, passive=True)
    assert not bus.wants(BookTicker) and not bus.publish_needed(BookTicker)  # counted as published
    bus.publish(tick("A", 1))  # published anyway (by someone who built it): delivered
    assert len(seen) == 1 and bus.published() == {"BookTicker": 2}
    bus.subscribe(Event, lambda e: None)  # a real subscriber, through a base class
    assert bus.wants(BookTicker) and bus.publish_needed(BookTicker)
    assert bus.published() == {"BookTicker": 2}  # ``wants`` and a True ``publish_needed`` count nothing

async def test_stage_receives_in_order_and_drain_waits() -> None:
    bus = Bus()
    got: list[int] = []

    async def slow(e: BookTicker) -> None:
        await asyncio.sleep(0)
        got.append(e.update_id)

    bus.stage("slow", BookTicker, slow, maxsize=1000)
    bus.start()
    for i in range(200):
        bus.publish(tick("A", i))
    await bus.drain(limit_s=5)
    assert got == list(range(200))
    await bus.close()


async def test_drain_covers_events_published_by_stages() -> None:
    bus = Bus()
    final: list[int] = []

    async def relay(e: BookTicker) -> None:
        await asyncio.sleep(0.001)  # a stage that awaits I/O, not a wait
        bus.publish(trade(e.symbol, e.update_id))

    async def sink(e: Trade) -> None:
        await asyncio.sleep(0.001)  # a stage that awaits I/O, not a wait
        final.append(e.trade_id)

    bus.stage("relay", BookTicker, relay)
    bus.stage("sink", Trade, sink)
    bus.start()
    for i in range(20):
        bus.publish(tick("A", i))
    await bus.drain(limit_s=5)
    assert final == list(range(20))
    await bus.close()


async def test_stage_error_is_counted_and_stage_keeps_going() -> None:
    bus = Bus()
    got: list[int] = []

    async def flaky(e: BookTicker) -> None:
        if e.update_id % 2:
            raise ValueError("odd")
        got.append(e.update_id)

    st_ = bus.stage("flaky", BookTicker, flaky)
    bus.start()
    for i in range(6):
        bus.publish(tick("A", i))
    await bus.drain(limit_s=5)
    assert got == [0, 2, 4]
    assert st_.inbox.errors == 3
    assert bus.handler_errors["stage:flaky"] == 3
    await bus.close()


async def test_conflating_slot_keeps_latest_per_key_in_first_dirty_order() -> None:
    bus = Bus()
    got: list[tuple[str, int]] = []
    gate = asyncio.Event()

    async def consumer(e: BookTicker) -> None:
        await gate.wait()
        got.append((e.symbol, e.update_id))

    st_ = bus.stage("latest", BookTicker, consumer, maxsize=10, policy=Policy.CONFLATE)
    bus.start()
    bus.publish(tick("A", 0))
    await asyncio.sleep(0)  # consumer takes A0 and waits on the gate
    for i, sym in enumerate(["B", "A", "B", "C", "A"], start=1):
        bus.publish(tick(sym, i))
    gate.set()
    await bus.drain(limit_s=5)
    assert got == [("A", 0), ("B", 3), ("A", 5), ("C", 4)]
    assert st_.inbox.conflated == 2
    await bus.close()


async def test_drop_oldest_counts_drops() -> None:
    bus = Bus()
    got: list[int] = []

    async def consumer(e: BookTicker) -> None:
        got.append(e.update_id)

    st_ = bus.stage("lossy", BookTicker, consumer, maxsize=3, policy=Policy.DROP_OLDEST)
    bus.start()
    for i in range(10):
        bus.publish(tick("A", i))
    await bus.drain(limit_s=5)
    assert got == [7, 8, 9]
    assert st_.inbox.dropped == 7
    assert st_.inbox.stats().dropped == 7
    await bus.close()


async def test_block_policy_sync_publish_overflows_counted_and_publish_async_waits() -> None:
    bus = Bus()
    got: list[int] = []
    gate = asyncio.Event()

    async def consumer(e: BookTicker) -> None:
        await gate.wait()
        got.append(e.update_id)

    st_ = bus.stage("blocking", BookTicker, consumer, maxsize=2, policy=Policy.BLOCK)
    bus.start()
    for i in range(4):
        bus.publish(tick("A", i))  # never blocks the hot path: past the bound is counted
    assert st_.inbox.overflow == 2
    waiter = asyncio.ensure_future(bus.publish_async(tick("A", 4)))
    for _ in range(10):  # the loop runs the waiter and the consumer several times over
        await asyncio.sleep(0)
    assert not waiter.done()  # inbox is full: publish_async waits for room
    gate.set()
    await asyncio.wait_for(waiter, 30)
    await bus.drain(limit_s=5)
    assert got == [0, 1, 2, 3, 4]
    await bus.close()


def test_inbox_rejects_nonpositive_bound() -> None:
    with pytest.raises(ValueError, match="maxsize"):
        Bus().stage("x", BookTicker, lambda e: asyncio.sleep(0), maxsize=0)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("with_inbox", [False, True])
def test_per_symbol_handlers_run_after_the_plain_ones_in_subscription_order(with_inbox: bool) -> None:
    """The merged per-symbol handler tuple (no inbox) and the general path (an inbox) call the same
    handlers in the same order; a failing one is isolated in both; counts are per event."""
    bus = Bus()
    calls: list[str] = []
    bus.subscribe(BookTicker, lambda e: calls.append(f"keyed-A1:{e.symbol}"), symbol="A")
    bus.subscribe(BookTicker, lambda e: calls.append(f"plain1:{e.symbol}"))
    bus.subscribe(BookTicker, lambda e: 1 / 0, symbol="B")
    bus.subscribe(BookTicker, lambda e: calls.append(f"plain2:{e.symbol}"))
    bus.subscribe(BookTicker, lambda e: calls.append(f"keyed-A2:{e.symbol}"), symbol="A")
    if with_inbox:
        bus.stage("s", BookTicker, _noop, maxsize=10, policy=Policy.DROP_OLDEST)
    for sym in ("A", "B", "C"):
        bus.publish(tick(sym, 1))
    assert calls == ["plain1:A", "plain2:A", "keyed-A1:A", "keyed-A2:A", "plain1:B", "plain2:B",
                     "plain1:C", "plain2:C"]
    assert sum(bus.handler_errors.values()) == 1
    assert bus.published() == {"BookTicker": 3}


async def _noop(_: Event) -> None:
    return None
