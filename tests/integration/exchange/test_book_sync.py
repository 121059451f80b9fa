"""A client following Binance's book procedure on the local exchange's streams rebuilds its book.

Runs the bundled recording at 60x so one full pass (8 minutes) plays in ~8 s, and keeps going
across the loop boundary (the morph diff and the id offset). Checks: the pu chain never breaks,
every bookTicker whose u equals a processed depth u matches the client's best levels, and at
REST snapshot checkpoints the client's book at that lastUpdateId equals the snapshot's levels.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson
import pytest

from hedge.exchange.market import bundled_recording, load_pass
from hedge.exchange.server import LocalExchange

TOP = 500  # levels compared: deeper ones can differ because the client's snapshot stopped at 1000 levels
Best = tuple[tuple[float, float], tuple[float, float]]


class ClientBook:
    """Binance's 'manage a local order book correctly' procedure, verbatim, on plain dicts."""

    def __init__(self) -> None:
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.last_u = 0
        self.synced = False
        self.breaks = 0
        self.best: dict[int, Best] = {}  # u -> best bid, best ask after applying the diff with that u

    def top(self) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        b = sorted(self.bids.items(), reverse=True)[:TOP]
        a = sorted(self.asks.items())[:TOP]
        return b, a

    def snapshot(self, snap: dict[str, object]) -> None:
        self.bids = {float(p): float(q) for p, q in snap["bids"]}  # type: ignore[union-attr]
        self.asks = {float(p): float(q) for p, q in snap["asks"]}  # type: ignore[union-attr]
        self.last_u = int(snap["lastUpdateId"])  # type: ignore[call-overload]
        self.synced = False

    def apply(self, d: dict[str, object]) -> bool:
        U, u, pu = int(d["U"]), int(d["u"]), int(d["pu"])  # type: ignore[call-overload]
        if u < self.last_u:
            return True  # step 4: drop
        if not self.synced:
            if not (U <= self.last_u <= u):
                self.breaks += 1
                return False
            self.synced = True
        elif pu != self.last_u:
            self.breaks += 1
            return False
        for side, levels in ((self.bids, d["b"]), (self.asks, d["a"])):
            for p, q in levels:  # type: ignore[attr-defined]
                px, qty = float(p), float(q)
                if qty == 0.0:
                    side.pop(px, None)
                else:
                    side[px] = qty
        self.last_u = u
        bb, ba = max(self.bids), min(self.asks)
        self.best[u] = ((bb, self.bids[bb]), (ba, self.asks[ba]))
        return True


@pytest.mark.slow
async def test_client_book_equals_server_book_through_a_loop() -> None:
    one_pass = load_pass(tuple(str(p) for p in bundled_recording()))
    ex = LocalExchange(port=0, speed=60.0)
    await ex.start()
    book = ClientBook()
    ticker_checks = ticker_mismatches = checkpoints = 0
    after_loop = missed = 0
    tickers: dict[int, Best] = {}
    try:
        async with aiohttp.ClientSession() as http:
            url = f"ws://127.0.0.1:{ex.port}/public/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker"
            async with http.ws_connect(url) as ws:
                buffered: list[dict[str, object]] = []
                first = await ws.receive_str()  # step 1-2: stream open, buffering
                buffered.append(orjson.loads(first))
                depth_url = f"{ex.base_url}/fapi/v1/depth?symbol=BTCUSDT&limit=1000"
                snap = await (await http.get(depth_url)).json()
                book.snapshot(snap)

                async def fetch() -> dict[str, object]:
                    async with http.get(depth_url) as r:
                        out: dict[str, object] = await r.json()
                        return out

                pending: dict[str, object] | None = None
                pending_task: asyncio.Task[dict[str, object]] | None = None
                next_checkpoint = time.monotonic() + 0.3
                deadline = time.monotonic() + 120  # only bounds a failing run
                while time.monotonic() < deadline and after_loop < 3000:
                    msg = buffered.pop(0) if buffered else orjson.loads(await ws.receive_str())
                    data = msg["data"]
                    assert isinstance(data, dict)
                    if data["e"] == "depthUpdate":
                        assert book.apply(data), f"book chain broke at U={data['U']} pu={data['pu']}"
                        if int(data["u"]) > one_pass.last_id:
                            after_loop += 1
                        tick = tickers.pop(int(data["u"]), None)
                        if tick is not None:
                            ticker_checks += 1
                            ticker_mismatches += tick != book.best[int(data["u"])]
                    elif data["e"] == "bookTicker":
                        tick = ((float(data["b"]), float(data["B"])), (float(data["a"]), float(data["A"])))
                        if int(data["u"]) in book.best:
                            ticker_checks += 1
                            ticker_mismatches += tick != book.best[int(data["u"])]
                        elif int(data["u"]) > book.last_u:
                            tickers[int(data["u"])] = tick  # its depth diff has not arrived yet
                    if pending_task is None and time.monotonic() > next_checkpoint:
                        pending_task = asyncio.create_task(fetch())
                    if pending_task is not None and pending_task.done():
                        pending = pending_task.result()
                        pending_task = None
                    if pending is not None and int(pending["lastUpdateId"]) <= book.last_u:  # type: ignore[call-overload]
                        lid = int(pending["lastUpdateId"])  # type: ignore[call-overload]
                        if lid == book.last_u:
                            sb = [(float(p), float(q)) for p, q in pending["bids"][:TOP]]  # type: ignore[index]
                            sa = [(float(p), float(q)) for p, q in pending["asks"][:TOP]]  # type: ignore[index]
                            assert book.top() == (sb, sa), f"client book != server snapshot at lastUpdateId {lid}"
                            checkpoints += 1
                        else:
                            missed += 1  # the client had already moved past it
                        pending = None
                        next_checkpoint = time.monotonic() + 0.2
    finally:
        await ex.stop()
    assert after_loop >= 3000, "the replay did not loop within the time budget"
    assert book.breaks == 0
    assert checkpoints >= 10, f"{checkpoints} checkpoints, {missed} missed"
    assert ticker_checks > 300 and ticker_mismatches == 0
