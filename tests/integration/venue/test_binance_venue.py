"""BinanceVenue (real ccxt async binanceusdm) against the local exchange on loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from hedge.events import Event, OrderRequest, OrderStatus, OrderType, RateLimit, Side, TimeInForce
from hedge.exchange.faults import FaultSetting
from hedge.exchange.server import LocalExchange
from hedge.model.clock import EventClock
from hedge.venue.binance import BinanceVenue, fmt
from hedge.venue.errors import OrderNotFound, RateLimited, Rejected, Retryable, UnknownOutcome
from tests.kit.exchange import local_venue


class Rig:
    def __init__(self, exchange: LocalExchange, venue: BinanceVenue, events: list[Event], sleeps: list[float]) -> None:
        self.exchange = exchange
        self.venue = venue
        self.events = events
        self.sleeps = sleeps

    async def touch(self) -> tuple[float, float]:
        d = await self.venue.client.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 5})
        return float(d["bids"][0][0]), float(d["asks"][0][0])

    def fault(self, name: str, count: int = 1, value: float = 0.0) -> None:
        self.exchange.faults.set(name, FaultSetting(count=count, value=value))


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    exchange = LocalExchange(port=0, speed=1.0)
    await exchange.start()
    events: list[Event] = []
    sleeps: list[float] = []

    clock = EventClock(time.time_ns())  # the venue's view of time: moved only by the skipped waits

    async def fake_sleep(s: float) -> None:  # reads' retry waits are recorded and skipped, not slept
        sleeps.append(s)
        clock.advance_s(s)

    venue = local_venue(exchange, publish=events.append, sleep=fake_sleep, clock=clock)
    await venue.start()
    try:
        yield Rig(exchange, venue, events, sleeps)
    finally:
        await venue.close()
        await exchange.stop()


def req(cid: str, side: Side, qty: float, price: float, tif: TimeInForce = TimeInForce.GTX,
        otype: OrderType = OrderType.LIMIT) -> OrderRequest:
    return OrderRequest(client_order_id=cid, intent_id="t", symbol="BTCUSDT", side=side, type=otype, qty=qty,
                        price=price, tif=tif)


def test_fmt_is_exact() -> None:
    assert [fmt(x) for x in (67000.1, 0.001, 1e-05, 0.1 + 0.2, 100.0)] == [
        "67000.1", "0.001", "0.00001", "0.30000000000000004", "100.0"]


async def test_filters_from_exchange_info(rig: Rig) -> None:
    f = await rig.venue.load_filters()
    btc = f["BTCUSDT"]
    assert (btc.tick_size, btc.step_size, btc.min_notional) == (Decimal("0.10"), Decimal("0.001"), Decimal("100"))
    assert rig.venue.budget.weight_limit_1m > 0


async def test_gtx_lifecycle_query_cancel(rig: Rig) -> None:
    bid, _ = await rig.touch()
    px = round(bid - 50, 1)
    ack = await rig.venue.place(req("hv-gtx-1", Side.BUY, 0.01, px))
    assert (ack.status, ack.client_order_id, ack.exchange_order_id > 0) == (OrderStatus.NEW, "hv-gtx-1", True)
    q = await rig.venue.query("BTCUSDT", "hv-gtx-1")
    assert q is not None and (q.status, q.price, q.qty, q.side) == (OrderStatus.NEW, px, 0.01, Side.BUY)
    assert [o.client_order_id for o in await rig.venue.open_orders("BTCUSDT")] == ["hv-gtx-1"]
    with pytest.raises(Rejected) as dup:
        await rig.venue.place(req("hv-gtx-1", Side.BUY, 0.01, px))
    assert dup.value.code == -4116
    c = await rig.venue.cancel("BTCUSDT", "hv-gtx-1")
    assert c.status is OrderStatus.CANCELED
    with pytest.raises(OrderNotFound):
        await rig.venue.cancel("BTCUSDT", "hv-gtx-1")
    assert (await rig.venue.query("BTCUSDT", "hv-gtx-1")).status is OrderStatus.CANCELED  # type: ignore[union-attr]
    assert await rig.venue.query("BTCUSDT", "never-sent") is None  # proven absent


async def test_definite_rejections_carry_the_binance_code(rig: Rig) -> None:
    bid, ask = await rig.touch()
    with pytest.raises(Rejected) as e1:
        await rig.venue.place(req("hv-cross", Side.BUY, 0.01, ask))  # would take: post-only reject
    with pytest.raises(Rejected) as e2:
        await rig.venue.place(req("hv-small", Side.BUY, 0.001, round(bid - 50, 1)))  # notional < 100
    assert (e1.value.code, e2.value.code) == (-5022, -4164)
    assert await rig.venue.query("BTCUSDT", "hv-cross") is None


async def test_ioc_takes_liquidity(rig: Rig) -> None:
    _, ask = await rig.touch()
    ack = await rig.venue.place(req("hv-ioc", Side.BUY, 0.002, round(ask + 20, 1), TimeInForce.IOC))
    assert ack.status in (OrderStatus.FILLED, OrderStatus.EXPIRED) and ack.filled_qty > 0
    assert ask <= ack.avg_price <= ask + 20


@pytest.mark.parametrize("fault", ["order_503", "order_1007", "order_drop"])
async def test_unknown_outcomes_are_never_rejections(rig: Rig, fault: str) -> None:
    bid, _ = await rig.touch()
    rig.fault(fault)
    with pytest.raises(UnknownOutcome):
        await rig.venue.place(req(f"hv-{fault}", Side.BUY, 0.01, round(bid - 50, 1)))
    found = await rig.venue.query("BTCUSDT", f"hv-{fault}")  # the order was committed: the query finds it
    assert found is not None and found.status is OrderStatus.NEW


async def test_429_reads_wait_retry_after_and_orders_are_refused(rig: Rig) -> None:
    rig.fault("rest_429")
    assert await rig.venue.open_orders("BTCUSDT") == []  # retried after waiting Retry-After
    assert len(rig.sleeps) == 1 and rig.sleeps[0] >= 1.0
    assert any(isinstance(e, RateLimit) and e.status == 429 for e in rig.events)
    bid, _ = await rig.touch()
    rig.fault("rest_429")
    with pytest.raises(RateLimited):
        await rig.venue.place(req("hv-429", Side.BUY, 0.01, round(bid - 50, 1)))  # never retried
    assert await rig.venue.query("BTCUSDT", "hv-429") is None


async def test_418_halts_every_request_until_the_ban_ends(rig: Rig) -> None:
    rig.fault("rest_418")
    with pytest.raises(RateLimited) as e:
        await rig.venue.open_orders("BTCUSDT")
    assert e.value.banned and e.value.retry_after_s > 60
    sent = len(rig.exchange.order_log)
    with pytest.raises(RateLimited) as e2:  # refused locally: nothing is sent during the ban
        await rig.venue.place(req("hv-418", Side.BUY, 0.01, 50000.0))
    assert e2.value.banned and len(rig.exchange.order_log) == sent
    ev = next(x for x in rig.events if isinstance(x, RateLimit))
    assert ev.status == 418 and ev.banned_until_ms > 0


async def test_clock_skew_is_resynced_after_1021(rig: Rig) -> None:
    bid, _ = await rig.touch()
    rig.fault("clock_skew_ms", count=0, value=-20_000)  # the server's clock is 20 s behind ours
    with pytest.raises(Retryable) as e:
        await rig.venue.place(req("hv-skew", Side.BUY, 0.01, round(bid - 50, 1)))
    assert e.value.code == -1021
    assert rig.venue.clock_offset_ms < -15_000  # resynced: the next signed request is on time
    ack = await rig.venue.place(req("hv-skew", Side.BUY, 0.01, round(bid - 50, 1)))
    assert ack.status is OrderStatus.NEW


async def test_listen_key_lifecycle(rig: Rig) -> None:
    key = await rig.venue.new_listen_key()
    await rig.venue.keepalive_listen_key()
    assert rig.exchange.expire_listen_key(key)
    with pytest.raises(Rejected) as e:
        await rig.venue.keepalive_listen_key()
    assert e.value.code == -1125
