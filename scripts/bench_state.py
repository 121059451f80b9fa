"""Benchmark what observability costs the hot path, and what its off-path work costs.

Measures, on the real BTCUSDT recording's bookTicker/trade mix (re-timed, as events):
- per-event publish cost on a bare bus vs a bus with Observability attached (telemetry + state
  model handlers) -> the metric handlers' added cost per tick;
- the same with alerts flowing (1 per 1000 ticks) to a notifier whose endpoint hangs;
- building + encoding every state file once, one atomic write (fsync), one /metrics render.
Last line: one JSON object with the headline figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import orjson
from aiohttp import web

from hedge.app import run_async
from hedge.bus import Bus
from hedge.config import Config
from hedge.events import Alert, BookTicker, Event, Side, Trade
from hedge.state.alerts.webhook import WebhookNotifier
from hedge.state.atomic import atomic_write
from hedge.state.manifest import SURFACES
from hedge.state.observability import Observability
from hedge.state.prometheus import render
from hedge.state.publisher import encode_state

RECORDING = files("hedge") / "data" / "binance-usdm" / "hftbacktest" / "btcusdt_20240718.gz"
ROUNDS = 5


def load_events() -> list[Event]:
    out: list[Event] = []
    now = time.time_ns()
    with gzip.open(str(RECORDING), "rb") as f:
        for line in f:
            _ns, _, raw = line.partition(b" ")
            d = orjson.loads(raw).get("data")
            if not d:
                continue
            if d.get("e") == "bookTicker":
                out.append(BookTicker(symbol=d["s"], update_id=d["u"], bid_px=float(d["b"]), bid_qty=float(d["B"]),
                                      ask_px=float(d["a"]), ask_qty=float(d["A"]), ts_ms=now // 1_000_000 - 20,
                                      recv_ns=now))
            elif d.get("e") == "trade":
                out.append(Trade(symbol=d["s"], trade_id=d["t"], price=float(d["p"]), qty=float(d["q"]),
                                 taker_side=Side.SELL if d["m"] else Side.BUY, ts_ms=now // 1_000_000 - 20,
                                 recv_ns=now))
    return out


def per_event_us(bus: Bus, events: list[Event], alert_every: int = 0) -> float:
    publish = bus.publish
    best = float("inf")
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        if alert_every:
            for i, ev in enumerate(events):
                publish(ev)
                if i % alert_every == 0:
                    publish(Alert(severity="warning", title=f"a{i}", text="x"))
        else:
            for ev in events:
                publish(ev)
        best = min(best, (time.perf_counter() - t0) / len(events) * 1e6)
    return best


async def hanging_endpoint() -> tuple[web.AppRunner, str]:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(3600)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hang)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook"


async def main() -> dict[str, float]:
    events = load_events()
    tmp = Path(tempfile.mkdtemp(prefix="bench_state_"))
    bare = per_event_us(Bus(), events)

    bus = Bus()
    obs = Observability(bus, Config(), tmp / "a", notifiers=[])
    observed = per_event_us(bus, events)

    runner, url = await hanging_endpoint()
    bus2 = Bus()
    hook = WebhookNotifier(url, timeout_s=0.5)
    obs2 = Observability(bus2, Config(), tmp / "b", notifiers=[hook])
    bus2.start()
    task = asyncio.create_task(obs2.dispatcher.run())
    await asyncio.sleep(0)
    with_hang = per_event_us(bus2, events, alert_every=1000)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await runner.cleanup()

    t0 = time.perf_counter()
    blobs = [encode_state(obs.model.build(x.name)) for x in SURFACES]
    build_all_ms = (time.perf_counter() - t0) * 1e3
    (tmp / "w").mkdir()
    t0 = time.perf_counter()
    for i in range(20):
        atomic_write(tmp / "w" / "diagnostics.json", blobs[-1] + str(i).encode())
    write_ms = (time.perf_counter() - t0) / 20 * 1e3
    t0 = time.perf_counter()
    for _ in range(20):
        render(obs.registry)
    render_ms = (time.perf_counter() - t0) / 20 * 1e3
    return {
        "events": len(events),
        "publish_bare_us": round(bare, 3),
        "publish_observed_us": round(observed, 3),
        "observability_cost_per_tick_us": round(observed - bare, 3),
        "publish_observed_with_hanging_notifier_us": round(with_hang, 3),
        "build_encode_all_state_files_ms": round(build_all_ms, 3),
        "atomic_write_ms": round(write_ms, 3),
        "metrics_render_ms": round(render_ms, 3),
    }


if __name__ == "__main__":
    result = run_async(main())
    for k, v in result.items():
        print(f"{k:>45}: {v}")
    print(json.dumps(result))
