"""Router behaviour against the simulated venue (the local exchange's matching engine), with an event clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedge.bus import Bus
from hedge.events import (
    CancelAll,
    FeedStatus,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderType,
    RiskDecision,
    Side,
    TimeInForce,
)
from hedge.model.clock import EventClock
from hedge.model.instrument import SymbolFilters
from hedge.router import desk as desk_mod
from hedge.router.lifecycle import client_order_id
from hedge.router.pending import PendingOrders
from hedge.state import group_commit
from hedge.state.journal import Journals
from hedge.venue.dry_run import DryRunVenue
from hedge.venue.errors import POST_ONLY_REJECT, OrderNotFound, RateLimited, Retryable

from .rig import ASK, BID, MID, SYM, Rig, config, make_rig, start_router, unknown

FILTERS = SymbolFilters(  # the dry run's (the simulated venue has the local exchange's own)
    symbol=SYM, tick_size=Decimal("0.1"), step_size=Decimal("0.001"), min_qty=Decimal("0.001"),
    max_qty=Decimal("1000"), min_price=Decimal("556.72"), max_price=Decimal("1000000"),
    min_notional=Decimal("100"), percent_up=Decimal("1.05"), percent_down=Decimal("0.95"),
)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await make_rig(tmp_path)
    yield rig
    await rig.router.idle()
    assert rig.router.task_errors == 0
    assert rig.router.lifecycle.stats.illegal == 0
    rig.journals.close()


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
async def test_maker_fill(rig: Rig, side: Side) -> None:
    touch = BID if side is Side.BUY else ASK

    async def ack_in_3ms(_req: OrderRequest) -> None:
        rig.clock.advance_s(0.003)

    rig.venue.on_place = ack_in_3ms  # the ack latency is measured on the engine's clock
    rig.decide(side=side, notional=1000.0)  # 1000 / 67000.05 = 0.0149 -> 0.014
    await rig.router.idle()
    (o,) = await rig.venue.live()
    assert (o.req.tif, o.req.price, o.req.qty, o.req.side) == (TimeInForce.GTX, touch, 0.014, side)
    assert rig.pending_left() == [o.req.client_order_id]  # recorded before it was sent
    assert rig.journal("orders_sent")[0]["client_order_id"] == o.req.client_order_id
    rig.trade(touch)  # the user stream reports the fill
    await rig.router.idle()
    (rep,) = rig.journal("orders_success")
    assert rep["outcome"] == "filled" and rep["filled_qty"] == 0.014 and rep["maker_qty"] == 0.014
    assert rep["avg_price"] == touch and rep["fell_back"] is False
    assert rep["slippage_bps"] == pytest.approx(-(ASK - BID) / 2 / MID * 1e4)  # a maker earns the half spread
    (ex,) = rig.journal("orders_executed")
    assert ex["maker"] is True and ex["filled_qty"] == 0.014
    (h,) = rig.health
    assert (h.symbol, h.maker_fill_ratio, h.fallback_rate, h.reject_rate, h.executions, h.orders) == (
        SYM, 1.0, 0.0, 0.0, 1, 1)
    assert h.ack_p95_ms == h.ack_p50_ms == pytest.approx(3.0) and h.unknown == 0 and h.denied == 0
    # NEW and the fill, each once: the user stream's NEW came first, the ack's NEW is a duplicate (not republished)
    assert [(u.status, u.filled_qty) for u in rig.updates] == [(OrderStatus.NEW, 0.0), (OrderStatus.FILLED, 0.014)]
    assert rig.pending_left() == []
    assert rig.router.executions == {}  # finished: the maker timeout was cancelled with it


async def test_post_only_rejects_reprice_then_taker_within_the_slippage_budget(rig: Rig) -> None:
    # The exchange's book has moved down through our bid (our book is stale): every GTX buy would take.
    rig.exchange_book(asks=[(ASK, 0.0), (67001.0, 0.0), (66999.7, 0.005), (67005.0, 0.005), (67020.0, 1.0)])
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
    (o,) = await rig.venue.orders()  # the exchange accepted only the taker
    assert o.req.tif is TimeInForce.IOC
    assert o.status is OrderStatus.EXPIRED and o.filled == pytest.approx(0.010)  # 67020 is beyond the cap
    (rep,) = rig.journal("orders_failed")
    assert rep["outcome"] == "partial" and rep["filled_qty"] == pytest.approx(0.010) and rep["fell_back"]
    assert "unfilled within the slippage cap" in rep["reasons"][0]
    assert rep["avg_price"] == pytest.approx((66999.7 + 67005.0) / 2)
    h = rig.health[-1]
    assert h.reject_rate == pytest.approx(3 / 4) and h.fallback_rate == 1.0 and h.maker_fill_ratio == 0.0
    # the router publishes the rejects (the user stream never reports one); the taker ends EXPIRED
    assert [(u.status, u.reject_code) for u in rig.updates[:3]] == [(OrderStatus.REJECTED, POST_ONLY_REJECT)] * 3
    assert rig.updates[-1].status is OrderStatus.EXPIRED and rig.updates[-1].client_order_id == ioc.client_order_id
    assert set(codes) == {POST_ONLY_REJECT}
    assert rig.router.lifecycle.orders == {}  # the execution is over: its final records are dropped


async def test_reprice_when_the_touch_moves_away(rig: Rig) -> None:
    rig.decide(notional=1000.0)
    await rig.router.idle()
    (first,) = await rig.venue.live()
    rig.book(bid=BID + 0.1, ask=ASK + 0.1)  # one tick: stays
    await rig.router.idle()
    assert [o.req for o in await rig.venue.live()] == [first.req]
    rig.book(bid=BID + 0.2, ask=ASK + 0.2)  # two ticks (router.reprice_ticks): cancel and re-place
    await rig.router.idle()
    old, second = await rig.venue.orders()
    assert old.req == first.req and old.status is OrderStatus.CANCELED
    assert second.status is OrderStatus.NEW
    assert second.req.price == pytest.approx(BID + 0.2) and second.req.tif is TimeInForce.GTX
    assert second.req.client_order_id != first.req.client_order_id
    rig.trade(BID + 0.2)
    await rig.router.idle()
    assert rig.journal("orders_success")[0]["filled_qty"] == 0.014


async def test_maker_timeout_falls_back_to_taker_for_the_rest(rig: Rig) -> None:
    rig.decide(notional=1000.0)
    await rig.router.idle()
    rig.trade(BID, qty=5.0, taker=Side.SELL)  # the 5.0 queued ahead of us at the bid
    rig.trade(BID, qty=0.004, taker=Side.SELL)  # partial maker fill
    await rig.advance(4.9)
    assert [o.req.tif for o in await rig.venue.orders()] == [TimeInForce.GTX]
    await rig.advance(0.2)  # maker_timeout_s = 5
    gtx, ioc = await rig.venue.orders()
    assert (gtx.req.tif, ioc.req.tif) == (TimeInForce.GTX, TimeInForce.IOC)
    assert gtx.status is OrderStatus.CANCELED and ioc.status is OrderStatus.FILLED
    assert ioc.req.qty == pytest.approx(0.010)  # only what the maker did not fill
    (rep,) = rig.journal("orders_success")
    assert rep["filled_qty"] == pytest.approx(0.014) and rep["maker_qty"] == pytest.approx(0.004) and rep["fell_back"]
    h = rig.health[-1]
    assert h.fallback_rate == 1.0 and h.maker_fill_ratio == pytest.approx(0.004 / 0.014)


async def test_twap_slices_on_the_clock_and_never_overlap(rig: Rig) -> None:
    placed_at: list[tuple[float, str]] = []
    intent_live: list[bool] = []

    async def on_place(req: OrderRequest) -> None:  # entered before the exchange sees the order
        intent_live.append(any(o.req.intent_id == req.intent_id for o in await rig.venue.live()))
        placed_at.append((rig.clock.now_s(), req.client_order_id))

    rig.venue.on_place = on_place
    t0 = rig.clock.now_s()
    rig.decide(notional=10_000.0)  # >= twap.min_notional_usd 5000 -> 5 slices over 60 s
    for i in range(5):
        await rig.router.idle()
        (o,) = await rig.venue.live()
        assert o.req.client_order_id == client_order_id("i1", i, 0)
        rig.trade(o.req.price)  # each slice fills as maker at once
        await rig.advance(12.0 if i < 4 else 0.0)
    assert [t - t0 for t, _ in placed_at] == pytest.approx([0.0, 12.0, 24.0, 36.0, 48.0])
    assert intent_live == [False] * 5, "two live orders"
    qtys = [o.req.qty for o in await rig.venue.orders()]
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
    rig.venue.fail_next("place", unknown(), accept=True)  # placed, but the answer (and the stream's NEW) was lost
    rig.decide()
    await rig.router.idle()
    cid = client_order_id("i1", 0, 0)
    assert rig.router.lifecycle.orders[cid].status is OrderStatus.UNKNOWN
    await rig.advance(0.5)  # first query after backoff(0) = 0.4 s
    assert rig.router.lifecycle.orders[cid].status is OrderStatus.NEW
    assert [c for c in rig.venue.calls if c[0] == "place"] == [("place", cid)]
    assert ("query", cid) in rig.venue.calls
    rig.trade(BID)
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
    (o,) = await rig.venue.orders()
    assert o.req.client_order_id == cid and o.status is OrderStatus.NEW
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
    assert [o.req.client_order_id for o in await rig.venue.live()] == [cid1]  # only then a new attempt
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
    rig.trade(BID, qty=5.0, taker=Side.SELL)  # the queue ahead of it
    rig.trade(BID, qty=0.004, taker=Side.SELL)
    await rig.router.idle()
    cid = client_order_id("i1", 0, 0)
    gtx, ioc = await rig.venue.orders()
    assert gtx.req.client_order_id == cid and gtx.status is OrderStatus.CANCELED and gtx.filled == 0.004
    assert (gtx.req.tif, ioc.req.tif) == (TimeInForce.GTX, TimeInForce.IOC)
    assert rig.journal("orders_success")[0]["filled_qty"] == pytest.approx(0.014)


async def test_a_ban_during_resolution_delays_it_but_never_ends_it_unresolved(tmp_path: Path) -> None:
    # the order never reached the exchange; every query during a 60 s ban (longer than
    # unknown_resolve_s, 30 s) is refused with its Retry-After: that time proves nothing
    rig = await make_rig(tmp_path, maker_timeout_s=600.0)
    rig.venue.fail_next("place", unknown(), accept=False)
    rig.venue.fail_next("query", RateLimited("banned", http_status=418, retry_after_s=60.0, banned=True))
    rig.decide()
    await rig.advance(59.0, step=0.5)
    cid = client_order_id("i1", 0, 0)
    assert [c[0] for c in rig.venue.calls] == ["place", "query"]  # nothing asked during the ban
    assert not rig.alerts and not rig.journal("orders_failed")
    await rig.advance(10.0, step=0.5)  # the ban is over: asked again, proven absent, resent once
    assert [c[0] for c in rig.venue.calls] == ["place", "query", "query", "place"]
    assert [o.req.client_order_id for o in await rig.venue.live()] == [cid]
    assert not rig.alerts and rig.router.lifecycle.orders[cid].resends == 1
    await rig.router.idle()
    rig.journals.close()


async def test_user_stream_resolves_an_unknown_before_the_query(rig: Rig) -> None:
    rig.venue.fail_next("place", unknown(), accept=True)
    rig.decide()
    await rig.router.idle()
    rig.trade(BID)
    await rig.advance(1.0)
    assert rig.journal("orders_success")[0]["filled_qty"] == 0.014
    assert not [c for c in rig.venue.calls if c[0] == "query"]


async def test_rate_limited_placement_waits_retry_after(rig: Rig) -> None:
    rig.venue.fail_next("place", RateLimited("Too many requests", code=-1003, retry_after_s=2.0))
    rig.decide()
    await rig.advance(1.9)
    assert await rig.venue.orders() == []
    await rig.advance(0.2)
    assert len(await rig.venue.live()) == 1  # the next attempt, after Retry-After


async def test_crash_restart_adopts_and_regenerates_the_same_id(tmp_path: Path) -> None:
    rig1 = await make_rig(tmp_path)
    rig1.decide("crash-me")
    await rig1.router.idle()
    (o,) = await rig1.venue.live()
    assert o.req.client_order_id == client_order_id("crash-me", 0, 0)
    rig1.journals.close()  # the process dies: no cleanup of the pending record
    # a second process on the same log dir and exchange (its user stream now goes to the new process)
    bus2 = Bus()
    rig1.venue.bus = bus2
    j2 = Journals(tmp_path)
    r2 = await start_router(bus2, rig1.venue, j2, config(tmp_path), EventClock(rig1.clock.now_ns()), tmp_path)
    await r2.idle()
    # found live -> adopted and cancelled (its intent is stale); the record is closed
    (o,) = await rig1.venue.orders()
    assert o.status is OrderStatus.CANCELED
    assert [e.cid for e in PendingOrders(tmp_path / "state" / "pending_orders.jsonl").read()] == []
    # the same approval replayed after the restart is not executed twice
    intent = OrderIntent(intent_id="crash-me", symbol=SYM, side=Side.BUY, notional=1000.0, strategy="t",
                         reason="replay")
    bus2.publish(RiskDecision(intent=intent, allow=True, max_qty=1.0))
    await r2.idle()
    assert len(await rig1.venue.orders()) == 1 and r2.task_errors == 0
    j2.close()


async def test_crash_between_journal_and_send_is_recovered_without_sending(tmp_path: Path) -> None:
    cid = client_order_id("lost", 0, 0)
    req = OrderRequest(client_order_id=cid, intent_id="lost", symbol=SYM, side=Side.BUY, type=OrderType.LIMIT,
                       qty=0.01, price=BID, tif=TimeInForce.GTX)
    p = PendingOrders(tmp_path / "state" / "pending_orders.jsonl")
    p.add(req)
    p.close()
    rig = await make_rig(tmp_path)
    await rig.router.idle()
    rec = rig.router.lifecycle.orders[cid]
    assert rec.status is OrderStatus.REJECTED and rec.reason == "proven absent"
    assert rig.venue.calls == [("query", cid)]  # queried, never resent
    assert rig.pending_left() == []
    rig.journals.close()


async def test_an_order_whose_pending_record_cannot_be_written_is_rejected_never_sent(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*_args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rig.router.pending, "add", full_disk)
    rig.decide("nodisk")
    (req,) = rig.requests
    rec = rig.router.lifecycle.orders[req.client_order_id]  # (forgotten once its execution has finished)
    statuses = [rec.status]  # refused on the task's own turn, not inside the decision
    await rig.router.idle()
    assert [*statuses, rec.status] == [OrderStatus.PENDING, OrderStatus.REJECTED]
    assert rec.reason.startswith("not sent: pending record failed")
    assert not [c for c in rig.venue.calls if c[0] == "place"]
    (rep,) = rig.journal("orders_failed")
    assert rep["intent_id"] == "nodisk" and rep["orders"] == 1 and rep["filled_qty"] == 0.0


async def test_dry_run_sends_nothing_and_journals(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, venue_factory=lambda j: DryRunVenue(j, {SYM: FILTERS}))
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


async def test_cancel_all_halts_executions_and_cancels_everything(rig: Rig) -> None:
    rig.decide("a", notional=1000.0)
    rig.decide("b", notional=10_000.0)  # a TWAP: slice 0 now, the rest later
    await rig.router.idle()
    assert len(await rig.venue.live()) == 2
    rig.bus.publish(CancelAll(reason="kill switch"))
    await rig.router.idle()
    assert await rig.venue.live() == []
    assert ("cancel_all", SYM) in rig.venue.calls
    reports = rig.journal("orders_failed")
    assert sorted(r["intent_id"] for r in reports) == ["a", "b"]
    assert all("halted: kill switch" in r["reasons"] for r in reports)
    n = len(await rig.venue.orders())
    await rig.advance(70.0, step=1.0)  # past the maker timeout and every TWAP slice: nothing more is sent
    assert len(await rig.venue.orders()) == n and rig.router.executions == {}


async def test_cancel_all_with_flatten_sends_reduce_only_market_orders(rig: Rig) -> None:
    # a long of 0.02 at the exchange (bought by another process); the exchange reports the position
    await rig.venue.place(OrderRequest(client_order_id="other", intent_id="other", symbol=SYM, side=Side.BUY,
                                       type=OrderType.LIMIT, qty=0.02, price=ASK, tif=TimeInForce.IOC))
    assert rig.router.halting.positions == {SYM: pytest.approx(0.02)}
    rig.bus.publish(CancelAll(reason="flatten now", flatten=True))
    await rig.router.idle()
    _, o = await rig.venue.orders()
    assert (o.req.type, o.req.side, o.req.qty, o.req.reduce_only) == (OrderType.MARKET, Side.SELL, 0.02, True)
    assert o.status is OrderStatus.FILLED and o.filled == pytest.approx(0.02)
    (rep,) = rig.journal("orders_success")
    assert rep["filled_qty"] == pytest.approx(0.02) and rep["avg_price"] == BID


async def test_live_orders_are_queried_after_the_user_stream_comes_back(rig: Rig) -> None:
    rig.decide(notional=1000.0)
    await rig.router.idle()
    rig.bus.publish(FeedStatus(connection="user", connected=False, reason="reset"))
    rig.trade(BID, stream=False)  # filled while nobody was listening
    await rig.router.idle()
    assert rig.journal("orders_success") == []
    rig.bus.publish(FeedStatus(connection="user", connected=True))
    await rig.router.idle()
    (rep,) = rig.journal("orders_success")
    assert rep["filled_qty"] == 0.014 and rep["maker_qty"] == 0.014


@pytest.mark.parametrize(("notional", "max_qty"), [(float("nan"), 1.0), (float("inf"), float("inf")), (-5.0, 1.0),
                                                   (1000.0, float("nan")), (1000.0, 0.0)])
async def test_bad_numbers_in_an_approval_are_denied_not_crashed(rig: Rig, notional: float, max_qty: float) -> None:
    intent = OrderIntent(intent_id="bad", symbol=SYM, side=Side.BUY, notional=notional, strategy="t", reason="x")
    rig.bus.publish(RiskDecision(intent=intent, allow=True, max_qty=max_qty))
    await rig.router.idle()
    assert rig.venue.calls == [] and rig.bus.stats().handler_errors == {}
    (d,) = rig.journal("orders_denied")
    assert d["filter"] == "INPUT" and "no usable quantity" in d["reason"]


async def test_a_failed_query_of_a_live_order_is_retried(rig: Rig) -> None:
    rig.decide(notional=1000.0)
    await rig.router.idle()
    (o,) = await rig.venue.live()
    with rig.venue.stream_down():  # cancelled on the exchange, and the stream never said so
        await rig.venue.cancel(SYM, o.req.client_order_id)
    rig.venue.calls.clear()
    rig.venue.fail_next("cancel", OrderNotFound("Unknown order sent.", code=-2011, http_status=400))  # Binance's answer
    rig.venue.fail_next("query", Retryable("Service Unavailable.", http_status=503))
    await rig.advance(5.0)  # maker timeout: cancel -> -2011 -> query fails -> query again after backoff
    await rig.advance(1.0)
    assert [c[0] for c in rig.venue.calls] == ["cancel", "query", "query", "place"]
    assert [x.req.tif for x in await rig.venue.orders()] == [TimeInForce.GTX, TimeInForce.IOC]
    (rep,) = rig.journal("orders_success")
    assert rep["fell_back"] and rep["filled_qty"] == 0.014


@pytest.mark.parametrize("error", [unknown(), Retryable("Service Unavailable.", http_status=503)])
async def test_a_failed_answer_after_the_stream_finished_the_order_is_ignored(rig: Rig, error: Any) -> None:
    """Found by the duplicate-safety trials (order_drop on a taker): the order was committed, the user
    stream reported it FILLED and the intent finished before the placement's transport error arrived."""
    rig.venue.fail_next("place", error, accept=True, stream=True)
    rig.decide(urgent=True)
    await rig.router.idle()
    (rep,) = rig.journal("orders_success")
    assert rep["filled_qty"] == 0.014 and rep["orders"] == 1
    await rig.advance(10.0)  # nothing is queried, resent or retried for an order already final
    assert [c[0] for c in rig.venue.calls] == ["place"]
    assert not rig.alerts and rig.router.executions == {}


