"""Benchmark the event bus: sync fan-out to 4 handlers, and coroutine-stage delivery vs a bare asyncio.Queue hop.

Targets (issue 2): sync fan-out >= 1M events/s; stage delivery within 2x of a bare Queue hop.
Last line: one JSON object with the headline figures.
"""

from __future__ import annotations

import asyncio
import json
import time

from hedge.app import run_async
from hedge.bus import Bus
from hedge.events import BookTicker

N_SYNC = 500_000
N_STAGE = 200_000


def make_events(n: int) -> list[BookTicker]:
    return [BookTicker(symbol="BTCUSDT", update_id=i, bid_px=1.0, bid_qty=1.0, ask_px=2.0, ask_qty=1.0)
            for i in range(n)]


def bench_sync(events: list[BookTicker]) -> float:
    bus = Bus()
    sink = [0, 0, 0, 0]

    def h0(e: BookTicker) -> None:
        sink[0] += 1

    def h1(e: BookTicker) -> None:
        sink[1] += 1

    def h2(e: BookTicker) -> None:
        sink[2] += 1

    def h3(e: BookTicker) -> None:
        sink[3] += 1

    for h in (h0, h1, h2, h3):
        bus.subscribe(BookTicker, h)
    publish = bus.publish
    t0 = time.perf_counter()
    for e in events:
        publish(e)
    dt = time.perf_counter() - t0
    assert sink == [len(events)] * 4
    return len(events) / dt


async def bench_queue(events: list[BookTicker]) -> float:
    q: asyncio.Queue[BookTicker] = asyncio.Queue(maxsize=1024)
    done = asyncio.Event()
    count = 0

    async def consumer() -> None:
        nonlocal count
        n = len(events)
        while True:
            await q.get()
            count += 1
            if count == n:
                done.set()

    task = asyncio.ensure_future(consumer())
    t0 = time.perf_counter()
    for e in events:
        await q.put(e)
    await done.wait()
    dt = time.perf_counter() - t0
    task.cancel()
    return len(events) / dt


async def bench_stage(events: list[BookTicker]) -> float:
    bus = Bus()
    count = 0

    async def handler(e: BookTicker) -> None:
        nonlocal count
        count += 1

    bus.stage("bench", BookTicker, handler, maxsize=1024)
    bus.start()
    publish = bus.publish_async
    t0 = time.perf_counter()
    for e in events:
        await publish(e)
    await bus.drain()
    dt = time.perf_counter() - t0
    await bus.close()
    assert count == len(events)
    return len(events) / dt


async def main_async() -> dict[str, float]:
    events = make_events(N_STAGE)
    q = max([await bench_queue(events) for _ in range(3)])
    s = max([await bench_stage(events) for _ in range(3)])
    return {"queue_hop_per_s": q, "stage_per_s": s}


def main() -> None:
    events = make_events(N_SYNC)
    sync = max(bench_sync(events) for _ in range(3))
    res = run_async(main_async())
    print(f"sync fan-out to 4 handlers : {sync:12,.0f} events/s  ({1e6 / sync:.2f} us/event)")
    print(f"bare asyncio.Queue hop      : {res['queue_hop_per_s']:12,.0f} events/s")
    print(f"bus stage (BLOCK inbox)     : {res['stage_per_s']:12,.0f} events/s  "
          f"({res['queue_hop_per_s'] / res['stage_per_s']:.2f}x the Queue hop's cost)")
    print(json.dumps({
        "sync_fanout4_events_per_s": round(sync),
        "sync_fanout4_us": round(1e6 / sync, 3),
        "queue_hop_events_per_s": round(res["queue_hop_per_s"]),
        "stage_events_per_s": round(res["stage_per_s"]),
        "stage_cost_vs_queue": round(res["queue_hop_per_s"] / res["stage_per_s"], 2),
    }))


if __name__ == "__main__":
    main()
