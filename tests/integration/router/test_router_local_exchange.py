"""The router end to end on the local exchange: real sockets, real ccxt, the real user-data stream."""

from __future__ import annotations

import contextlib
import functools
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest

from hedge.bus import Bus
from hedge.config import HttpConfig, TwapConfig
from hedge.events import (
    Event,
    FeedStatus,
    Fill,
    OrderStatus,
    OrderUpdate,
    Position,
    RateLimit,
    Side,
)
from hedge.exchange.faults import FaultSetting
from hedge.exchange.server import LocalExchange
from hedge.model.clock import Clock, EventClock, LiveClock
from hedge.router.lifecycle import client_order_id
from hedge.router.pending import PendingOrders
from hedge.router.stage import RouterStage
from hedge.state.journal import Journals, read_journal
from hedge.venue.binance import BinanceVenue
from hedge.venue.user_stream import UserStream
from tests.integration.router.approvals import approval, top_of_book
from tests.kit import exchange as kit_exchange
from tests.kit.config import make_config
from tests.kit.wait import wait_for as kit_wait_for

wait_for = functools.partial(kit_wait_for, timeout=10.0, interval=0.02)


@dataclass
class Live:
    exchange: LocalExchange
    venue: BinanceVenue
    router: RouterStage
    bus: Bus
    journals: Journals
    tmp: Path
    events: list[Event]

    async def touch(self) -> tuple[float, float, float, float]:
        d = await self.venue.client.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 5})
        return float(d["bids"][0][0]), float(d["bids"][0][1]), float(d["asks"][0][0]), float(d["asks"][0][1])

    def feed(self, bid: float, ask: float, *, mid: float = 0.0, bid_qty: float = 1.0, ask_qty: float = 1.0) -> None:
        """Give the router this view of the book (the tests choose it: stale, crossed, off-tick)."""
        self.bus.publish(top_of_book("BTCUSDT", bid, ask, mid=mid, bid_qty=bid_qty, ask_qty=ask_qty))

    async def book(self) -> tuple[float, float]:
        """The exchange's current touch, given to the router."""
        bid, bq, ask, aq = await self.touch()
        self.feed(bid, ask, bid_qty=bq, ask_qty=aq)
        return bid, ask

    def decide(self, intent_id: str, side: Side, notional: float, *, urgent: bool = False) -> None:
        self.bus.publish(approval("BTCUSDT", intent_id, side, notional, strategy="e2e", urgent=urgent))

    def sent(self, kinds: tuple[str, ...] = ("request", "resend")) -> list[tuple[int, dict[str, Any]]]:
        """orders_sent.jsonl: (journal time ns, request) of every order the router sent, in order (``kinds``:
        "request", "resend", and "query": the answers to queries by client order id)."""
        self.journals.flush()
        p = self.tmp / "orders_sent.jsonl"
        return [(r.ts_ns, r.decode()) for r in read_journal(p) if r.kind in kinds] if p.exists() else []

    def journaled(self, cid: str) -> list[tuple[str, dict[str, Any]]]:
        """orders_sent.jsonl's (kind, record) lines of one client order id, in order."""
        self.journals.flush()
        return [(r.kind, d) for r in read_journal(self.tmp / "orders_sent.jsonl")
                if (d := r.decode())["client_order_id"] == cid]

    def posts(self, prefix: str = "") -> list[Any]:
        return [e for e in self.exchange.order_log if e.method == "POST" and e.client_order_id.startswith(prefix)]

    def reports(self) -> list[dict[str, Any]]:
        self.journals.flush()
        out = []
        for name in ("orders_success", "orders_failed"):
            p = self.tmp / f"{name}.jsonl"
            if p.exists():
                out += [r.decode() for r in read_journal(p) if r.kind == "execution"]
        return out


