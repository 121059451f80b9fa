"""The router end to end on the local exchange: real sockets, real ccxt, the real user-data stream."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hedge.bus import Bus
from hedge.config import HttpConfig, default_config
from hedge.events import BookUpdate, Event, FeedStatus, Fill, OrderIntent, OrderUpdate, Position, RiskDecision, Side
from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.exchange.faults import FaultSetting
from hedge.exchange.server import LocalExchange
from hedge.router.lifecycle import client_order_id
from hedge.router.pending import PendingOrders
from hedge.router.router import Router
from hedge.state.journal import Journals, read_journal
from hedge.venue.binance import BinanceVenue
from hedge.venue.user_stream import UserStream


async def wait_for(pred: Callable[[], bool], within_s: float = 10.0) -> None:
    for _ in range(int(within_s / 0.02)):
        if pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


@dataclass
class Live:
    exchange: LocalExchange
    venue: BinanceVenue
    router: Router
    bus: Bus
    journals: Journals
    tmp: Path
    events: list[Event]

    async def book(self) -> None:
        d = await self.venue.client.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 5})
        bid, bq = float(d["bids"][0][0]), float(d["bids"][0][1])
        ask, aq = float(d["asks"][0][0]), float(d["asks"][0][1])
        mid = (bid + ask) / 2
        self.bus.publish(BookUpdate(symbol="BTCUSDT", update_id=int(d["lastUpdateId"]), valid=True, bid_px=bid,
                                    bid_qty=bq, ask_px=ask, ask_qty=aq, mid=mid, micro=mid, imbalance=0.0,
                                    spread_bps=(ask - bid) / mid * 1e4, recv_ns=time.time_ns()))

    def decide(self, intent_id: str, side: Side, notional: float) -> None:
        intent = OrderIntent(intent_id=intent_id, symbol="BTCUSDT", side=side, notional=notional, strategy="e2e",
                             reason="test", recv_ns=time.time_ns())
        self.bus.publish(RiskDecision(intent=intent, allow=True, max_qty=1.0))

    def reports(self) -> list[dict[str, Any]]:
        self.journals.flush()
        out = []
        for name in ("orders_success", "orders_failed"):
            p = self.tmp / f"{name}.jsonl"
            if p.exists():
                out += [r.decode() for r in read_journal(p) if r.kind == "execution"]
        return out


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    exchange = LocalExchange(port=0)
    await exchange.start()
    bus = Bus()
    events: list[Event] = []
    for t in (Fill, Position, OrderUpdate, FeedStatus):
        bus.subscribe(t, events.append)
    journals = Journals(tmp_path)
    venue = BinanceVenue(exchange.base_url, HttpConfig(), api_key=DEFAULT_API_KEY, api_secret=DEFAULT_API_SECRET,
                         name="local", publish=bus.publish)
    await venue.start()
    cfg = default_config()
    rc = msgspec.structs.replace(cfg.runtime.router, maker_timeout_s=0.5, unknown_resolve_s=5.0)
    cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(cfg.runtime, router=rc, log_dir=str(tmp_path)))
    router = Router(bus, venue, journals, cfg, pending=PendingOrders(tmp_path / "state" / "pending_orders.jsonl"))
    us = UserStream(venue, f"ws://127.0.0.1:{exchange.port}", bus.publish)
    task = asyncio.get_running_loop().create_task(us.run())
    await router.start()
    await wait_for(lambda: any(isinstance(e, FeedStatus) and e.connected for e in events))
    try:
        yield Live(exchange, venue, router, bus, journals, tmp_path, events)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await router.idle()
        journals.close()
        await venue.close()
        await exchange.stop()


def check_books_balance(live: Live, intent_id: str, report: dict[str, Any]) -> None:
    """The stream's fills add up to the report, and the exchange's position to both."""
    fills = [f for f in live.events if isinstance(f, Fill) and f.client_order_id.startswith(
        client_order_id(intent_id, 0, 0)[:17])]
    assert sum(f.qty for f in fills) == pytest.approx(report["filled_qty"])
    assert report["filled_qty"] > 0
    pos = [p for p in live.events if isinstance(p, Position) and p.symbol == "BTCUSDT"][-1]
    assert pos.qty == pytest.approx(report["filled_qty"])


async def test_maker_first_then_taker_fallback_on_the_exchange(live: Live) -> None:
    await live.book()
    live.decide("e2e-1", Side.BUY, 1000.0)
    await wait_for(lambda: bool(live.reports()))
    (rep,) = live.reports()
    assert rep["intent_id"] == "e2e-1" and rep["outcome"] == "filled", rep
    # the first order was a post-only at our bid; it either filled as maker or gave way to the taker
    first = live.exchange.order_log[0]
    assert first.client_order_id == client_order_id("e2e-1", 0, 0)
    assert rep["maker_qty"] > 0 or rep["fell_back"]
    assert await live.venue.open_orders("BTCUSDT") == []
    check_books_balance(live, "e2e-1", rep)
    assert [e for e in PendingOrders(live.tmp / "state" / "pending_orders.jsonl").read()] == []


async def test_unknown_outcome_on_the_exchange_is_resolved_without_a_duplicate(live: Live) -> None:
    live.exchange.faults.set("order_503", FaultSetting(count=1))  # committed, answered "Unknown error"
    await live.book()
    live.decide("e2e-2", Side.BUY, 1000.0)
    await wait_for(lambda: bool(live.reports()), within_s=15.0)
    (rep,) = live.reports()
    cid0 = client_order_id("e2e-2", 0, 0)
    posts = [e.client_order_id for e in live.exchange.order_log if e.method == "POST"]
    assert posts.count(cid0) == 1  # found by query (or the stream), adopted, never resent
    assert any(isinstance(u, OrderUpdate) and u.client_order_id == cid0 and u.status.value == "UNKNOWN"
               for u in live.events)
    assert rep["outcome"] == "filled", rep
    assert await live.venue.open_orders("BTCUSDT") == []
    check_books_balance(live, "e2e-2", rep)
