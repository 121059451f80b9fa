"""REST fault injection of the local exchange, seen through the real ccxt client and the order log."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest

from hedge.exchange.server import LocalExchange
from tests.kit.wait import wait_for

SYMBOL = "BTC/USDT:USDT"
ROOT = Path(__file__).resolve().parents[3]


async def _set(ex: LocalExchange, plan: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as http:
        r = await http.post(f"{ex.base_url}/_hedge/faults", json=plan)
        assert r.status == 200, await r.text()


async def _order_log(ex: LocalExchange) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as http:
        out: list[dict[str, Any]] = await (await http.get(f"{ex.base_url}/_hedge/orders")).json()
        return out


async def test_timeout_and_dropped_answers_still_commit(exchange: LocalExchange, client: Any) -> None:
    await client.load_markets()
    bid = (await client.fetch_order_book(SYMBOL, 5))["bids"][0][0]
    await _set(exchange, {"order_1007": {"count": 1}})
    with pytest.raises(ccxt.RequestTimeout):
        await client.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 40, 1), {"newClientOrderId": "t-1007"})
    await _set(exchange, {"order_drop": {"count": 1}})
    with pytest.raises(ccxt.NetworkError):
        await client.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 41, 1), {"newClientOrderId": "t-drop"})
    open_ids = {o["clientOrderId"] for o in await client.fetch_open_orders(SYMBOL)}
    assert open_ids == {"t-1007", "t-drop"}  # both committed although the client got no answer
    log = await _order_log(exchange)
    assert [(e["client_order_id"], e["fault"]) for e in log if e["method"] == "POST"] == [
        ("t-1007", "order_1007"),
        ("t-drop", "order_drop"),
    ]
    # a client that resends blindly would be caught: the same id is refused while open, and the log shows 2 POSTs
    with pytest.raises(ccxt.InvalidOrder, match="-4116"):
        await client.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 41, 1), {"newClientOrderId": "t-drop"})


async def test_delay_429_and_clock_skew(exchange: LocalExchange, client: Any) -> None:
    await _set(exchange, {"rest_delay_ms": {"value": 300}})
    t0 = time.monotonic()
    await client.fetch_time()
    assert time.monotonic() - t0 >= 0.3
    await _set(exchange, {"rest_delay_ms": {"value": 0}, "rest_429": {"count": 1}})
    with pytest.raises(ccxt.DDoSProtection):
        await client.fetch_time()
    assert client.last_response_headers["Retry-After"]
    await client.fetch_time()  # one-shot: the next request goes through
    await _set(exchange, {"clock_skew_ms": {"value": -5000}})
    server = await client.fetch_time()
    assert server < time.time() * 1000 - 4000
    async with aiohttp.ClientSession() as http:
        faults = await (await http.get(f"{exchange.base_url}/_hedge/faults")).json()
        assert faults["fired"]["rest_429"] == 1
        r = await http.post(f"{exchange.base_url}/_hedge/faults", json={"no_such_fault": {"count": 1}})
        assert r.status == 400


async def test_a_delayed_order_executes_late_unless_older_than_its_recv_window(exchange: LocalExchange,
                                                                               client: Any) -> None:
    """A delayed request is received, then handled: after its client timed out it still executes (the
    outcome the client must resolve by query), but past its recvWindow it is refused, as Binance's
    matching engine does, so that "not found once older than recvWindow + 1 s" proves it never will."""
    await client.load_markets()
    bid = (await client.fetch_order_book(SYMBOL, 5))["bids"][0][0]
    client.timeout = 200
    await _set(exchange, {"rest_delay_ms": {"value": 600}})
    for cid, window in (("late-ok", 2000), ("late-stale", 400)):
        with pytest.raises(ccxt.RequestTimeout):
            await client.create_order(SYMBOL, "limit", "buy", 0.01, round(bid - 50, 1),
                                      {"newClientOrderId": cid, "recvWindow": window})
    await _set(exchange, {"rest_delay_ms": {"value": 0}})
    client.timeout = 10_000
    # The first one executes late (a condition); the stale one leaves no trace (it never reaches the engine,
    # which is the point), so an absence covers its 600 ms delay: the later it is handled, the staler it is.
    async def open_ids() -> set[str]:
        return {o["clientOrderId"] for o in await client.fetch_open_orders(SYMBOL)}

    await wait_for(open_ids, what="the late order")
    await asyncio.sleep(0.8)
    assert await open_ids() == {"late-ok"}
    posts = [e for e in await _order_log(exchange) if e["method"] == "POST"]
    assert [e["client_order_id"] for e in posts] == ["late-ok"]  # the stale one never reached the engine
    assert posts[0]["sent_ms"] > 0 and posts[0]["time_ms"] - posts[0]["sent_ms"] >= 550


def test_command_runs_until_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hedge",
            "exchange",
            "--port",
            "0",
            "--synthetic",
            "ETHUSDT,FOOUSDT",
            "--faults",
            "depth_gap=0.01,seed=3",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("local exchange on http://127.0.0.1:")
        port = int(line.split(":")[2].split()[0])
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/fapi/v1/depth?symbol=FOOUSDT&limit=5", timeout=5) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
    bad = subprocess.run(
        [sys.executable, "-m", "hedge", "exchange", "--faults", "nonsense=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "unknown fault" in bad.stderr
