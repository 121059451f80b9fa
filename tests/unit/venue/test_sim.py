"""The simulated venue: the Venue contract on the local exchange's matching engine, fed by a real book sync."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from hedge.bus import Bus
from hedge.events import (
    Balance,
    BookState,
    DepthDiff,
    DepthSnapshot,
    FeedStatus,
    Fill,
    Nav,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    Side,
    TimeInForce,
    Trade,
)
from hedge.feeds.book import OrderBook
from hedge.feeds.dispatch import FrameDispatcher
from hedge.model.clock import EventClock
from hedge.venue.errors import POST_ONLY_REJECT, OrderNotFound, Rejected
from hedge.venue.sim import SimVenue

SYM = "BTCUSDT"
T0 = 1_721_300_000_000_000_000  # ns
MS = 1_000_000
Levels = Sequence[tuple[float, float]]


@dataclass
class Sim:
    bus: Bus
    clock: EventClock
    feed: FrameDispatcher
    venue: SimVenue
    updates: list[OrderUpdate] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    navs: list[Nav] = field(default_factory=list)
    balances: list[Balance] = field(default_factory=list)
    status: list[FeedStatus] = field(default_factory=list)
    last_u: int = 100

    def diff(self, bids: Levels = (), asks: Levels = (), *, first_id: int = 0) -> None:
        """One diff through the real path: published, then applied by the book sync (as the dispatcher does)."""
        self.clock.advance_to_ns(self.clock.now_ns() + MS)
        u = self.last_u + 1
        d = DepthDiff(symbol=SYM, first_id=first_id or u, final_id=u, prev_final_id=self.last_u, bids=list(bids),
                      asks=list(asks), ts_ms=self.clock.now_ms(), recv_ns=self.clock.now_ns())
        self.last_u = u
        self.bus.publish(d)
        self.feed.book(SYM).on_diff(d)

    def trade(self, price: float, qty: float, taker: Side) -> None:
        self.clock.advance_to_ns(self.clock.now_ns() + MS)
        self.bus.publish(Trade(symbol=SYM, trade_id=1, price=price, qty=qty, taker_side=taker,
                               ts_ms=self.clock.now_ms(), recv_ns=self.clock.now_ns()))

    def req(self, cid: str, side: Side, qty: float, price: float, tif: TimeInForce = TimeInForce.GTX) -> OrderRequest:
        return OrderRequest(client_order_id=cid, intent_id="i", symbol=SYM, side=side, type=OrderType.LIMIT,
                            qty=qty, price=price, tif=tif)


def make(latency_s: float = 0.0, account_interval_s: float = 5.0) -> Sim:
    bus = Bus()
    clock = EventClock(T0)
    feed = FrameDispatcher(bus, symbols=[SYM])
    venue = SimVenue(bus, [SYM], clock=clock, book_of=lambda s: feed.book(s).book,
                     latency_s=latency_s, account_interval_s=account_interval_s)
    venue.attach()
    sim = Sim(bus, clock, feed, venue)
    bus.subscribe(OrderUpdate, sim.updates.append)
    bus.subscribe(Fill, sim.fills.append)
    bus.subscribe(Position, sim.positions.append)
    bus.subscribe(Nav, sim.navs.append)
    bus.subscribe(Balance, sim.balances.append)
    bus.subscribe(FeedStatus, sim.status.append)
    feed.on_snapshot(DepthSnapshot(symbol=SYM, last_update_id=100, recv_ns=T0,
                                   bids=[(64000.0, 1.0), (63999.9, 2.0)], asks=[(64000.1, 0.5), (64000.2, 2.0)]))
    sim.diff(first_id=100)  # U <= lastUpdateId <= u: bridges the snapshot, the book is VALID
    assert sim.feed.book(SYM).state is BookState.VALID
    return sim


def test_start_publishes_user_stream_up_and_periodic_account_snapshots() -> None:
    sim = make(account_interval_s=5.0)
    sim.venue.start()
    assert [(s.connection, s.connected) for s in sim.status] == [("user", True)]
    assert [n.nav for n in sim.navs] == [10_000.0] and sim.navs[0].source == "sim"
    assert sim.positions[0].qty == 0.0 and sim.positions[0].ts_ms == sim.clock.now_ms()
    sim.clock.advance_to_ns(sim.clock.now_ns() + 12 * 1_000_000_000)
    assert len(sim.navs) == 3  # at +5 s and +10 s of event time
    assert sim.navs[-1].ts_ms == sim.navs[0].ts_ms + 10_000


async def test_maker_order_rests_then_fills_from_trades_behind_its_queue() -> None:
    sim = make()
    ack = await sim.venue.place(sim.req("m1", Side.BUY, 0.5, 64000.0))
    assert ack.status is OrderStatus.NEW and ack.filled_qty == 0.0 and ack.exchange_order_id > 0
    assert [u.status for u in sim.updates] == [OrderStatus.NEW]
    sim.trade(64000.0, 0.8, Side.SELL)  # 1.0 queued ahead of us at 64000: 0.8 of it consumed
    assert sim.fills == []
    sim.trade(64000.0, 0.5, Side.SELL)  # 0.2 left ahead, 0.3 reach us
    sim.trade(64000.0, 0.4, Side.SELL)  # the rest of our 0.5
    assert [round(f.qty, 6) for f in sim.fills] == [0.3, 0.2]
    assert all(f.maker and f.price == 64000.0 for f in sim.fills)
    assert sim.fills[0].fee == pytest.approx(0.3 * 64000.0 * 0.0002)
    assert [(u.status, round(u.filled_qty, 6)) for u in sim.updates[1:]] == [
        (OrderStatus.PARTIALLY_FILLED, 0.3), (OrderStatus.FILLED, 0.5)]  # cumulative, as Binance reports it
    assert sim.updates[-1].ts_ms == sim.clock.now_ms() and sim.updates[-1].avg_price == 64000.0
    assert sim.positions[-1].qty == pytest.approx(0.5) and sim.positions[-1].ts_ms == sim.clock.now_ms()
    assert sim.balances[-1].wallet_balance == pytest.approx(10_000.0 - 0.5 * 64000.0 * 0.0002)
    assert sim.navs[-1].nav == pytest.approx(sim.balances[-1].wallet_balance + sim.positions[-1].unrealized_pnl)


async def test_post_only_that_would_take_is_rejected_with_5022() -> None:
    sim = make()
    with pytest.raises(Rejected) as exc:
        await sim.venue.place(sim.req("x", Side.BUY, 0.1, 64000.1))
    assert exc.value.code == POST_ONLY_REJECT
    assert await sim.venue.query(SYM, "x") is None  # a rejected order does not exist


async def test_ioc_walks_the_synced_book_and_taken_liquidity_returns_when_the_level_updates() -> None:
    sim = make()
    ack = await sim.venue.place(sim.req("t1", Side.BUY, 1.0, 64000.2, TimeInForce.IOC))
    assert ack.status is OrderStatus.FILLED
    assert ack.avg_price == pytest.approx((0.5 * 64000.1 + 0.5 * 64000.2) / 1.0)
    assert [(f.price, f.qty, f.maker) for f in sim.fills] == [(64000.1, 0.5, False), (64000.2, 0.5, False)]
    assert sim.fills[0].fee == pytest.approx(0.5 * 64000.1 * 0.0005)
    ack2 = await sim.venue.place(sim.req("t2", Side.BUY, 0.5, 64000.1, TimeInForce.IOC))
    assert ack2.status is OrderStatus.EXPIRED and ack2.filled_qty == 0.0  # we already took 64000.1
    sim.diff(asks=[(64000.1, 0.7)])  # the market updates the level: its liquidity is there again
    ack3 = await sim.venue.place(sim.req("t3", Side.BUY, 0.5, 64000.1, TimeInForce.IOC))
    assert ack3.status is OrderStatus.FILLED and ack3.avg_price == 64000.1


async def test_resting_order_fills_when_the_book_moves_through_it() -> None:
    sim = make()
    await sim.venue.place(sim.req("m", Side.SELL, 0.2, 64000.2))
    sim.diff(bids=[(64000.3, 1.0)], asks=[(64000.1, 0.0), (64000.2, 0.0), (64000.4, 1.0)])
    assert sim.updates[-1].status is OrderStatus.FILLED and sim.fills[-1].maker and sim.fills[-1].price == 64000.2
    assert sim.positions[-1].qty == pytest.approx(-0.2)


async def test_a_diff_the_sync_refuses_never_reaches_the_matching_engine() -> None:
    sim = make()
    await sim.venue.place(sim.req("m", Side.SELL, 0.2, 64000.2))
    gap = DepthDiff(symbol=SYM, first_id=500, final_id=500, prev_final_id=499, bids=[(64000.5, 1.0)], asks=[],
                    ts_ms=sim.clock.now_ms(), recv_ns=sim.clock.now_ns())
    sim.bus.publish(gap)
    sim.feed.book(SYM).on_diff(gap)  # a gap: the sync invalidates instead of applying
    assert sim.feed.book(SYM).book.best_bid() == (64000.0, 1.0)
    assert sim.venue.engine.open_orders("sim", SYM)[0].status == "NEW"  # not filled by the crossing bid


async def test_cancel_query_and_open_orders_follow_the_contract() -> None:
    sim = make()
    await sim.venue.place(sim.req("a", Side.BUY, 0.1, 63999.9))
    await sim.venue.place(sim.req("b", Side.BUY, 0.1, 63999.9))
    assert {u.client_order_id for u in await sim.venue.open_orders(SYM)} == {"a", "b"}
    u = await sim.venue.cancel(SYM, "a")
    assert u.status is OrderStatus.CANCELED and sim.updates[-1].status is OrderStatus.CANCELED
    again = await sim.venue.cancel(SYM, "a")  # already final: its state, not an error
    assert again.status is OrderStatus.CANCELED
    with pytest.raises(OrderNotFound):
        await sim.venue.cancel(SYM, "never")
    assert (await sim.venue.query(SYM, "b")).status is OrderStatus.NEW  # type: ignore[union-attr]
    assert await sim.venue.cancel_all(SYM) == 1
    assert await sim.venue.open_orders() == []
    with pytest.raises(Rejected) as exc:  # a second order under a live client id is refused
        await sim.venue.place(sim.req("c", Side.BUY, 0.1, 63999.9))
        await sim.venue.place(sim.req("c", Side.BUY, 0.1, 63999.9))
    assert exc.value.code == -4116


async def test_filters_are_the_local_exchanges() -> None:
    sim = make()
    f = (await sim.venue.load_filters())[SYM]
    assert (str(f.tick_size), str(f.step_size), str(f.min_notional)) == ("0.10", "0.001", "100")


async def test_latency_holds_a_request_for_that_much_event_time() -> None:
    sim = make(latency_s=0.050)
    task = asyncio.get_running_loop().create_task(sim.venue.place(sim.req("m", Side.BUY, 0.1, 64000.0)))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done() and sim.venue.waiting == 1 and sim.updates == []
    sim.clock.advance_to_ns(sim.clock.now_ns() + 49 * MS)
    await asyncio.sleep(0)
    assert not task.done()
    sim.clock.advance_to_ns(sim.clock.now_ns() + 1 * MS)
    assert sim.venue.waiting == 0
    ack = await task
    assert ack.status is OrderStatus.NEW and ack.ts_ms == sim.clock.now_ms()


async def test_the_simulated_exchange_has_the_markets_of_its_symbols_only() -> None:
    bus = Bus()
    venue = SimVenue(bus, ["BTCUSDT"], clock=EventClock(), book_of=lambda s: OrderBook())
    assert set(await venue.load_filters()) == {"BTCUSDT"} == set(venue.engine.specs)
    assert len(venue.info.doc["symbols"]) > 100  # the document is whole: only the specs are limited
    with pytest.raises(Rejected):
        await venue.place(OrderRequest(client_order_id="x", intent_id="i", symbol="ETHUSDT", side=Side.BUY,
                                       type=OrderType.LIMIT, qty=0.01, price=2000.0))
