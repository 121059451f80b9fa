"""Benchmark the pre-trade gate over loopback HTTP: 50 concurrent keep-alive clients asking ``/pretrade/check``.

The gate (``GateApp`` + ``GateService`` over a fixed allowing context: 6 positions, the shipped
limits) runs in a child process of its own, as ``hedge gate`` would; the clients are raw HTTP/1.1
connections in this process (a cheap client, so the figure is the server's). Every request has a
fresh idempotency key (a decision, not a cache hit). Two runs: back to back (each client sends its
next check when the answer comes: the most checks/s the gate answers; with 50 in flight the latency
is then 50 / rate by Little's law), and paced (``--rate`` checks/s offered over the 50 clients,
each latency counted from when the check was due): the latency at that load.

Goal (issue 18): >= 3,000 checks/s with p99 <= 5 ms on this 2-core machine.

Usage: .venv/bin/python scripts/bench_gate.py [--clients 50] [--seconds 5]   (last line: one JSON object)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing as mp
import random
import time

import msgspec

from hedge.app import run_async
from hedge.bus import Bus
from hedge.config import Config
from hedge.gate.app import GateApp, GateServer
from hedge.gate.service import GateService
from hedge.model.clock import LiveClock
from hedge.risk import BookRisk, NavHealth, PositionRisk, RiskContext

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "ADAUSDT")


def _context(clock: LiveClock) -> RiskContext:
    now = clock.now_ns()
    return RiskContext(
        now_ns=now, nav=NavHealth(value=100_000.0, age_s=1.0, source="bench", updated_ms=now // 1_000_000),
        day_start_nav=100_000.0, nav_hwm=100_000.0, user_stream_up=True, ack_latency_ms=20.0,
        positions={s: PositionRisk(qty=0.01, mark=100.0, open_buy=0.01) for s in SYMBOLS},
        book=BookRisk(valid=True, bid=100.0, ask=100.01, spread_bps=1.0, lag_ms=5.0),
    )


def _serve(port_out: mp.connection.Connection) -> None:  # the child process
    async def main() -> None:
        clock = LiveClock()
        cfg = Config()
        base = _context(clock)

        def context(_symbol: str, now_ns: int) -> RiskContext:
            return msgspec.structs.replace(base, now_ns=now_ns)

        service = GateService(cfg, context, clock=clock, on_fill=Bus().publish)
        server = GateServer(GateApp(service), "127.0.0.1", 0)
        task = asyncio.get_running_loop().create_task(server.run())
        await server.started.wait()
        port_out.send(server.bound_port)
        await task

    run_async(main())


async def _client(port: int, stop_at: float, warm_until: float, keys: itertools.count[int],
                  lat: list[float], interval: float) -> int:
    """One keep-alive connection: back to back (``interval`` 0) or one check every ``interval`` s, its
    latency then counted from when it was due (no coordinated omission)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    due = time.perf_counter() + interval * random.random()
    try:
        while True:
            if interval:
                due += interval
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            now = time.perf_counter()
            t0 = due if interval else now
            if now >= stop_at:
                return done
            body = (b'{"idempotency_key":"b%d","symbol":"BTCUSDT","side":"BUY","quantity":0.5,"price":100.0,'
                    b'"e_pi_bps":5.0,"latency_ms":3.0}' % next(keys))
            writer.write(b"POST /pretrade/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            answer = await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200") or b'"allow":true' not in answer:
                raise RuntimeError(f"unexpected answer: {head[:40]!r} {answer[:200]!r}")
            t1 = time.perf_counter()
            if t0 >= warm_until:
                lat.append(t1 - t0)
                done += 1
    finally:
        writer.close()


async def _load(port: int, clients: int, seconds: float, warmup: float, rate: float) -> tuple[float, list[float]]:
    """(checks/s, sorted latencies): ``rate`` 0 = as fast as the gate answers, else that many checks/s in all."""
    keys = itertools.count()
    lat: list[float] = []
    start = time.perf_counter()
    warm_until = start + warmup
    stop_at = warm_until + seconds
    interval = clients / rate if rate else 0.0
    counts = await asyncio.gather(*(_client(port, stop_at, warm_until, keys, lat, interval) for _ in range(clients)))
    return sum(counts) / seconds, sorted(lat)


def _pct(lat: list[float], q: float) -> float:
    return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3, 3) if lat else float("nan")


async def _both(port: int, args: argparse.Namespace) -> dict[str, float]:
    top, lat_top = await _load(port, args.clients, args.seconds, args.warmup, 0.0)
    paced, lat = await _load(port, args.clients, args.seconds, args.warmup, args.rate)
    return {"max_checks_per_s": round(top, 1), "closed_p50_ms": _pct(lat_top, 0.5),
            "closed_p99_ms": _pct(lat_top, 0.99), "rate": args.rate, "checks_per_s": round(paced, 1),
            "p50_ms": _pct(lat, 0.5), "p99_ms": _pct(lat, 0.99), "max_ms": _pct(lat, 1.0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--rate", type=float, default=3000.0, help="offered checks/s of the paced run (all clients)")
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child,), daemon=True)
    proc.start()
    try:
        if not parent.poll(60):
            raise SystemExit("the gate did not start")
        port = parent.recv()
        r = run_async(_both(port, args))
    finally:
        proc.terminate()
        proc.join(10)
    print(f"{args.clients} clients back to back: {r['max_checks_per_s']:,.0f} checks/s "
          f"(p50 {r['closed_p50_ms']} ms, p99 {r['closed_p99_ms']} ms: 50 in flight)")
    print(f"{args.clients} clients paced at {args.rate:,.0f} checks/s: {r['checks_per_s']:,.0f} checks/s answered, "
          f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms")
    goal = r["max_checks_per_s"] >= 3000 and r["checks_per_s"] >= 0.98 * args.rate and r["p99_ms"] <= 5.0
    print(json.dumps({"clients": args.clients, **r, "goal_met": goal}))


if __name__ == "__main__":
    main()