@contextlib.asynccontextmanager
async def running(tmp_path: Path, *, speed: float = 1.0, http: HttpConfig | None = None, clock: Clock | None = None,
                  **router: Any) -> AsyncIterator[Live]:
    """Local exchange + real ccxt venue + user stream + router on one bus and one clock (router config
    overrides; the clock may be an ``EventClock``, to skip long waits)."""
    clock = clock or LiveClock()
    exchange = LocalExchange(port=0, speed=speed)
    await exchange.start()
    bus = Bus()
    events: list[Event] = []
    for t in (Fill, Position, OrderUpdate, FeedStatus, RateLimit):
        bus.subscribe(t, events.append)
    journals = Journals(tmp_path)
    venue = kit_exchange.local_venue(exchange, http, publish=bus.publish, clock=clock)
    await venue.start()
    cfg = make_config(tmp_path, runtime__router={"maker_timeout_s": 0.5, "unknown_resolve_s": 5.0, **router},
                      runtime__http=http or HttpConfig())  # the router's recvWindow is the venue's
    router = RouterStage(bus, venue, journals, cfg, pending=PendingOrders(tmp_path / "state" / "pending_orders.jsonl"),
                         clock=clock)
    us = UserStream(venue, f"ws://127.0.0.1:{exchange.port}", bus.publish, clock=clock)
    try:
        async with kit_exchange.in_background(us):
            router.set_filters(await venue.load_filters())  # as hedge.pipeline starts it
            router.recover()
            await wait_for(lambda: any(isinstance(e, FeedStatus) and e.connected for e in events))
            yield Live(exchange, venue, router, bus, journals, tmp_path, events)
    finally:
        await router.idle()
        journals.close()
        await venue.close()
        await exchange.stop()


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    async with running(tmp_path) as lv:
        yield lv


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
    await wait_for(lambda: bool(live.reports()), timeout=30)
    (rep,) = live.reports()
    cid0 = client_order_id("e2e-2", 0, 0)
    posts = [e.client_order_id for e in live.exchange.order_log if e.method == "POST"]
    assert posts.count(cid0) == 1  # found by query (or the stream), adopted, never resent
    assert any(isinstance(u, OrderUpdate) and u.client_order_id == cid0 and u.status.value == "UNKNOWN"
               for u in live.events)
    assert rep["outcome"] == "filled", rep
    assert await live.venue.open_orders("BTCUSDT") == []
    check_books_balance(live, "e2e-2", rep)


@pytest.mark.slow
async def test_an_order_that_never_reached_the_exchange_is_queried_then_resent_once(tmp_path: Path) -> None:
    """rest_drop on the placement (the request never reached the exchange) and the user stream silent: the
    router queries by client order id, finds nothing, and once the request is too old to ever execute
    (recvWindow + 1 s) re-sends it exactly once under the same client order id."""
    http = HttpConfig(recv_window_ms=1000, backoff_initial_s=0.05, backoff_max_s=0.4)
    async with running(tmp_path, http=http) as live:
        await live.book()
        live.exchange.hub.stall_all(60.0)  # no user-stream frame until the checks are done: only queries can tell
        try:
            live.exchange.faults.set("rest_drop", FaultSetting(count=1, path="POST /fapi/v1/order"))
            live.decide("drop-1", Side.BUY, 150.0, urgent=True)
            await wait_for(lambda: bool(live.reports()), timeout=20.0)
            (rep,) = live.reports()
            cid = client_order_id("drop-1", 0, 0)
            assert live.exchange.faults.fired["rest_drop"] == 1
            # the exchange: the re-send is its only order with that id; a query that proved absence came first
            log = [e for e in live.exchange.order_log if e.client_order_id == cid]
            assert [(e.method, e.code) for e in log if e.method == "POST"] == [("POST", 0)]
            (post,) = [e for e in log if e.method == "POST"]
            assert post.order_id > 0 and post.http_status == 200
            absent = [e for e in log if e.method == "GET" and e.code == -2013 and e.seq < post.seq]
            assert absent, log
            # the engine's journal: the request, the query that found nothing, the single re-send, same id
            kinds = [k for k, _ in live.journaled(cid)]
            assert kinds[0] == "request" and kinds.count("resend") == 1 and kinds.count("request") == 1, kinds
            resend_at = kinds.index("resend")
            assert any(k == "query" and not d["found"] for k, d in live.journaled(cid)[1:resend_at]), kinds
            assert [d["client_order_id"] for _, d in live.sent()] == [cid, cid]
            assert any(isinstance(u, OrderUpdate) and u.client_order_id == cid and u.status is OrderStatus.UNKNOWN
                       for u in live.events)
            assert rep["outcome"] == "filled", rep
            assert not any(isinstance(e, (Fill, Position)) for e in live.events), "the user stream was not silent"
        finally:
            live.exchange.hub.stall_all(0.0)


# ---------------------------------------------------------------------- the list, on the exchange

TICK, STEP = Decimal("0.1"), Decimal("0.001")


def exchange_order(live: Live, cid: str) -> Any:
    return live.venue.client.fapiPrivateGetOrder({"symbol": "BTCUSDT", "origClientOrderId": cid})


