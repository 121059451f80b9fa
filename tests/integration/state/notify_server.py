"""A local notification endpoint on 127.0.0.1 that answers, fails or hangs, for the alert tests.

/ok/...   -> 200, records the JSON body and path
/fail/... -> 500 whose body echoes the request path (so an unmasked error would leak a token)
/hang/... -> never answers (until the server is stopped)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web


class NotifyServer:
    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.hanging = 0
        self.url = ""
        self._release = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        if path.startswith("/hang"):
            self.hanging += 1
            await self._release.wait()
            return web.Response(status=504)
        if path.startswith("/fail"):
            return web.Response(status=500, text=f"internal error while handling {path}")
        self.received.append((path, await request.json()))
        return web.json_response({"ok": True})

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[NotifyServer]:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        # access_log=None: this plays the remote Telegram server, whose own logs see the token by design.
        runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            self._release.set()
            await runner.cleanup()
