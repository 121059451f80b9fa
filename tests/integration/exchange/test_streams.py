"""Market websockets of the local exchange: paths, payloads, control messages and stream faults."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
import websockets

from hedge.exchange.server import LocalExchange
from tests.kit.exchange import running_exchange


@pytest.fixture
async def fast() -> AsyncIterator[LocalExchange]:
    async with running_exchange(speed=20.0) as ex:
        yield ex


async def _frames(url: str, n: int, wait_s: float = 10.0) -> list[Any]:
    async with websockets.connect(url, compression=None) as ws:
        return [orjson.loads(await asyncio.wait_for(ws.recv(), wait_s)) for _ in range(n)]


@pytest.mark.parametrize("path", ["/stream", "/public/stream", "/market/stream"])
async def test_combined_paths_carry_every_stream(fast: LocalExchange, path: str) -> None:
    streams = "btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@aggTrade/btcusdt@trade/btcusdt@markPrice@1s"
    seen: dict[str, dict[str, Any]] = {}
    async with websockets.connect(f"ws://127.0.0.1:{fast.port}{path}?streams={streams}", compression=None) as ws:
        while len(seen) < 5:
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
            seen.setdefault(msg["stream"], msg["data"])
    assert seen["btcusdt@depth@100ms"]["e"] == "depthUpdate"
    d = seen["btcusdt@depth@100ms"]
    assert {"E", "T", "s", "U", "u", "pu", "b", "a"} <= d.keys() and d["U"] <= d["u"]
    assert isinstance(d["b"][0][0], str)
    assert seen["btcusdt@bookTicker"]["e"] == "bookTicker" and float(seen["btcusdt@bookTicker"]["b"]) > 0
    agg = seen["btcusdt@aggTrade"]
    assert agg["e"] == "aggTrade" and agg["f"] <= agg["a"] <= agg["l"] and isinstance(agg["m"], bool)
    assert seen["btcusdt@trade"]["e"] == "trade" and seen["btcusdt@trade"]["X"] == "MARKET"
    mark = seen["btcusdt@markPrice@1s"]
    assert mark["e"] == "markPriceUpdate" and float(mark["p"]) > 0 and mark["T"] > mark["E"]


async def test_raw_path_and_subscribe_control(fast: LocalExchange) -> None:
    frames = await _frames(f"ws://127.0.0.1:{fast.port}/ws/btcusdt@bookTicker", 3)
    assert all(f["e"] == "bookTicker" for f in frames)  # raw: no {"stream":..} wrapper
    async with websockets.connect(f"ws://127.0.0.1:{fast.port}/ws", compression=None) as ws:
        await ws.send(orjson.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 7}).decode())
        first = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
        assert first == {"result": None, "id": 7}
        await ws.send(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}).decode())
        for _ in range(200):
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
            if msg.get("id") == 8:
                assert msg["result"] == ["btcusdt@aggtrade"]
                break
            assert msg["e"] == "aggTrade"
        else:
            pytest.fail("no LIST_SUBSCRIPTIONS answer")


async def test_depth_gap_and_duplicate_faults(fast: LocalExchange) -> None:
    url = f"ws://127.0.0.1:{fast.port}/stream?streams=btcusdt@depth"
    async with websockets.connect(url, compression=None) as ws:
        prev = orjson.loads(await asyncio.wait_for(ws.recv(), 30))["data"]
        fast.faults.settings["depth_gap"].count = 1
        gaps = 0
        for _ in range(5):
            cur = orjson.loads(await asyncio.wait_for(ws.recv(), 30))["data"]
            gaps += cur["pu"] != prev["u"]
            prev = cur
        assert gaps == 1 and fast.faults.fired["depth_gap"] == 1
        fast.faults.settings["depth_dup"].count = 1
        dups = 0
        for _ in range(5):
            cur = orjson.loads(await asyncio.wait_for(ws.recv(), 30))["data"]
            dups += cur["u"] == prev["u"]
            prev = cur
        assert dups == 1


async def test_drop_and_stall_connections(fast: LocalExchange) -> None:
    url = f"ws://127.0.0.1:{fast.port}/stream?streams=btcusdt@bookTicker"
    async with websockets.connect(url, compression=None) as ws:
        await asyncio.wait_for(ws.recv(), 30)
        async with aiohttp.ClientSession() as http:
            r = await http.post(f"{fast.base_url}/_hedge/actions/ws_stall?seconds=1.0")
            assert r.status == 200
            while True:  # drain what was already queued before the stall (until 50 ms of silence)
                try:
                    await asyncio.wait_for(ws.recv(), 0.05)
                except TimeoutError:
                    break
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)
            await asyncio.wait_for(ws.recv(), 30)  # flows again after the stall
            r = await http.post(f"{fast.base_url}/_hedge/actions/ws_drop")
            assert (await r.json())["dropped"] == 1
        with pytest.raises(websockets.ConnectionClosed):
            for _ in range(100_000):
                await asyncio.wait_for(ws.recv(), 30)


async def test_synthetic_market_for_any_symbol() -> None:
    async with running_exchange(synthetic=["FOOUSDT"], speed=5.0) as ex:
        assert "FOOUSDT" in ex.specs and ex.market_files == []
        frames = await _frames(f"ws://127.0.0.1:{ex.port}/stream?streams=foousdt@depth@100ms", 5)
        for a, b in itertools.pairwise(frames):
            assert b["data"]["pu"] == a["data"]["u"]
        async with aiohttp.ClientSession() as http:
            snap = await (await http.get(f"{ex.base_url}/fapi/v1/depth?symbol=FOOUSDT&limit=5")).json()
        assert len(snap["bids"]) == 5 and float(snap["bids"][0][0]) < float(snap["asks"][0][0])


async def test_interval_depth_merges_the_per_update_diffs(fast: LocalExchange) -> None:
    url = f"ws://127.0.0.1:{fast.port}/stream?streams=btcusdt@depth@0ms/btcusdt@depth@100ms"
    fine: list[dict[str, Any]] = []
    merged: list[dict[str, Any]] = []
    async with websockets.connect(url, compression=None) as ws:
        while len(merged) < 8:
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
            (fine if msg["stream"] == "btcusdt@depth@0ms" else merged).append(msg["data"])
    merged = merged[1:]  # the first merged frame may have started before the 0ms frames we kept
    by_first = {d["U"]: d for d in fine}
    by_final = {d["u"]: d for d in fine}
    for a, b in itertools.pairwise(merged):
        assert b["pu"] == a["u"]
        assert b["E"] - a["E"] >= 50  # one frame per interval, not per update
    for m in merged[:-1]:
        assert m["U"] in by_first and m["u"] in by_final
        assert m["pu"] == by_first[m["U"]]["pu"]
        # the merged frame carries the last quantity of every level touched in its interval
        covered = [d for d in fine if m["U"] <= d["U"] and d["u"] <= m["u"]]
        assert len(covered) >= 1
        last: dict[str, str] = {}
        for d in covered:
            last.update(dict(d["b"]))
        assert dict(m["b"]) == last


async def test_server_sends_ping_frames(fast: LocalExchange) -> None:
    fast.hub.ping_interval_s = 0.2
    async with aiohttp.ClientSession() as http, http.ws_connect(f"ws://127.0.0.1:{fast.port}/ws", autoping=False) as ws:
        msg = await asyncio.wait_for(ws.receive(), 30)
        assert msg.type == aiohttp.WSMsgType.PING
        await ws.pong(msg.data)
