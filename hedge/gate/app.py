"""The gate's HTTP application: routes, bearer-token auth, the body size limit and the error answers.

Owns: ``POST /pretrade/check``, ``POST /posttrade/log``, ``POST /posttrade/reset``, ``GET /health``, ``GET /metrics``,
``GET /openapi.json``; the rule that a bound address other than loopback needs a token
(``check_binding``); the answers to a bad request: 401 without the token, 413 over the size
limit, 422 with the field path (msgspec's ``ValidationError`` names it) for a body that does not
decode; ``serve`` (a ``Service`` that runs the site until cancelled).

Must never: answer a client's mistake with a 5xx, log the token, or decide (``GateService`` does).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
from aiohttp import web

from hedge import __version__
from hedge.gate.metrics import build_registry, render
from hedge.gate.schemas import CheckRequest, EdgeReset, ErrorOut, PostTradeLog, openapi
from hedge.gate.service import GateService

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
TOKEN_ENV = "HEDGE_GATE_TOKEN"
OPEN_PATHS = frozenset({"/health"})  # answered without the token (liveness probes)
T = TypeVar("T")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_encode = msgspec.json.Encoder().encode
_check_decoder = msgspec.json.Decoder(CheckRequest)
_posttrade_decoder = msgspec.json.Decoder(PostTradeLog)
_reset_decoder = msgspec.json.Decoder(EdgeReset)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """``ValueError`` when ``host`` is not loopback and there is no token to require."""
    if not is_loopback(host) and not token:
        raise ValueError(f"binding the gate to {host} needs a bearer token in {TOKEN_ENV} (refusing to start)")


def _json(payload: msgspec.Struct | bytes, status: int = 200) -> web.Response:
    body = payload if isinstance(payload, bytes) else _encode(payload)
    return web.Response(body=body, status=status, content_type="application/json")


def _field_path(err: msgspec.ValidationError | msgspec.DecodeError) -> tuple[str, str]:
    """(message, path): msgspec ends a validation message with `` - at `$.a.b` ``."""
    text = str(err)
    msg, sep, where = text.rpartition(" - at `")
    return (msg, where.rstrip("`")) if sep else (text, "")


class GateApp:
    """The aiohttp application around one ``GateService``."""

    def __init__(self, service: GateService, *, token: str | None = None, max_body: int = MAX_BODY_BYTES) -> None:
        self.service = service
        self._token = f"Bearer {token}".encode() if token else None
        self._registry = build_registry(service)
        self._openapi = _encode(openapi(__version__))
        self.app = web.Application(client_max_size=max_body, middlewares=[self._guard])
        self.app.router.add_post("/pretrade/check", self.pretrade_check)
        self.app.router.add_post("/posttrade/log", self.posttrade_log)
        self.app.router.add_post("/posttrade/reset", self.posttrade_reset)
        self.app.router.add_get("/health", self.health)
        self.app.router.add_get("/metrics", self.metrics)
        self.app.router.add_get("/openapi.json", self.openapi)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._token is not None and request.path not in OPEN_PATHS:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, self._token):
                self.service.bad_requests += 1
                return _json(ErrorOut(error="missing or wrong bearer token"), 401)
        try:
            return await handler(request)
        except web.HTTPException as e:  # 404, 405, 413: the client's, answered as aiohttp says
            if e.status >= 500:
                raise
            self.service.bad_requests += 1
            return _json(ErrorOut(error=e.reason), e.status)

    async def _decode(self, request: web.Request, decoder: msgspec.json.Decoder[T]) -> T | web.Response:
        body = await request.read()
        try:
            return decoder.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as e:
            self.service.bad_requests += 1
            msg, path = _field_path(e)
            return _json(ErrorOut(error=msg, path=path), 422)

    async def pretrade_check(self, request: web.Request) -> web.Response:
        req = await self._decode(request, _check_decoder)
        if isinstance(req, web.Response):
            return req
        return _json(self.service.check(req))

    async def posttrade_log(self, request: web.Request) -> web.Response:
        req = await self._decode(request, _posttrade_decoder)
        if isinstance(req, web.Response):
            return req
        return _json(self.service.log_posttrade(req))

    async def posttrade_reset(self, request: web.Request) -> web.Response:
        req = await self._decode(request, _reset_decoder)
        if isinstance(req, web.Response):
            return req
        return _json(self.service.reset_edge(req))

    async def health(self, request: web.Request) -> web.Response:
        h = self.service.health()
        return _json(h, 200 if h.ok else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=render(self._registry), content_type="text/plain", charset="utf-8")

    async def openapi(self, request: web.Request) -> web.Response:
        return _json(self._openapi)


class GateServer:
    """The gate's HTTP site as an engine ``Service``: listens on ``host:port`` until cancelled
    (``port`` 0 = any free port; ``bound_port`` and ``started`` tell which once listening)."""

    name = "gate-http"

    def __init__(self, gate: GateApp, host: str, port: int) -> None:
        self.gate = gate
        self.host = host
        self.port = port
        self.bound_port = 0
        self.started = asyncio.Event()

    async def run(self) -> None:
        runner = web.AppRunner(self.gate.app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, backlog=1024)
            await site.start()
            server = site._server
            sockets = getattr(server, "sockets", None) or []
            self.bound_port = sockets[0].getsockname()[1] if sockets else self.port
            log.info("gate: listening on http://%s:%d", self.host, self.bound_port)
            self.started.set()
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