async def test_an_order_leaves_only_once_the_journal_lines_before_it_are_on_disk(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()  # the disk: holds every fdatasync until the test opens it
    real = group_commit.run_sync_jobs
    monkeypatch.setattr(group_commit, "run_sync_jobs", lambda jobs: (gate.wait(10), real(jobs))[1])
    rig.decide("first")
    await rig.router.idle()  # it went out, though its own request line is not synced yet
    assert len(rig.venue.accepted) == 1 and rig.journals.group.synced_seq == 0
    assert [u["status"] for u in rig.journal("order_updates")] == ["NEW"]  # its answer: in the file (kill -9 safe)
    rig.decide("second", side=Side.SELL)
    for _ in range(20):  # loop turns, not time: nothing else could let it out
        await asyncio.sleep(0)
    assert len(rig.venue.accepted) == 1  # held: the first order's answer is not on disk yet
    gate.set()
    await rig.router.idle()
    assert len(rig.venue.accepted) == 2 and rig.journals.group.synced_seq >= 2


async def test_the_memory_of_finished_intents_stays_bounded(rig: Rig) -> None:
    n = desk_mod._FINISHED_MEMORY + 1000
    for i in range(n):  # each denied by its filter: finished at once, remembered
        rig.decide(f"tiny{i}", notional=50.0)
    await rig.router.idle()
    assert len(rig.router.desk._finished) == desk_mod._FINISHED_MEMORY <= 4096
    ignored = rig.router.ignored
    rig.decide(f"tiny{n - 1}", notional=5000.0)  # the newest are still refused on a replayed approval
    await rig.router.idle()
    assert rig.router.ignored == ignored + 1 and rig.venue.calls == []
