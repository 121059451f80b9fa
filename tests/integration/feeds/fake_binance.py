"""A Binance-like market-data server on 127.0.0.1 for tests: real websockets + aiohttp sockets.

It streams the recorded BTCUSDT depth frames (tests/integration/feeds/recorded.py) on
``/public/stream`` following a per-connection script, and answers ``GET /fapi/v1/depth`` with the
reference book at the position it has streamed to (lastUpdateId inside the next diff's range).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.integration.feeds.recorded import CHAIN, CHAIN_RAW, Reference


class FakeBinance:
    """Depth frames from the recording; per-connection scripts: (start index, count, then 'drop'|'stall'|'idle').

    'drop' aborts the TCP connection, 'stall' keeps it open and silent, 'idle' keeps it open and
    sends only control replies (so no watchdog fires).
    """

    def __init__(self, scripts: list[tuple[int, int, str]], *, drop_market: bool = False) -> None:
        self.scripts = scripts
        self.drop_market = drop_market  # abort every /market connection at once (a failing endpoint)
        self.market_drops = 0
        self.connections = 0
        self.paths: list[str] = []
        self.sent_upto = -1
        self.delivered_upto = -1  # 'idle': the last frame the client has read (it answered a ping sent after it)
        self.snapshots = 0
        self.ref = Reference()
        self.ws_port = 0
        self.rest_port = 0

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.paths.append(ws.request.path)
        if not ws.request.path.startswith("/public/stream?streams=btcusdt@depth@100ms"):
            if self.drop_market and ws.request.path.startswith("/market/"):
                self.market_drops += 1
                assert ws.transport is not None
                ws.transport.abort()
                return
            await ws.wait_closed()
            return
        start, count, then = self.scripts[min(self.connections, len(self.scripts) - 1)]
        self.connections += 1
        for i in range(start, min(start + count, len(CHAIN) - 1)):
            await ws.send(CHAIN_RAW[i].decode())
            self.sent_upto = i
            await asyncio.sleep(0.002)
        if then == "drop":
            assert ws.transport is not None
            ws.transport.abort()
            return
        if then == "idle":  # open, no more depth, but alive: a control reply now and then
            with contextlib.suppress(ConnectionClosed):
                await (await ws.ping())  # answered once the client has read every frame sent before it
                self.delivered_upto = self.sent_upto
                while True:
                    await ws.send('{"result":null,"id":1}')
                    await asyncio.sleep(0.05)
        await ws.wait_closed()  # 'stall': connection open, nothing sent

    async def depth(self, request: web.Request) -> web.Response:
        assert request.query["symbol"] == "BTCUSDT" and request.query["limit"] == "1000"
        j = self.sent_upto
        self.snapshots += 1
        self.ref.advance_to(j)
        body = {
            "lastUpdateId": CHAIN[j + 1].first_id,
            "E": 1, "T": 1,
            "bids": [[repr(p), repr(q)] for p, q in self.ref.bids.items()],
            "asks": [[repr(p), repr(q)] for p, q in self.ref.asks.items()],
        }
        return web.Response(body=json.dumps(body).encode(), content_type="application/json")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[FakeBinance]:
        app = web.Application()
        app.router.add_get("/fapi/v1/depth", self.depth)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.rest_port = runner.addresses[0][1]
        async with serve(self.handler, "127.0.0.1", 0, compression=None) as server:
            self.ws_port = server.sockets[0].getsockname()[1]
            try:
                yield self
            finally:
                server.close()
                await runner.cleanup()


