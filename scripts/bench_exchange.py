"""Benchmark the local exchange over loopback: order round trip and market-stream delivery.

Starts ``python -m hedge exchange`` in a subprocess (its own process, as a user would run it):
The client runs on uvloop when installed, as hedge does.
1. order round trip: N signed ``POST /fapi/v1/order`` (GTX buys resting far below the touch, each
   cancelled right after) from one aiohttp client; latency = request sent -> response received.
3. matching engine alone (in-process, as replay uses it): one pass of the recording with 6 resting
   client orders re-quoted around the touch every 2000 events; market events/s.
2. market stream: one websocket client on depth@0ms + bookTicker + trade + aggTrade of the bundled
   recording replayed at --speed; messages/s received over a fixed window.
Last line: one JSON object with the headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET, sign  # noqa: E402


def start_server(*args: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "hedge", "exchange", "--port", "0", "--limits", "off", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    port = int(line.split("http://127.0.0.1:")[1].split()[0])
    return proc, port


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def signed(params: dict[str, str]) -> str:
    params = {**params, "timestamp": str(int(time.time() * 1000)), "recvWindow": "10000"}
    query = urlencode(params)
    return f"{query}&signature={sign(DEFAULT_API_SECRET, query)}"


async def order_round_trips(port: int, n: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    headers = {"X-MBX-APIKEY": DEFAULT_API_KEY, "Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/fapi/v1/depth?symbol=BTCUSDT&limit=5") as r:
            bid = float((await r.json())["bids"][0][0])
        price = f"{round(bid * 0.98, 1):.1f}"
        lat: list[float] = []
        for i in range(n):
            body = signed(
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTX",
                    "quantity": "0.002",
                    "price": price,
                    "newClientOrderId": f"bench-{i}",
                    "newOrderRespType": "RESULT",
                }
            )
            t0 = time.perf_counter_ns()
            async with http.post(f"{base}/fapi/v1/order", data=body, headers=headers) as r:
                payload = await r.read()
            lat.append((time.perf_counter_ns() - t0) / 1000)
            if r.status != 200:
                raise SystemExit(f"order {i} failed: {r.status} {payload[:200]!r}")
            cancel = signed({"symbol": "BTCUSDT", "origClientOrderId": f"bench-{i}"})
            async with http.delete(f"{base}/fapi/v1/order?{cancel}", headers=headers) as r:
                await r.read()
    lat.sort()
    return {
        "order_rtt_p50_us": round(statistics.median(lat), 1),
        "order_rtt_p99_us": round(lat[int(len(lat) * 0.99) - 1], 1),
        "order_rtt_mean_us": round(statistics.fmean(lat), 1),
        "orders": n,
    }


async def stream_rate(port: int, seconds: float) -> dict[str, float]:
    url = f"ws://127.0.0.1:{port}/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@trade/btcusdt@aggTrade"
    count = 0
    async with aiohttp.ClientSession() as http, http.ws_connect(url, max_msg_size=0) as ws:
        await ws.receive()
        t0 = time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds:
            try:
                await asyncio.wait_for(ws.receive(), seconds - elapsed)
            except TimeoutError:
                break
            count += 1
        elapsed = time.perf_counter() - t0
    return {"stream_msgs_per_s": round(count / elapsed), "stream_msgs": count}


def engine_rate() -> dict[str, float]:
    import itertools

    from hedge.exchange.market import RecordingTape, bundled_recording
    from hedge.exchange.marketdata import BookDiff, BookSnapshot, MarketTrade
    from hedge.exchange.matching import MatchingEngine
    from hedge.exchange.orders import NewOrder
    from hedge.exchange.symbols import ExchangeInfo

    tape = RecordingTape(bundled_recording())
    events = [e for _, e in itertools.islice(tape, len(tape.one.events) + 1)]
    eng = MatchingEngine(ExchangeInfo().specs, clock=lambda: 0)
    eng.add_account("a", 1e9)
    t0 = time.perf_counter()
    for i, ev in enumerate(events):
        if isinstance(ev, BookDiff):
            eng.on_depth(ev.symbol, ev.bids, ev.asks)
        elif isinstance(ev, MarketTrade):
            eng.on_trade(ev.symbol, ev.price, ev.qty, ev.buyer_maker)
        elif isinstance(ev, BookSnapshot):
            eng.on_snapshot(ev.symbol, ev.bids, ev.asks)
        if i % 2000 == 100:
            book = eng.book("BTCUSDT")
            bid, ask = book.best_bid(), book.best_ask()
            assert bid is not None and ask is not None
            for o in eng.open_orders("a"):
                eng.cancel("a", o.symbol, o.order_id, None)
            for k in range(3):
                for side, px in (("BUY", bid[0] - k * 0.1), ("SELL", ask[0] + k * 0.1)):
                    eng.place(
                        "a", NewOrder(symbol="BTCUSDT", side=side, type="LIMIT", quantity=0.01, price=round(px, 1))
                    )  # type: ignore[arg-type]
    dt = time.perf_counter() - t0
    return {"engine_events_per_s": round(len(events) / dt), "engine_fills": len(eng.accounts["a"].fills)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--speed", type=float, default=1000.0, help="replay speed for the stream test")
    a = ap.parse_args()
    try:
        import uvloop

        run = uvloop.run
    except ImportError:
        run = asyncio.run
    result: dict[str, float] = {}
    proc, port = start_server("--speed", "1")
    try:
        result.update(run(order_round_trips(port, a.orders)))
    finally:
        stop_server(proc)
    proc, port = start_server("--speed", str(a.speed))
    try:
        result.update(run(stream_rate(port, a.seconds)))
        result["stream_speed"] = a.speed
    finally:
        stop_server(proc)
    result.update(engine_rate())
    print(
        f"order POST->response over loopback: p50 {result['order_rtt_p50_us']} us, p99 {result['order_rtt_p99_us']} us"
    )
    print(f"market stream delivered: {result['stream_msgs_per_s']} msgs/s at replay speed {a.speed}x")
    print(f"matching engine in-process: {result['engine_events_per_s']} market events/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