@pytest.mark.slow
async def test_maker_fill_on_the_exchange(tmp_path: Path) -> None:
    """Resting post-only orders at the touch, on a fast market: the one the market trades through fills as maker."""
    async with running(tmp_path, speed=20.0, maker_timeout_s=8.0) as live:
        await live.book()
        live.decide("mk-buy", Side.BUY, 150.0)
        live.decide("mk-sell", Side.SELL, 150.0)
        await wait_for(lambda: len(live.reports()) == 2, timeout=20.0)
        makers = [r for r in live.reports() if r["maker_qty"] > 0]
        assert makers, live.reports()
        for rep in makers:
            cid = client_order_id(rep["intent_id"], 0, 0)
            o = await exchange_order(live, cid)
            assert o["timeInForce"] == "GTX" and float(o["executedQty"]) == pytest.approx(rep["maker_qty"])
            fills = [f for f in live.events if isinstance(f, Fill) and f.client_order_id == cid]
            assert fills and all(f.maker for f in fills)
            assert rep["outcome"] == "filled" and not rep["fell_back"] and rep["orders"] == 1


async def test_post_only_rejects_reprice_then_taker_within_the_slippage_budget(tmp_path: Path) -> None:
    async with running(tmp_path, max_post_only_rejects=2, slippage_budget_bps=10.0) as live:
        bid, _, ask, _ = await live.touch()
        mid = (bid + ask) / 2
        live.feed(ask + 1.0, ask + 1.1, mid=mid)  # a stale view: the router's "bid" is above the real ask
        live.decide("po-1", Side.BUY, 150.0)
        await wait_for(lambda: bool(live.reports()))
        (rep,) = live.reports()
        sent = [r for _, r in live.sent()]
        prices = [r["price"] for r in sent]
        assert [r["tif"] for r in sent] == ["GTX", "GTX", "GTX", "IOC"]
        assert prices[0] > prices[1] > prices[2]  # each reprice one tick (or more) more passive
        posts = live.posts()
        assert [(e.client_order_id, e.code) for e in posts[:3]] == [
            (client_order_id("po-1", 0, i), -5022) for i in range(3)]
        assert posts[3].order_id and posts[3].code == 0  # the taker fallback reached the book
        assert prices[3] <= mid * (1 + 10e-4)  # capped at the slippage budget from the arrival mid
        assert rep["fell_back"] and rep["slippage_bps"] <= 10.0 + 1e-9
        if rep["filled_qty"] > 0:
            assert rep["avg_price"] <= prices[3]


async def test_twap_slices_on_the_exchange(tmp_path: Path) -> None:
    twap = TwapConfig(min_notional_usd=100.0, slices=3, duration_s=1.5)
    async with running(tmp_path, twap=twap, maker_timeout_s=0.2) as live:
        await live.book()
        live.decide("tw-1", Side.BUY, 450.0)
        await wait_for(lambda: bool(live.reports()), timeout=30)
        (rep,) = live.reports()
        assert rep["slices"] == 3, rep
        firsts = {r["client_order_id"].split("-")[1]: ts for ts, r in live.sent()
                  if r["client_order_id"].endswith("-0")}
        t0 = firsts["0"]
        for i in (1, 2):  # slice i is not started before i * duration / slices
            assert firsts[str(i)] - t0 >= (i * 0.5 - 0.02) * 1e9
        orders = sorted([await exchange_order(live, e.client_order_id) for e in live.posts() if e.order_id],
                        key=lambda o: int(o["time"]))
        for a, b in itertools.pairwise(orders):  # never two live orders for the intent
            assert int(b["time"]) >= int(a["updateTime"])
        assert sum(float(o["executedQty"]) for o in orders) == pytest.approx(rep["filled_qty"])


async def test_off_grid_price_and_quantity_arrive_rounded(live: Live) -> None:
    bid, _, ask, _ = await live.touch()
    raw_bid, raw_ask = bid - 0.537, ask + 0.463
    live.feed(raw_bid, raw_ask)
    live.decide("fr-1", Side.BUY, 150.0)  # 150 / ~mid: a quantity off the 0.001 step
    cid = client_order_id("fr-1", 0, 0)
    await wait_for(lambda: any(e.order_id for e in live.posts(cid)))
    o = await exchange_order(live, cid)
    raw_qty = Decimal("150") / Decimal((raw_bid + raw_ask) / 2)
    assert Decimal(o["price"]) == (Decimal(raw_bid) / TICK).to_integral_value(ROUND_FLOOR) * TICK  # maker buy: down
    assert Decimal(o["origQty"]) == (raw_qty / STEP).to_integral_value(ROUND_FLOOR) * STEP
    assert Decimal(o["origQty"]) != raw_qty


