"""Benchmark the router: approved intent -> order request sent, in process and on the local exchange.

In process, each iteration publishes one approved RiskDecision on the bus and measures
- ``decide``: publish -> OrderRequest published by the router (synchronous part: sizing, filters,
  client order id, lifecycle, orders_sent journal line in memory);
- ``sent``: publish -> the venue's ``place()`` entered (adds the task hand-off to the I/O side, the
  pending-record write and the group commit of the durable journals: the request line written and
  fdatasynced).
That venue is an in-process recorder that acknowledges at once (no network). Real journals and
the real pending-orders file are written under a temporary directory (``TMPDIR``: put it on the
disk the daemon logs to, not a tmpfs); the clock is manual so no timer fires. The in-process run
is done four times: with the journals' fsync (the default), without (``nofsync_*``), and without
but idle for 1 ms after each order (``idle_*``: the loop sleeps between decisions as it does while
the fsync run waits for each sync; ``idle_sent_*`` is the span live latency is made of: the
decision and its send run on cold caches), and once more without fsync under CPython's default GC policy
(``gcdefault_*``) instead of the engine's (``hedge.app.gc_policy``: start-up frozen, gen-0 threshold
10,000), with the cyclic GC's passes and pause per decision (``gc_*``). ``decide_cpu_*`` is the loop
thread's CPU time in the decision (``time.thread_time_ns``): equal to the wall time, so the
decision never waits (no GIL hand-off, no lock). Measured: the fsync run's decision costs what the
idle run's does, ~3x the back-to-back run's: on a loaded 2-core machine a decision that follows a
sleep runs on cold caches. The journals' group commit adds nothing to the decision itself
(docs/journals.md "Cost of durability").

On the local exchange (same process, loopback HTTP, the real ccxt client, the real signing),
``local_ack``: publish -> the exchange's acknowledgement applied by the router, for post-only
orders that rest (priced away from the touch). Last line: one JSON object.

``MODE`` is ``router.mode`` (``maker_first`` by default; ``auto`` adds the per-slice choice over
its resting horizons, ``taker`` skips the maker leg and its timer). ``N_LOCAL`` 0 skips the
local-exchange run.

Usage: .venv/bin/python scripts/bench_router.py [N] [N_LOCAL] [MODE]
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import msgspec

from hedge.app import gc_policy, run_async
from hedge.bus import Bus
from hedge.config import Config, default_config
from hedge.events import BookUpdate, OrderIntent, OrderRequest, OrderStatus, OrderUpdate, RiskDecision, Side
from hedge.model.clock import EventClock
from hedge.model.instrument import SymbolFilters
from hedge.router.health import percentile
from hedge.router.pending import PendingOrders
from hedge.router.stage import RouterStage
from hedge.state.journal import Journals
from hedge.venue.base import OrderAck

FILTERS = SymbolFilters(
    symbol="BTCUSDT", tick_size=Decimal("0.1"), step_size=Decimal("0.001"), min_qty=Decimal("0.001"),
    max_qty=Decimal("1000"), min_notional=Decimal("100"), percent_up=Decimal("1.05"), percent_down=Decimal("0.95"),
)


class RecordingVenue:
    """Records when ``place`` is entered and acknowledges NEW at once."""

    name = "recording"

    def __init__(self) -> None:
        self.sent_ns: dict[str, int] = {}

    async def place(self, req: OrderRequest) -> OrderAck:
        self.sent_ns[req.intent_id] = time.perf_counter_ns()
        return OrderAck(client_order_id=req.client_order_id, symbol=req.symbol, status=OrderStatus.NEW)

    async def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        raise NotImplementedError

    async def query(self, symbol: str, client_order_id: str) -> OrderUpdate | None:
        return None

    async def cancel_all(self, symbol: str) -> int:
        return 0

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        return []

    async def load_filters(self) -> dict[str, SymbolFilters]:
        return {"BTCUSDT": FILTERS}

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        return None

    async def close(self) -> None:
        return None


def bench_config(tmp: Path, mode: str) -> Config:
    """The default config logging under ``tmp``, in router mode ``mode``."""
    cfg = default_config()
    rt = cfg.runtime
    router = msgspec.structs.replace(rt.router, mode=mode)
    return msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(rt, log_dir=str(tmp), router=router))


async def bench(n: int, tmp: Path, *, fsync: bool = True, idle_s: float = 0.0, mode: str = "maker_first",
                gc_engine: bool = True) -> dict[str, float]:  # in process
    cfg = bench_config(tmp, mode)
    bus = Bus()
    journals = Journals(tmp, fsync=fsync)
    venue = RecordingVenue()
    router = RouterStage(bus, venue, journals, cfg, clock=EventClock(),
                    pending=PendingOrders(tmp / "state" / "pending_orders.jsonl"))
    router.set_filters(await venue.load_filters())  # as hedge.pipeline starts it
    decided_ns: dict[str, int] = {}
    bus.subscribe(OrderRequest, lambda r: decided_ns.__setitem__(r.intent_id, time.perf_counter_ns()))
    bus.publish(BookUpdate(symbol="BTCUSDT", update_id=1, valid=True, bid_px=67000.0, bid_qty=5.0, ask_px=67000.1,
                           ask_qty=5.0, mid=67000.05, micro=67000.05, imbalance=0.0, spread_bps=0.015))
    decisions = [
        RiskDecision(intent=OrderIntent(intent_id=f"b{i}", symbol="BTCUSDT", side=Side.BUY if i % 2 else Side.SELL,
                                        notional=1000.0, strategy="bench", reason="bench"), allow=True, max_qty=1.0)
        for i in range(n)
    ]
    start_ns: dict[str, int] = {}
    cpu_us: list[float] = []
    gc_ns = [0, 0, 0]  # passes, total pause, the pass being timed started at
    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            gc_ns[2] = time.perf_counter_ns()
        else:
            gc_ns[0] += 1
            gc_ns[1] += time.perf_counter_ns() - gc_ns[2]
    t_all = time.perf_counter()
    with gc_policy() if gc_engine else contextlib.nullcontext():  # as the engine runs (hedge/app.py)
        gc.callbacks.append(on_gc)
        try:
            for d in decisions:
                c0 = time.thread_time_ns()
                start_ns[d.intent.intent_id] = time.perf_counter_ns()
                bus.publish(d)
                cpu_us.append((time.thread_time_ns() - c0) / 1e3)
                await router.idle()
                if idle_s > 0.0:
                    await asyncio.sleep(idle_s)
        finally:
            gc.callbacks.remove(on_gc)
    elapsed = time.perf_counter() - t_all
    journals.close()
    decide_us = [(decided_ns[k] - t0) / 1e3 for k, t0 in start_ns.items()]
    sent_us = [(venue.sent_ns[k] - t0) / 1e3 for k, t0 in start_ns.items()]
    assert len(sent_us) == n and router.task_errors == 0
    return {
        "n": n,
        "decide_p50_us": round(percentile(decide_us, 0.5), 2),
        "decide_p99_us": round(percentile(decide_us, 0.99), 2),
        "decide_cpu_p50_us": round(percentile(cpu_us, 0.5), 2),
        "sent_p50_us": round(percentile(sent_us, 0.5), 2),
        "sent_p99_us": round(percentile(sent_us, 0.99), 2),
        "intents_per_s": round(n / elapsed),
        "gc_passes_per_1k": round(gc_ns[0] * 1000 / n, 2),  # cyclic GC passes per 1,000 decisions (any generation)
        "gc_us_per_decision": round(gc_ns[1] / 1e3 / n, 2),  # their total pause, spread over the decisions
    }


async def bench_local(n: int, tmp: Path, mode: str) -> dict[str, float]:
    from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
    from hedge.exchange.limits import UNLIMITED
    from hedge.exchange.server import LocalExchange
    from hedge.venue.binance import BinanceVenue

    exchange = LocalExchange(port=0, limits=UNLIMITED)
    await exchange.start()
    cfg = bench_config(tmp, mode)
    bus = Bus()
    journals = Journals(tmp)
    venue = BinanceVenue(exchange.base_url, cfg.runtime.http, api_key=DEFAULT_API_KEY, api_secret=DEFAULT_API_SECRET,
                         name="local")
    try:
        await venue.start()
        router = RouterStage(bus, venue, journals, cfg, clock=EventClock(),
                        pending=PendingOrders(tmp / "state" / "pending_orders.jsonl"))
        router.set_filters(await venue.load_filters())  # as hedge.pipeline starts it
        acked_ns: dict[str, int] = {}
        bus.subscribe(OrderUpdate, lambda u: acked_ns.setdefault(u.client_order_id, time.perf_counter_ns()))
        d = await venue.client.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 5})
        bid, ask = float(d["bids"][0][0]) - 200.0, float(d["asks"][0][0]) + 200.0  # rest, never cross
        bus.publish(BookUpdate(symbol="BTCUSDT", update_id=1, valid=True, bid_px=bid, bid_qty=5.0, ask_px=ask,
                               ask_qty=5.0, mid=(bid + ask) / 2, micro=(bid + ask) / 2, imbalance=0.0, spread_bps=60.0))
        lat_us: list[float] = []
        for i in range(n):
            dec = RiskDecision(intent=OrderIntent(intent_id=f"L{i}", symbol="BTCUSDT",
                                                  side=Side.BUY if i % 2 else Side.SELL, notional=500.0,
                                                  strategy="bench", reason="bench"), allow=True, max_qty=1.0)
            t0 = time.perf_counter_ns()
            bus.publish(dec)
            await router.idle()
            cid = router.executions[f"L{i}"].cids[0]
            lat_us.append((acked_ns[cid] - t0) / 1e3)
        await venue.cancel_all("BTCUSDT")
        assert router.task_errors == 0
    finally:
        journals.close()
        await venue.close()
        await exchange.stop()
    p50, p99 = percentile(lat_us, 0.5), percentile(lat_us, 0.99)
    return {"local_ack_p50_us": round(p50, 1), "local_ack_p99_us": round(p99, 1), "n_local": n}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    n_local = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    mode = sys.argv[3] if len(sys.argv) > 3 else "maker_first"
    with tempfile.TemporaryDirectory() as d:
        res: dict[str, float | str] = {"mode": mode, **run_async(bench(n, Path(d), mode=mode))}
    with tempfile.TemporaryDirectory() as d:
        res.update({f"nofsync_{k}": v for k, v in run_async(bench(n, Path(d), fsync=False, mode=mode)).items()
                    if k != "n"})
    with tempfile.TemporaryDirectory() as d:
        idle = run_async(bench(n, Path(d), fsync=False, idle_s=0.001, mode=mode))
        res.update({f"idle_{k}": v for k, v in idle.items() if k.startswith(("decide", "sent"))})
    with tempfile.TemporaryDirectory() as d:  # CPython's default GC policy instead of the engine's
        dflt = run_async(bench(n, Path(d), fsync=False, mode=mode, gc_engine=False))
        res.update({f"gcdefault_{k}": v for k, v in dflt.items() if k.startswith(("decide", "gc_"))})
    if n_local > 0:
        with tempfile.TemporaryDirectory() as d:
            res.update(run_async(bench_local(n_local, Path(d), mode)))
    print(f"intent -> OrderRequest published: p50 {res['decide_p50_us']} us, p99 {res['decide_p99_us']} us")
    print(f"intent -> venue.place() entered:  p50 {res['sent_p50_us']} us, p99 {res['sent_p99_us']} us")
    print(f"decision CPU time p50: fsync {res['decide_cpu_p50_us']} us, "
          f"no fsync {res['nofsync_decide_cpu_p50_us']} us, no fsync but 1 ms idle between orders "
          f"{res['idle_decide_cpu_p50_us']} us (wall {res['idle_decide_p50_us']} us)")
    res["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(f"{res['intents_per_s']} intents/s (one at a time, each awaited to the venue)")
    print(f"without the journals' fsync: sent p50 {res['nofsync_sent_p50_us']} us, "
          f"p99 {res['nofsync_sent_p99_us']} us, {res['nofsync_intents_per_s']} intents/s")
    if n_local > 0:
        print(f"local exchange, intent -> ack applied: p50 {res['local_ack_p50_us']} us, "
              f"p99 {res['local_ack_p99_us']} us")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
