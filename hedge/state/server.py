"""The HTTP endpoint for operators: GET /metrics (Prometheus text) and GET /health (JSON).

Owns: the aiohttp server, its address (127.0.0.1 unless configured otherwise; port 0 binds an
ephemeral port, exposed as ``port`` once ``ready`` is set) and the response formats:
/health answers 200 ``{"ok": true, "reasons": [], ...}`` or 503 with the list of reasons.

Both bodies pass through ``Masker`` (labels and reasons come from event texts).

Must never: listen on a public address by default, or do work on a request beyond rendering what
``Telemetry`` and ``HealthMonitor`` already hold.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry

from hedge.state.health import HealthMonitor
from hedge.state.masking import Masker
from hedge.state.prometheus import render

log = logging.getLogger(__name__)

BIND_RETRY_S = 30.0  # the address is in use: try again this often


class MetricsServer:
    """A service serving /metrics and /health until cancelled."""

    name = "metrics-server"

    def __init__(
        self,
        registry: CollectorRegistry,
        health: HealthMonitor,
        host: str = "127.0.0.1",
        port: int = 0,
        masker: Masker | None = None,
        *,
        bind_retry_s: float = BIND_RETRY_S,
    ) -> None:
        self.masker = masker if masker is not None else Masker()
        self.bind_retry_s = bind_retry_s
        self.registry = registry
        self.health = health
        self.host = host
        self.requested_port = port
        self.port = 0
        self.ready = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/health", self._health)
        return app

    async def _metrics(self, request: web.Request) -> web.Response:
        del request
        body = self.masker.mask_bytes(render(self.registry))
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, request: web.Request) -> web.Response:
        del request
        report = self.health.evaluate()
        return web.Response(
            body=self.masker.mask_bytes(msgspec.json.encode(report)),
            status=200 if report.ok else 503,
            content_type="application/json",
        )

    async def _start(self, runner: web.AppRunner) -> web.TCPSite:
        """Listen; an address in use is said once (not a traceback per retry) and retried quietly."""
        failures = 0
        while True:
            site = web.TCPSite(runner, self.host, self.requested_port)
            try:
                await site.start()
                if failures:
                    log.info("metrics: %s:%d free again after %d attempt(s)", self.host, self.requested_port, failures)
                return site
            except OSError as exc:
                failures += 1
                if failures == 1:
                    log.error("metrics: cannot listen on %s:%d (%s): /metrics and /health are unavailable; retrying "
                              "every %.0f s (another hedge daemon? set runtime.metrics.port; 0 = any free port)",
                              self.host, self.requested_port, exc.strerror or exc, self.bind_retry_s)
            await asyncio.sleep(self.bind_retry_s)

    async def run(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        try:
            site = await self._start(runner)
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1] if sockets else self.requested_port
            self.ready.set()
            log.info("metrics: serving /metrics and /health on %s", self.url)
            await asyncio.Event().wait()
        finally:
            self.ready.clear()
            await runner.cleanup()
            if self.port:
                log.info("metrics: stopped serving /metrics and /health on %s", self.url)
