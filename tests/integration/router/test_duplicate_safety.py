"""Duplicate safety under order-placement faults (the execution issue's proof), over real sockets.

One local exchange per module; the real Router, BinanceVenue (real ccxt) and UserStream on a Bus;
approvals (``RiskDecision(allow=True)``) fed in as the risk stage would. 200 seeded trials (the
seed is printed on failure; ``HEDGE_DUP_SEED=N`` replays another one) run in batches of
``BATCH`` concurrent intents on BTCUSDT. Each batch draws one fault kind — none, order_503 /
order_1007 / order_drop (committed, then answered badly or not at all), timeout (the answer
delayed beyond the HTTP timeout, sometimes beyond recvWindow + 1 s), rest_drop (the request never
handled) — and one price mode — a maker at the touch (on a 20x market: filled as maker, or timed
out into a taker), a maker that would cross (-5022, repriced, then the taker fallback), an urgent
taker — and faults a random
subset of the batch's placements. Proven per batch from the exchange's own log
(``GET /_hedge/orders``: every POST, DELETE and single-order GET it received):

- at most one exchange order per client order id (no duplicate, whatever the fault);
- the orders of one intent never overlap in time (at most one live order per intent) and none is
  left open when its execution is over;
- every re-send of a client order id is preceded, after its previous POST, by a query of that id
  that the exchange answered "order does not exist" (-2013);
- the router's final state (status, filled quantity) of every order equals the exchange's, and
  the exchange has no order the router does not know.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
import pytest_asyncio

from hedge.bus import Bus
from hedge.config import HttpConfig
from hedge.events import FeedStatus, OrderStatus, OrderUpdate, Side
from hedge.exchange.faults import FaultSetting
from hedge.exchange.limits import UNLIMITED
from hedge.exchange.server import LocalExchange
from hedge.router.lifecycle import Lifecycle, OrderRecord, client_order_id
from hedge.router.pending import PendingOrders
from hedge.router.stage import RouterStage
from hedge.state.journal import Journals, read_journal
from hedge.venue.binance import BinanceVenue
from hedge.venue.user_stream import UserStream
from tests.integration.router.approvals import approval, top_of_book
from tests.kit.config import make_config
from tests.kit.exchange import in_background, local_venue
from tests.kit.wait import wait_for

SEED = int(os.environ.get("HEDGE_DUP_SEED", "20261121"))
TRIALS = 200
BATCH = 10
FAULTS = ("none", "order_503", "order_1007", "order_drop", "timeout", "rest_drop")
MODES = ("rest", "cross", "taker")
SYMBOL = "BTCUSDT"
TICK = 0.1
# Short timeouts so that one unknown outcome resolves in about a second: absent after recvWindow + 1 s.
# recvWindow > the HTTP timeout, so that a timed-out placement may still execute (or, delayed beyond
# recvWindow, be refused by the exchange as Binance's matching engine does).
HTTP = HttpConfig(timeout_s=0.4, backoff_initial_s=0.05, backoff_max_s=0.4, read_retries=5, recv_window_ms=1000)
ABSENT_AFTER_S = HTTP.recv_window_ms / 1000 + 1.0


class RecordingLifecycle(Lifecycle):
    """The router's lifecycle, keeping each order's final record when the router forgets it."""

    def __init__(self) -> None:
        super().__init__()
        self.final: dict[str, OrderRecord] = {}

    def forget(self, cid: str) -> None:
        rec = self.orders.get(cid)
        if rec is not None and not rec.live:
            self.final[cid] = msgspec.structs.replace(rec)
        super().forget(cid)


@dataclass
class Rig:
    exchange: LocalExchange
    venue: BinanceVenue
    router: RouterStage
    bus: Bus
    http: aiohttp.ClientSession
    lifecycle: RecordingLifecycle
    journals: Journals
    tmp: Path
    unknown: set[str]  # client order ids whose placement had no definite answer (the router's UNKNOWN)
    stats: collections.Counter[str] = field(default_factory=collections.Counter)

    async def touch(self) -> tuple[float, float]:
        d = await self.venue.client.fapiPublicGetDepth({"symbol": SYMBOL, "limit": 5})
        return float(d["bids"][0][0]), float(d["asks"][0][0])

    def book(self, bid: float, ask: float, mid: float) -> None:
        self.bus.publish(top_of_book(SYMBOL, bid, ask, mid=mid))

    def approve(self, intent_id: str, side: Side, notional: float, urgent: bool) -> None:
        self.bus.publish(approval(SYMBOL, intent_id, side, notional, strategy="dup-safety", urgent=urgent))

    async def order_log(self) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.exchange.base_url}/_hedge/orders") as r:
            out: list[dict[str, Any]] = await r.json()
            return out

    async def set_fault(self, name: str, setting: FaultSetting) -> None:
        async with self.http.post(f"{self.exchange.base_url}/_hedge/faults", json={name: msgspec.to_builtins(setting)}) as r:
            assert r.status == 200, await r.text()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    tmp: Path = tmp_path_factory.mktemp("dup")
    exchange = LocalExchange(port=0, speed=20.0, limits=UNLIMITED, seed=SEED)  # fast: resting makers get filled
    await exchange.start()
    bus = Bus()
    connected = asyncio.Event()
    bus.subscribe(FeedStatus, lambda e: connected.set() if e.connected else None)
    unknown: set[str] = set()
    bus.subscribe(OrderUpdate, lambda u: unknown.add(u.client_order_id) if u.status is OrderStatus.UNKNOWN else None)
    journals = Journals(tmp)
    venue = local_venue(exchange, HTTP, publish=bus.publish)
    await venue.start()
    cfg = make_config(tmp, runtime__http=HTTP,
                      runtime__router={"maker_timeout_s": 1.5, "max_post_only_rejects": 1, "unknown_resolve_s": 15.0})
    lifecycle = RecordingLifecycle()
    router = RouterStage(bus, venue, journals, cfg, pending=PendingOrders(tmp / "state" / "pending_orders.jsonl"),
                         lifecycle=lifecycle)
    us = UserStream(venue, f"ws://127.0.0.1:{exchange.port}", bus.publish)
    try:
        async with in_background(us), aiohttp.ClientSession() as http:
            router.set_filters(await venue.load_filters())  # as hedge.pipeline starts it
            router.recover()
            await asyncio.wait_for(connected.wait(), 30)
            yield Rig(exchange, venue, router, bus, http, lifecycle, journals, tmp, unknown)
    finally:
        await router.idle()
        journals.close()
        await venue.close()
        await exchange.stop()


def _prefix(intent_id: str) -> str:
    return client_order_id(intent_id, 0, 0).split("-")[0] + "-"


async def _run_batch(rig: Rig, rng: random.Random, batch_no: int, n: int) -> list[str]:
    fault, mode = rng.choice(FAULTS), rng.choice(MODES)
    trials = [(f"dup-{SEED}-{batch_no}-{i}", rng.choice((Side.BUY, Side.SELL)), rng.uniform(130.0, 400.0),
               fault != "none" and rng.random() < 0.7) for i in range(n)]
    faulted = [t for t in trials if t[3]]
    rig.stats[f"batch {fault}/{mode}"] += 1
    if faulted:
        rig.stats[f"fault {fault}"] += len(faulted)
    rig.stats["unfaulted trials"] += n - len(faulted)
    rig.stats[f"mode {mode}"] += n
    bid, ask = await rig.touch()
    mid = (bid + ask) / 2
    if mode == "cross":  # a stale, crossed view: every post-only order would take (-5022)
        rig.book(ask + 5 * TICK, bid - 5 * TICK, mid)
    else:
        rig.book(bid, ask, mid)
    urgent = mode == "taker"
    if faulted:
        if fault == "timeout":
            delay_ms = 1000 * rng.uniform(HTTP.timeout_s + 0.05, ABSENT_AFTER_S + 0.6)
            rig.stats["timeout beyond recvWindow"] += len(faulted) * (delay_ms > HTTP.recv_window_ms)
            rig.stats["timeout beyond recvWindow + 1 s"] += len(faulted) * (delay_ms / 1000 > ABSENT_AFTER_S)
            await rig.set_fault("rest_delay_ms", FaultSetting(value=delay_ms))
        else:
            await rig.set_fault(fault, FaultSetting(count=len(faulted)))
        for iid, side, notional, _ in faulted:
            rig.approve(iid, side, notional, urgent)
        if fault == "timeout":  # the delay applies to requests arriving while it is set: only these
            await asyncio.sleep(0.05)  # the fault's window: the requests go out in it (no event says they have)
            await rig.set_fault("rest_delay_ms", FaultSetting())
        else:  # the next placements took the faults (or, for rest_drop, possibly another request)
            with contextlib.suppress(AssertionError):  # may stay unused (rest_drop hitting nothing): reset below
                await wait_for(lambda: rig.exchange.faults.settings[fault].count == 0, 1.0)
    for iid, side, notional, is_faulted in trials:
        if not is_faulted:
            rig.approve(iid, side, notional, urgent)
    ids = [t[0] for t in trials]
    await wait_for(lambda: not any(i in rig.router.executions for i in ids), 30.0,
                   what=f"seed {SEED}: batch {batch_no} ({fault}/{mode}) to finish")
    await rig.router.idle()
    if fault not in ("none", "timeout"):  # a count not used up (rest_drop hitting nothing) must not leak
        await rig.set_fault(fault, FaultSetting())
    return ids


async def _check_batch(rig: Rig, ids: list[str], seq0: int) -> int:
    """The batch's proof obligations; returns the log's last sequence number before the checks' own queries."""
    log = [e for e in await rig.order_log() if e["seq"] > seq0]
    last = max((e["seq"] for e in log), default=seq0)
    open_cids = {o.client_order_id for o in await rig.venue.open_orders(SYMBOL)}
    rig.journals.flush()
    sent: dict[str, list[int]] = collections.defaultdict(list)  # client order id -> when each send was journaled
    for r in read_journal(rig.tmp / "orders_sent.jsonl"):
        if r.kind != "query":  # the journal also holds each answered query (the proof behind a re-send)
            sent[r.decode()["client_order_id"]].append(r.ts_ns // 1_000_000)
    for iid in ids:
        prefix = _prefix(iid)
        mine = [e for e in log if e["client_order_id"].startswith(prefix)]
        router_cids = {c for c in rig.lifecycle.final if c.startswith(prefix)}
        assert not any(c in rig.lifecycle.orders for c in router_cids), f"seed {SEED}: {iid} still tracked"
        posts: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        for e in mine:
            if e["method"] == "POST":
                posts[e["client_order_id"]].append(e)
        rig.stats["queries"] += sum(e["method"] == "GET" for e in mine)
        assert set(posts) <= router_cids, f"seed {SEED}: exchange got orders the router does not know: {posts}"
        exchange_orders = []
        for cid, ps in posts.items():
            committed = [p for p in ps if p["order_id"]]
            assert len(committed) <= 1, f"seed {SEED}: DUPLICATE order {cid}: {committed}"
            rig.stats["posts"] += len(ps)
            assert cid not in open_cids, f"seed {SEED}: {cid} left open after its execution ended"
            if committed:
                o = await rig.venue.client.fapiPrivateGetOrder({"symbol": SYMBOL, "origClientOrderId": cid})
                exchange_orders.append(o)
                rec = rig.lifecycle.final[cid]
                assert rec.status.value == o["status"] and rec.filled_qty == pytest.approx(float(o["executedQty"])), (
                    f"seed {SEED}: router's {cid} {rec.status} {rec.filled_qty} != exchange's {o}")
                rig.stats[f"final {o['status']}"] += 1
                rig.stats["maker fills"] += o["timeInForce"] == "GTX" and float(o["executedQty"]) > 0
        for cid in router_cids - {c for c, ps in posts.items() if any(p["order_id"] for p in ps)}:
            rec = rig.lifecycle.final[cid]  # never an order at the exchange: the router must not think it was
            assert rec.filled_qty == 0.0 and rec.status.value in ("REJECTED", "CANCELED", "EXPIRED"), (
                f"seed {SEED}: {cid} absent at the exchange but {rec.status} {rec.filled_qty}")
            rig.stats["final absent"] += 1
            # An order whose placement went unanswered and that never existed: the next attempt of the intent
            # (a new id) was only sent after a query proved it absent.
            rec = rig.lifecycle.final[cid]
            nxt = client_order_id(iid, rec.slice_no, int(cid.rsplit("-", 1)[1]) + 1)
            if cid in rig.unknown and nxt in sent:
                rig.stats["next attempts after an unknown outcome"] += 1
                assert any(e["method"] == "GET" and e["client_order_id"] == cid and e["code"] == -2013
                           and e["time_ms"] <= sent[nxt][0] for e in mine), (
                    f"seed {SEED}: {nxt} sent before {cid} (outcome unknown) was proven absent: {mine}")
        for cid in router_cids:
            # A re-send (same id, after an unknown outcome) must be proven absent first: a query of the id that
            # the exchange answered "no such order", handled after the previous send and before the re-send.
            times = sent.get(cid, [])
            assert len(times) == 1 + rig.lifecycle.final[cid].resends, f"seed {SEED}: {cid} sends {times}"
            assert len(posts.get(cid, [])) <= len(times), f"seed {SEED}: {cid}: a POST the router did not send"
            for prev_ms, resend_ms in itertools.pairwise(times):
                rig.stats["resends"] += 1
                proofs = [e for e in mine if e["method"] == "GET" and e["client_order_id"] == cid
                          and prev_ms <= e["time_ms"] <= resend_ms and e["code"] == -2013]
                assert proofs, f"seed {SEED}: {cid} re-sent without a query proving it absent: {mine}"
        exchange_orders.sort(key=lambda o: int(o["time"]))
        for a, b in itertools.pairwise(exchange_orders):
            assert int(b["time"]) >= int(a["updateTime"]), f"seed {SEED}: {iid} had two live orders: {a} {b}"
    return last


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_no_duplicate_order_under_placement_faults(rig: Rig) -> None:
    rng = random.Random(SEED)
    t0 = time.monotonic()
    seq = max((e.seq for e in rig.exchange.order_log), default=0)
    done = 0
    batch_no = 0
    try:
        while done < TRIALS:
            n = min(BATCH, TRIALS - done)
            ids = await _run_batch(rig, rng, batch_no, n)
            seq = await _check_batch(rig, ids, seq)
            done += n
            batch_no += 1
    except AssertionError as e:
        raise AssertionError(f"duplicate-safety trial failed (seed {SEED}, batch {batch_no}): {e}") from e
    wall = time.monotonic() - t0
    stats = dict(sorted(rig.stats.items()))
    fired = {k: v for k, v in rig.exchange.faults.fired.items() if v}
    print(f"duplicate safety: seed {SEED}, {done} trials in {wall:.1f}s: {stats}; faults fired at the exchange: {fired}")
    assert rig.router.task_errors == 0
    assert rig.router.lifecycle.stats.illegal == 0
    # the faults really happened and were resolved: unknown outcomes were queried, some proven absent and resent
    assert stats["queries"] > 0 and stats["resends"] > 0
