"""Router behaviour against an honest in-memory venue, with a manual clock (nothing sleeps)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    Alert,
    BookUpdate,
    CancelAll,
    FeedStatus,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    RiskDecision,
    RouterHealth,
    Side,
    TimeInForce,
)
from hedge.router.clock import ManualClock
from hedge.router.filters import SymbolFilters
from hedge.router.lifecycle import client_order_id
from hedge.router.pending import PendingOrders
from hedge.router.router import Router
from hedge.state.journal import Journals, read_journal
from hedge.venue.dry_run import DryRunVenue
from hedge.venue.errors import POST_ONLY_REJECT, RateLimited, Retryable
from tests.kit.config import make_config
from tests.kit.wait import wait_for

from .memory_venue import MemoryVenue, unknown

FILTERS = {
    "BTCUSDT": SymbolFilters(
        symbol="BTCUSDT", tick_size=Decimal("0.1"), step_size=Decimal("0.001"), min_qty=Decimal("0.001"),
        max_qty=Decimal("1000"), min_price=Decimal("556.72"), max_price=Decimal("1000000"),
        min_notional=Decimal("100"), percent_up=Decimal("1.05"), percent_down=Decimal("0.95"),
    )
}
BID, ASK = 67000.0, 67000.1
MID = (BID + ASK) / 2


def backoff(n: int) -> float:
    return min(6.4, 0.4 * 2.0**n)


def config(tmp_path: Path, **router: Any) -> Config:
    return make_config(tmp_path, runtime__router={"max_post_only_rejects": 2, **router})


@dataclass
class Rig:
    tmp: Path
    bus: Bus
    venue: Any
    journals: Journals
    clock: ManualClock
    router: Router
    health: list[RouterHealth] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    requests: list[OrderRequest] = field(default_factory=list)
    updates: list[OrderUpdate] = field(default_factory=list)

    def book(self, bid: float = BID, ask: float = ASK, bid_qty: float = 5.0, ask_qty: float = 5.0) -> None:
        self.bus.publish(BookUpdate(
            symbol="BTCUSDT", update_id=1, valid=True, bid_px=bid, bid_qty=bid_qty, ask_px=ask, ask_qty=ask_qty,
            mid=(bid + ask) / 2, micro=(bid + ask) / 2, imbalance=0.0, spread_bps=(ask - bid) / ((bid + ask) / 2) * 1e4,
        ))

    def decide(self, intent_id: str = "i1", side: Side = Side.BUY, notional: float = 1000.0, *, allow: bool = True,
               urgent: bool = False, max_qty: float = 100.0) -> None:
        intent = OrderIntent(intent_id=intent_id, symbol="BTCUSDT", side=side, notional=notional, strategy="t",
                             reason="test", urgent=urgent, recv_ns=time.time_ns())
        self.bus.publish(RiskDecision(intent=intent, allow=allow, max_qty=max_qty if allow else 0.0))

    async def advance(self, seconds: float, step: float = 0.1) -> None:
        """Move the clock in small steps, letting venue tasks run between them."""
        await self.router.idle()
        start, n = self.clock.now(), max(1, round(seconds / step))
        for i in range(1, n + 1):
            self.clock.advance_to(start + seconds * i / n)
            await self.router.idle()

    def journal(self, name: str) -> list[dict[str, Any]]:
        self.journals.flush()
        path = self.tmp / f"{name}.jsonl"
        return [{"kind": r.kind, **r.decode()} for r in read_journal(path)] if path.exists() else []


async def make_rig(tmp_path: Path, venue_factory: Any = None, **router: Any) -> Rig:
    cfg = config(tmp_path, **router)
    bus = Bus()
    journals = Journals(tmp_path)
    venue = venue_factory(bus, journals) if venue_factory else MemoryVenue(bus, dict(FILTERS))
    if isinstance(venue, MemoryVenue):
        venue.bids = [(BID, 5.0), (66999.0, 5.0)]
        venue.asks = [(ASK, 5.0), (67001.0, 5.0)]
    clock = ManualClock(1000.0)
    r = Router(bus, venue, journals, cfg, backoff=backoff, clock=clock,
               pending=PendingOrders(tmp_path / "state" / "pending_orders.jsonl"))
    rig = Rig(tmp_path, bus, venue, journals, clock, r)
    bus.subscribe(RouterHealth, rig.health.append)
    bus.subscribe(Alert, rig.alerts.append)
    bus.subscribe(OrderRequest, rig.requests.append)
    bus.subscribe(OrderUpdate, rig.updates.append)
    await r.start()
    rig.book()
    return rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await make_rig(tmp_path)
    yield rig
    await rig.router.idle()
    assert rig.router.task_errors == 0
    assert rig.router.lifecycle.stats.illegal == 0
    rig.journals.close()


def pending_left(rig: Rig) -> list[str]:
    return [e.cid for e in PendingOrders(rig.tmp / "state" / "pending_orders.jsonl").read()]


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
async def test_maker_fill(rig: Rig, side: Side) -> None:
    touch = BID if side is Side.BUY else ASK
    rig.decide(side=side, notional=1000.0)  # 1000 / 67000.05 = 0.0149 -> 0.014
    await rig.router.idle()
    (o,) = rig.venue.live()
    assert (o.req.tif, o.req.price, o.req.qty, o.req.side) == (TimeInForce.GTX, touch, 0.014, side)
    assert pending_left(rig) == [o.req.client_order_id]  # recorded before it was sent
    assert rig.journal("orders_sent")[0]["client_order_id"] == o.req.client_order_id
    rig.venue.trade(touch)  # the user stream reports the fill
    await rig.router.idle()
    (rep,) = rig.journal("orders_success")
    assert rep["outcome"] == "filled" and rep["filled_qty"] == 0.014 and rep["maker_qty"] == 0.014
    assert rep["avg_price"] == touch and rep["fell_back"] is False
    assert rep["slippage_bps"] == pytest.approx(-(ASK - BID) / 2 / MID * 1e4)  # a maker earns the half spread
    (ex,) = rig.journal("orders_executed")
    assert ex["maker"] is True and ex["filled_qty"] == 0.014
    (h,) = rig.health
    assert (h.symbol, h.maker_fill_ratio, h.fallback_rate, h.reject_rate, h.executions, h.orders) == (
        "BTCUSDT", 1.0, 0.0, 0.0, 1, 1)
    assert h.ack_p95_ms >= h.ack_p50_ms > 0.0 and h.unknown == 0 and h.denied == 0
    # the ack's NEW is published by the router (once), the fill by the venue's stream (once)
    assert [(u.status, u.filled_qty) for u in rig.updates] == [(OrderStatus.NEW, 0.0), (OrderStatus.FILLED, 0.014)]
    assert pending_left(rig) == []
    assert rig.clock.pending() == 0  # the maker timeout was cancelled


async def test_post_only_rejects_reprice_then_taker_within_the_slippage_budget(rig: Rig) -> None:
    # The venue's book has moved down through our bid (our book is stale): every GTX buy would take.
    rig.venue.asks = [(66999.7, 0.005), (67005.0, 0.005), (67020.0, 1.0)]
    codes: list[int] = []
    rig.bus.subscribe(OrderRequest, lambda r: codes.extend(
        rec.reject_code for rec in rig.router.lifecycle.orders.values() if rec.status is OrderStatus.REJECTED))
    rig.decide(notional=1000.0)
    await rig.router.idle()
    places = [c for c in rig.venue.calls if c[0] == "place"]
    assert len(places) == 4  # 1 + max_post_only_rejects reprices, then the taker
    assert len({cid for _, cid in places}) == 4
    gtx = [r for r in rig.requests if r.tif is TimeInForce.GTX]
    (ioc,) = [r for r in rig.requests if r.tif is TimeInForce.IOC]
    assert [r.price for r in gtx] == [BID, 66999.9, 66999.8]  # each reprice one tick more passive
    # cap = arrival mid x (1 + min(budget, half spread + bucket x participation scale + bucket)) bps
    spread_bps = (ASK - BID) / MID * 1e4
    cap = MID * (1 + min(10.0, spread_bps / 2 + 1.0 + 1.0) / 1e4)
    assert ioc.price <= cap and cap - ioc.price < 0.1  # rounded down onto the tick, never past the cap
    assert ioc.qty == 0.014
    (o,) = [o for o in rig.venue.orders.values() if o.req.tif is TimeInForce.IOC]
    assert o.status is OrderStatus.EXPIRED and o.filled == pytest.approx(0.010)  # 67020 is beyond the cap
    (rep,) = rig.journal("orders_failed")
    assert rep["outcome"] == "partial" and rep["filled_qty"] == pytest.approx(0.010) and rep["fell_back"]
    assert "unfilled within the slippage cap" in rep["reasons"][0]
    assert rep["avg_price"] == pytest.approx((66999.7 + 67005.0) / 2)
    h = rig.health[-1]
    assert h.reject_rate == pytest.approx(3 / 4) and h.fallback_rate == 1.0 and h.maker_fill_ratio == 0.0
    assert [(u.status, u.reject_code) for u in rig.updates] == [(OrderStatus.REJECTED, POST_ONLY_REJECT)] * 3 + [
        (OrderStatus.EXPIRED, 0)]
    assert set(codes) == {POST_ONLY_REJECT}
    assert rig.router.lifecycle.orders == {}  # the execution is over: its final records are dropped


async def test_reprice_when_the_touch_moves_away(rig: Rig) -> None:
    rig.decide(notional=1000.0)
    await rig.router.idle()
    (first,) = rig.venue.live()
    rig.book(bid=BID + 0.1, ask=ASK + 0.1)  # one tick: stays
    await rig.router.idle()
    assert rig.venue.live() == [first]
    rig.venue.asks = [(ASK + 0.2, 5.0)]
    rig.book(bid=BID + 0.2, ask=ASK + 0.2)  # two ticks (router.reprice_ticks): cancel and re-place
    await rig.router.idle()
    assert first.status is OrderStatus.CANCELED
    (second,) = rig.venue.live()
    assert second.req.price == pytest.approx(BID + 0.2) and second.req.tif is TimeInForce.GTX
    assert second.req.client_order_id != first.req.client_order_id
    rig.venue.trade(BID + 0.2)
    await rig.router.idle()
    assert rig.journal("orders_success")[0]["filled_qty"] == 0.014


async def test_maker_timeout_falls_back_to_taker_for_the_rest(rig: Rig) -> None:
    rig.decide(notional=1000.0)
    await rig.router.idle()
    rig.venue.trade(BID, qty=0.004)  # partial maker fill
    await rig.advance(4.9)
    assert [o.req.tif for o in rig.venue.orders.values()] == [TimeInForce.GTX]
    await rig.advance(0.2)  # maker_timeout_s = 5
    tifs = [o.req.tif for o in rig.venue.orders.values()]
    assert tifs == [TimeInForce.GTX, TimeInForce.IOC]
    gtx, ioc = rig.venue.orders.values()
    assert gtx.status is OrderStatus.CANCELED and ioc.status is OrderStatus.FILLED
    assert ioc.req.qty == pytest.approx(0.010)  # only what the maker did not fill
    (rep,) = rig.journal("orders_success")
    assert rep["filled_qty"] == pytest.approx(0.014) and rep["maker_qty"] == pytest.approx(0.004) and rep["fell_back"]
    h = rig.health[-1]
    assert h.fallback_rate == 1.0 and h.maker_fill_ratio == pytest.approx(0.004 / 0.014)


async def test_twap_slices_on_the_clock_and_never_overlap(rig: Rig) -> None:
    placed_at: list[tuple[float, str]] = []

    def on_place(req: OrderRequest) -> None:
        assert not [o for o in rig.venue.live() if o.req.intent_id == req.intent_id], "two live orders"
        placed_at.append((rig.clock.now(), req.client_order_id))

    rig.venue.on_place = on_place
    t0 = rig.clock.now()
    rig.decide(notional=10_000.0)  # >= twap.min_notional_usd 5000 -> 5 slices over 60 s
    for i in range(5):
        await rig.router.idle()
        (o,) = rig.venue.live()
        assert o.req.client_order_id == client_order_id("i1", i, 0)
        rig.venue.trade(o.req.price)  # each slice fills as maker at once
        await rig.advance(12.0 if i < 4 else 0.0)
    assert [t - t0 for t, _ in placed_at] == pytest.approx([0.0, 12.0, 24.0, 36.0, 48.0])
    qtys = [o.req.qty for o in rig.venue.orders.values()]
    assert sum(qtys) == pytest.approx(0.149) and max(qtys) - min(qtys) <= 0.001 + 1e-12
    (rep,) = rig.journal("orders_success")
    assert rep["slices"] == 5 and rep["filled_qty"] == pytest.approx(0.149) and rep["orders"] == 5


async def test_unapproved_and_filter_denied_intents_send_nothing(rig: Rig) -> None:
    rig.decide("veto", allow=False)
    rig.decide("tiny", notional=50.0)  # 0.00075 BTC: below one step
    rig.decide("small", notional=90.0)  # 0.001 BTC after rounding: 67 USDT < MIN_NOTIONAL 100
    await rig.router.idle()
    assert rig.venue.calls == []
    d1, d2 = rig.journal("orders_denied")
    assert (d1["intent_id"], d1["filter"], d2["intent_id"], d2["filter"]) == ("tiny", "LOT_SIZE", "small", "MIN_NOTIONAL")
    assert rig.health[-1].denied == 2 and rig.journal("orders_failed")[0]["outcome"] == "failed"
    assert rig.router.ignored == 1
    rig.decide("tiny", notional=5000.0)  # a replayed approval of a finished intent is ignored
    await rig.router.idle()
    assert rig.venue.calls == [] and rig.router.ignored == 2


async def test_unknown_outcome_found_is_adopted_not_resent(rig: Rig) -> None:
    rig.venue.fail_next("place", unknown(), accept=True)  # placed, but the answer was lost
    rig.decide()
    await rig.router.idle()
    cid = client_order_id("i1", 0, 0)
    assert rig.router.lifecycle.orders[cid].status is OrderStatus.UNKNOWN
    await rig.advance(0.5)  # first query after backoff(0) = 0.4 s
    assert rig.router.lifecycle.orders[cid].status is OrderStatus.NEW
    assert [c for c in rig.venue.calls if c[0] == "place"] == [("place", cid)]
    assert ("query", cid) in rig.venue.calls
    rig.venue.trade(BID)
    await rig.router.idle()
    assert rig.journal("orders_success")[0]["filled_qty"] == 0.014
    # the router published what it learnt over REST: UNKNOWN, then NEW from the query; the fill came from the stream
    assert [u.status for u in rig.updates] == [OrderStatus.UNKNOWN, OrderStatus.NEW, OrderStatus.FILLED]
    assert rig.health[-1].unknown == 1


async def test_unknown_outcome_absent_is_resent_once_under_the_same_id(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, maker_timeout_s=60.0)
    rig.venue.fail_next("place", unknown(), accept=False)  # lost before the exchange saw it
    rig.decide()
    cid = client_order_id("i1", 0, 0)
    await rig.advance(5.9)
    # "not found" at 0.4 s is not proof: the request could still be inside the exchange. Nothing is resent
    # until the request is older than recvWindow (5 s) + 1 s, when Binance would refuse it anyway.
    assert rig.venue.calls == [("place", cid), ("query", cid)]
    await rig.advance(0.2)
    assert rig.venue.calls == [("place", cid), ("query", cid), ("query", cid), ("place", cid)]
    assert len(rig.venue.orders) == 1 and rig.venue.orders[cid].req.client_order_id == cid
    assert rig.router.lifecycle.orders[cid].resends == 1
    await rig.router.idle()
    rig.journals.close()


async def test_unknown_twice_absent_twice_then_next_attempt(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, maker_timeout_s=60.0)
    rig.venue.fail_next("place", unknown(), accept=False)
    rig.venue.fail_next("place", unknown(), accept=False)
    rig.decide()
    await rig.advance(14.0, step=0.2)
    cid0, cid1 = client_order_id("i1", 0, 0), client_order_id("i1", 0, 1)
    rec0 = rig.router.lifecycle.orders[cid0]
    assert rec0.status is OrderStatus.REJECTED and rec0.reason == "proven absent" and rec0.resends == 1
    assert [o.req.client_order_id for o in rig.venue.live()] == [cid1]  # only then a new attempt
    assert [c[0] for c in rig.venue.calls].count("place") == 3
    await rig.router.idle()
    rig.journals.close()


async def test_unknown_outcome_never_gives_two_live_orders_and_escalates(rig: Rig) -> None:
    rig.venue.fail_next("place", unknown(), accept=True)
    for _ in range(40):
        rig.venue.fail_next("query", Retryable("Service Unavailable.", http_status=503))
    rig.decide()
    await rig.advance(40.0, step=0.5)  # past maker_timeout_s and unknown_resolve_s (30)
    assert [c[0] for c in rig.venue.calls].count("place") == 1  # no taker, no resend while unknown
    assert any(a.severity == "critical" and "unknown" in a.title for a in rig.alerts)
    assert rig.journal("orders_failed")[0]["kind"] == "unresolved"
    rig.decide()  # the same intent again: still blocked
    await rig.router.idle()
    assert [c[0] for c in rig.venue.calls].count("place") == 1
    # the user stream finally reports it: adopted, and the pending timeout's cancel follows
    rig.venue.faults.clear()
    rig.venue.trade(BID, qty=0.004)
    await rig.router.idle()
    cid = client_order_id("i1", 0, 0)
    assert rig.venue.orders[cid].status is OrderStatus.CANCELED and rig.venue.orders[cid].filled == 0.004
    assert [o.req.tif for o in rig.venue.orders.values()] == [TimeInForce.GTX, TimeInForce.IOC]
    assert rig.journal("orders_success")[0]["filled_qty"] == pytest.approx(0.014)


async def test_user_stream_resolves_an_unknown_before_the_query(rig: Rig) -> None:
    rig.venue.fail_next("place", unknown(), accept=True)
    rig.decide()
    await rig.router.idle()
    rig.venue.trade(BID)
    await rig.advance(1.0)
    assert rig.journal("orders_success")[0]["filled_qty"] == 0.014
    assert not [c for c in rig.venue.calls if c[0] == "query"]


async def test_rate_limited_placement_waits_retry_after(rig: Rig) -> None:
    rig.venue.fail_next("place", RateLimited("Too many requests", code=-1003, retry_after_s=2.0))
    rig.decide()
    await rig.advance(1.9)
    assert len(rig.venue.orders) == 0
    await rig.advance(0.2)
    assert len(rig.venue.live()) == 1  # the next attempt, after Retry-After


async def test_crash_restart_adopts_and_regenerates_the_same_id(tmp_path: Path) -> None:
    rig1 = await make_rig(tmp_path)
    rig1.decide("crash-me")
    await rig1.router.idle()
    (o,) = rig1.venue.live()
    assert o.req.client_order_id == client_order_id("crash-me", 0, 0)
    rig1.journals.close()  # the process dies: no cleanup of the pending record
    # a second process on the same log dir and exchange
    cfg = config(tmp_path)
    bus2 = Bus()
    rig1.venue.bus = bus2
    j2 = Journals(tmp_path)
    r2 = Router(bus2, rig1.venue, j2, cfg, backoff=backoff, clock=ManualClock(),
                pending=PendingOrders(tmp_path / "state" / "pending_orders.jsonl"))
    await r2.start()
    await r2.idle()
    # found live -> adopted and cancelled (its intent is stale); the record is closed
    assert o.status is OrderStatus.CANCELED
    assert [e.cid for e in PendingOrders(tmp_path / "state" / "pending_orders.jsonl").read()] == []
    # the same approval replayed after the restart is not executed twice
    intent = OrderIntent(intent_id="crash-me", symbol="BTCUSDT", side=Side.BUY, notional=1000.0, strategy="t",
                         reason="replay")
    bus2.publish(RiskDecision(intent=intent, allow=True, max_qty=1.0))
    await r2.idle()
    assert len(rig1.venue.orders) == 1 and r2.task_errors == 0
    j2.close()


async def test_crash_between_journal_and_send_is_recovered_without_sending(tmp_path: Path) -> None:
    cid = client_order_id("lost", 0, 0)
    req = OrderRequest(client_order_id=cid, intent_id="lost", symbol="BTCUSDT", side=Side.BUY,
                       type=OrderType.LIMIT,
                       qty=0.01, price=BID, tif=TimeInForce.GTX)
    p = PendingOrders(tmp_path / "state" / "pending_orders.jsonl")
    p.add(req)
    p.close()
    rig = await make_rig(tmp_path)
    await rig.router.idle()
    rec = rig.router.lifecycle.orders[cid]
    assert rec.status is OrderStatus.REJECTED and rec.reason == "proven absent"
    assert rig.venue.calls == [("query", cid)]  # queried, never resent
    assert pending_left(rig) == []
    rig.journals.close()


async def test_dry_run_sends_nothing_and_journals(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, venue_factory=lambda bus, j: DryRunVenue(j, dict(FILTERS)))
    rig.decide(notional=1000.0)
    await rig.advance(5.1)
    dry = rig.journal("orders_dry_run")
    assert [d["kind"] for d in dry] == ["place", "cancel", "place"]
    assert [d.get("tif") for d in dry] == ["GTX", None, "IOC"]
    assert dry[0]["price"] == BID and dry[0]["qty"] == 0.014
    (rep,) = rig.journal("orders_failed")  # nothing can fill in a dry run
    assert rep["outcome"] == "failed" and rep["filled_qty"] == 0.0
    assert rig.journal("orders_executed") == []
    assert rig.router.task_errors == 0
    rig.journals.close()


async def test_service_refreshes_filters(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, filters_refresh_s=0.01)
    task = asyncio.get_running_loop().create_task(rig.router.run())
    rig.venue.filters["BTCUSDT"] = msgspec.structs.replace(FILTERS["BTCUSDT"], tick_size=Decimal("0.5"))
    await wait_for(lambda: rig.router.filters["BTCUSDT"].f.tick_size == Decimal("0.5"), what="refreshed filters")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert rig.router.filters["BTCUSDT"].f.tick_size == Decimal("0.5")
    assert rig.venue.calls[-1] == ("close", "")  # the service closes its venue on shutdown
    rig.journals.close()


async def test_cancel_all_halts_executions_and_cancels_everything(rig: Rig) -> None:
    rig.decide("a", notional=1000.0)
    rig.decide("b", notional=10_000.0)  # a TWAP: slice 0 now, the rest later
    await rig.router.idle()
    assert len(rig.venue.live()) == 2
    rig.bus.publish(CancelAll(reason="kill switch"))
    await rig.router.idle()
    assert rig.venue.live() == []
    assert ("cancel_all", "BTCUSDT") in rig.venue.calls
    reports = rig.journal("orders_failed")
    assert sorted(r["intent_id"] for r in reports) == ["a", "b"]
    assert all("halted: kill switch" in r["reasons"] for r in reports)
    n = len(rig.venue.orders)
    await rig.advance(70.0, step=1.0)  # past the maker timeout and every TWAP slice: nothing more is sent
    assert len(rig.venue.orders) == n and rig.router.executions == {}


async def test_cancel_all_with_flatten_sends_reduce_only_market_orders(rig: Rig) -> None:
    rig.bus.publish(Position(symbol="BTCUSDT", qty=0.02, entry_price=66000.0))
    rig.bus.publish(CancelAll(reason="flatten now", flatten=True))
    await rig.router.idle()
    (o,) = rig.venue.orders.values()
    assert (o.req.type, o.req.side, o.req.qty, o.req.reduce_only) == (OrderType.MARKET, Side.SELL, 0.02, True)
    assert o.status is OrderStatus.FILLED and o.filled == pytest.approx(0.02)
    (rep,) = rig.journal("orders_success")
    assert rep["filled_qty"] == pytest.approx(0.02) and rep["avg_price"] == BID


async def test_live_orders_are_queried_after_the_user_stream_comes_back(rig: Rig) -> None:
    rig.decide(notional=1000.0)
    await rig.router.idle()
    rig.bus.publish(FeedStatus(connection="user", connected=False, reason="reset"))
    rig.venue.trade(BID, stream=False)  # filled while nobody was listening
    await rig.router.idle()
    assert rig.journal("orders_success") == []
    rig.bus.publish(FeedStatus(connection="user", connected=True))
    await rig.router.idle()
    (rep,) = rig.journal("orders_success")
    assert rep["filled_qty"] == 0.014 and rep["maker_qty"] == 0.014


@pytest.mark.parametrize(("notional", "max_qty"), [(float("nan"), 1.0), (float("inf"), float("inf")), (-5.0, 1.0),
                                                   (1000.0, float("nan")), (1000.0, 0.0)])
async def test_bad_numbers_in_an_approval_are_denied_not_crashed(rig: Rig, notional: float, max_qty: float) -> None:
    intent = OrderIntent(intent_id="bad", symbol="BTCUSDT", side=Side.BUY, notional=notional, strategy="t", reason="x")
    rig.bus.publish(RiskDecision(intent=intent, allow=True, max_qty=max_qty))
    await rig.router.idle()
    assert rig.venue.calls == [] and rig.bus.stats().handler_errors == {}
    (d,) = rig.journal("orders_denied")
    assert d["filter"] == "INPUT" and "no usable quantity" in d["reason"]


async def test_a_failed_query_of_a_live_order_is_retried(rig: Rig) -> None:
    rig.decide(notional=1000.0)
    await rig.router.idle()
    (o,) = rig.venue.live()
    o.status = OrderStatus.CANCELED  # cancelled on the exchange, and the stream never said so
    rig.venue.fail_next("query", Retryable("Service Unavailable.", http_status=503))
    await rig.advance(5.0)  # maker timeout: cancel -> -2011 -> query fails -> query again after backoff
    await rig.advance(1.0)
    assert [c[0] for c in rig.venue.calls] == ["place", "cancel", "query", "query", "place"]
    assert [x.req.tif for x in rig.venue.orders.values()] == [TimeInForce.GTX, TimeInForce.IOC]
    (rep,) = rig.journal("orders_success")
    assert rep["fell_back"] and rep["filled_qty"] == 0.014


@pytest.mark.parametrize("error", [unknown(), Retryable("Service Unavailable.", http_status=503)])
async def test_a_failed_answer_after_the_stream_finished_the_order_is_ignored(rig: Rig, error: Exception) -> None:
    """Found by the duplicate-safety trials (order_drop on a taker): the order was committed, the user
    stream reported it FILLED and the intent finished before the placement's transport error arrived."""
    orig = rig.venue.place

    async def place(req: OrderRequest) -> Any:
        await orig(req)
        rig.bus.publish(rig.venue.orders[req.client_order_id].update())  # the stream is faster than the answer
        raise error

    rig.venue.place = place
    rig.decide(urgent=True)
    await rig.router.idle()
    (rep,) = rig.journal("orders_success")
    assert rep["filled_qty"] == 0.014 and rep["orders"] == 1
    await rig.advance(10.0)  # nothing is queried, resent or retried for an order already final
    assert [c[0] for c in rig.venue.calls] == ["place"]
    assert not rig.alerts and rig.router.executions == {}
