"""The user-data stream service against the local exchange: events decoded, key kept alive and renewed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hedge.events import (
    Balance,
    Event,
    FeedStats,
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
)
from hedge.exchange.server import LocalExchange
from hedge.venue.binance import BinanceVenue
from hedge.venue.user_stream import UserStream
from tests.kit.exchange import in_background, local_venue
from tests.kit.wait import wait_for


@pytest.fixture
async def setup(request: Any) -> AsyncIterator[tuple[LocalExchange, BinanceVenue, UserStream, list[Event]]]:
    paths = getattr(request, "param", "split")
    exchange = LocalExchange(port=0)
    await exchange.start()
    venue = local_venue(exchange)
    await venue.start()
    events: list[Event] = []
    us = UserStream(venue, f"ws://127.0.0.1:{exchange.port}", events.append, paths=paths, keepalive_s=0.3)
    try:
        async with in_background(us):
            await wait_for(lambda: any(isinstance(e, FeedStatus) and e.connected for e in events))
            yield exchange, venue, us, events
    finally:
        await venue.close()
        await exchange.stop()


def of(events: list[Event], t: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, t)]


@pytest.mark.parametrize("setup", ["split", "legacy"], indirect=True)
async def test_orders_fills_positions_and_nav(setup: tuple[LocalExchange, BinanceVenue, UserStream, list[Event]]) -> None:
    _, venue, us, events = setup
    assert of(events, FeedStatus)[0].connection == "user"
    d = await venue.client.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 5})
    ask = float(d["asks"][0][0])
    await venue.place(OrderRequest(client_order_id="us-ioc", intent_id="t", symbol="BTCUSDT", side=Side.BUY,
                                   type=OrderType.LIMIT, qty=0.002, price=round(ask + 20, 1), tif=TimeInForce.IOC))
    await wait_for(lambda: bool(of(events, Nav)))
    ups = [u for u in of(events, OrderUpdate) if u.client_order_id == "us-ioc"]
    assert ups[0].status is OrderStatus.NEW and ups[-1].status in (OrderStatus.FILLED, OrderStatus.EXPIRED)
    fills = [f for f in of(events, Fill) if f.client_order_id == "us-ioc"]
    assert fills and sum(f.qty for f in fills) == pytest.approx(ups[-1].filled_qty)
    assert all(not f.maker and f.fee > 0 for f in fills)
    (pos,) = [p for p in of(events, Position) if p.symbol == "BTCUSDT"][-1:]
    assert pos.qty == pytest.approx(ups[-1].filled_qty) and pos.entry_price > 0
    bal = of(events, Balance)[-1]
    nav = of(events, Nav)[-1]
    assert nav.source == "account_update" and nav.wallet_balance == bal.wallet_balance
    assert nav.nav == pytest.approx(bal.wallet_balance + nav.unrealized_pnl)
    assert us.decoder.skipped == 0
    # the connection's counters for the operator's status/diagnostics (not "msgs 0" while frames arrive)
    stats = of(events, FeedStats)
    assert stats and stats[-1].connection == "user" and stats[-1].messages == us.decoder.frames > 0


async def test_keepalive_and_renewal_after_expiry(setup: tuple[LocalExchange, BinanceVenue, UserStream, list[Event]]) -> None:
    exchange, venue, us, events = setup
    await wait_for(lambda: us.keepalives >= 1)
    (key,) = exchange.listen_keys
    assert exchange.expire_listen_key(key)  # the exchange sends listenKeyExpired and closes the stream
    await wait_for(lambda: us.renewals >= 1 and bool(exchange.listen_keys))
    (new_key,) = exchange.listen_keys
    assert new_key != key and us.decoder.expired == 1
    await wait_for(lambda: sum(1 for e in of(events, FeedStatus) if e.connected) >= 2)  # a new connection
    # down in between: updates sent while the old key was expiring are lost, and consumers must know it
    assert [e.connected for e in of(events, FeedStatus)][-3:] == [True, False, True]
    # the new stream carries events
    d = await venue.client.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 5})
    bid = float(d["bids"][0][0])
    await venue.place(OrderRequest(client_order_id="us-after", intent_id="t", symbol="BTCUSDT", side=Side.BUY,
                                   type=OrderType.LIMIT, qty=0.01, price=round(bid - 50, 1), tif=TimeInForce.GTX))
    await wait_for(lambda: any(isinstance(e, OrderUpdate) and e.client_order_id == "us-after" for e in events))
