"""A gate on a free loopback port in a thread of its own, over a context the test sets (``GateThread``),
and a keep-alive HTTP client for the synchronous (hypothesis) tests."""

from __future__ import annotations

import asyncio
import http.client
import threading
from typing import Any

import orjson

from hedge.bus import Bus
from hedge.config import Config
from hedge.gate.app import GateApp, GateServer
from hedge.gate.service import GateService
from hedge.model.clock import EventClock
from hedge.risk.context import RiskContext
from tests.unit.risk.helpers import NOW_NS, ctx


class GateThread:
    """``GateServer`` on 127.0.0.1:0 in a background thread; ``context`` is what the service decides with."""

    def __init__(self, cfg: Config, *, token: str | None = None, max_body: int = 64 * 1024) -> None:
        self.context: RiskContext = ctx()
        self.bus = Bus()
        self.service = GateService(cfg, lambda _sym, _now: self.context, clock=EventClock(NOW_NS),
                                   on_fill=self.bus.publish)
        self.server = GateServer(GateApp(self.service, token=token, max_body=max_body), "127.0.0.1", 0)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gate", daemon=True)
        self._task: asyncio.Task[None] | None = None

    def __enter__(self) -> GateThread:
        self._thread.start()

        async def start() -> None:
            self._task = asyncio.get_running_loop().create_task(self.server.run())
            await asyncio.wait_for(self.server.started.wait(), 30)

        asyncio.run_coroutine_threadsafe(start(), self._loop).result(60)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._task is not None
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()

    @property
    def port(self) -> int:
        return self.server.bound_port


class Client:
    """One keep-alive connection: ``request`` returns (status, parsed JSON body or raw bytes)."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = headers or {}

    def request(self, method: str, path: str, body: bytes | Any = None) -> tuple[int, Any]:
        raw = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
        self.conn.request(method, path, body=raw, headers={"Content-Type": "application/json", **self.headers})
        r = self.conn.getresponse()
        data = r.read()
        if r.getheader("Content-Type", "").startswith("application/json"):
            return r.status, orjson.loads(data)
        return r.status, data

    def close(self) -> None:
        self.conn.close()