async def test_429_retry_after_is_respected(tmp_path: Path) -> None:
    """The exchange's Retry-After (the rest of its minute window: up to a minute) is waited in full before the
    next attempt; the one clock (the router's timers, the venue's rate-limit budget) is advanced instead of slept."""
    clock = EventClock(time.time_ns())
    start = clock.now_ns()
    async with running(tmp_path, clock=clock) as live:
        await live.book()
        live.exchange.faults.set("rest_429", FaultSetting(count=1))
        live.decide("rl-1", Side.BUY, 150.0, urgent=True)
        await wait_for(lambda: any(isinstance(e, RateLimit) for e in live.events))
        await live.router.idle()
        (rl,) = [e for e in live.events if isinstance(e, RateLimit)]
        assert rl.status == 429 and rl.retry_after_s >= 1.0
        clock.advance_to_ns(start + round((rl.retry_after_s - 0.05) * 1e9))  # just before Retry-After: nothing new is sent
        await live.router.idle()
        assert len(live.sent()) == 1 and live.posts() == []
        clock.advance_to_ns(start + round((rl.retry_after_s + 0.01) * 1e9))
        await wait_for(lambda: bool(live.reports()))
        (_, r0), (_, r1) = live.sent()
        assert (r0["client_order_id"], r1["client_order_id"]) == (client_order_id("rl-1", 0, 0),
                                                                  client_order_id("rl-1", 0, 1))
        assert [e.client_order_id for e in live.posts()] == [r1["client_order_id"]]  # the refused one never got there
        assert any(isinstance(u, OrderUpdate) and u.client_order_id == r0["client_order_id"]
                   and u.status is OrderStatus.REJECTED and u.reason.startswith("not sent:") for u in live.events)


async def test_418_halts_every_request(live: Live) -> None:
    await live.book()
    live.exchange.faults.set("rest_418", FaultSetting(count=1, value=60_000))
    live.decide("ban-1", Side.BUY, 150.0, urgent=True)
    await wait_for(lambda: bool(live.reports()))
    assert live.router.halted.startswith("venue ban (418) until ")  # halted at once
    ignored = live.router.ignored
    live.decide("ban-2", Side.SELL, 150.0, urgent=True)  # during the ban: refused by the halted router
    assert live.router.ignored == ignored + 1
    [report] = live.reports()
    assert report["outcome"] == "failed" and any("not sent" in x for x in report["reasons"])
    assert live.posts() == []
    assert [e.status for e in live.events if isinstance(e, RateLimit)] == [418]
    assert len(live.sent()) == 1  # one attempt: a ban is not retried
    assert live.exchange.limiter.banned_requests == 1  # nothing more reached the exchange


async def test_1021_resyncs_the_clock_and_the_order_goes_through(live: Live) -> None:
    await live.book()
    resyncs = live.venue.resyncs
    live.exchange.faults.set("clock_skew_ms", FaultSetting(value=-20_000))  # the exchange's clock 20 s behind
    live.decide("sk-1", Side.BUY, 150.0, urgent=True)
    await wait_for(lambda: bool(live.reports()))
    assert live.venue.resyncs == resyncs + 1 and live.venue.clock_offset_ms < -15_000
    r0 = client_order_id("sk-1", 0, 0)
    assert any(isinstance(u, OrderUpdate) and u.client_order_id == r0 and u.reject_code == -1021 for u in live.events)
    posts = live.posts()
    assert [e.client_order_id for e in posts] == [client_order_id("sk-1", 0, 1)] and posts[0].order_id


async def test_listen_key_expiry_recovered_and_live_orders_requeried(tmp_path: Path) -> None:
    async with running(tmp_path, maker_timeout_s=60.0) as live:
        bid, _, ask, _ = await live.touch()
        live.feed(bid - 50.0, ask)  # the maker rests far from the market
        live.decide("lk-1", Side.BUY, 150.0)
        cid = client_order_id("lk-1", 0, 0)
        await wait_for(lambda: (rec := live.router.lifecycle.get(cid)) is not None and rec.status is OrderStatus.NEW)
        seq = live.exchange.order_log[-1].seq
        (key,) = live.exchange.listen_keys
        assert live.exchange.expire_listen_key(key)
        await wait_for(lambda: sum(1 for e in live.events if isinstance(e, FeedStatus) and e.connected) >= 2)
        assert list(live.exchange.listen_keys) != [key]
        # back up: the router asks the exchange about its live order (its updates may have been missed)
        await wait_for(lambda: any(e.method == "GET" and e.client_order_id == cid and e.seq > seq
                                   for e in live.exchange.order_log))
        assert await live.venue.cancel_all("BTCUSDT") == 1
        # the renewed stream carries the cancel to the router
        await wait_for(lambda: (rec := live.router.lifecycle.get(cid)) is None or rec.status is OrderStatus.CANCELED)
        assert any(isinstance(u, OrderUpdate) and u.client_order_id == cid and u.status is OrderStatus.CANCELED
                   for u in live.events)
        await live.router.idle()
