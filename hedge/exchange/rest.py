"""The REST request pipeline of the local exchange: faults, rate limits, authentication, answers.

Owns: ``Rest.endpoint(security, weight, handler)``, which wraps a handler in Binance's request
rules in order — injected delays/drops/429/418, the IP weight charge (``X-MBX-USED-WEIGHT-1M``),
``X-MBX-APIKEY``, the HMAC signature and timestamp window for SIGNED endpoints — and turns the
result into a JSON answer or a ``Reject`` into Binance's ``{"code", "msg"}`` with its HTTP status
(plus ``Retry-After`` on 429/418 and ``X-MBX-ORDER-COUNT-*`` on order endpoints); ``Ctx``, the
request's typed parameters (``params.Params``) and the account that signed it; and the
application middleware ``binance_errors`` that answers every other error on the port (no route,
body too large, a bug) as Binance JSON too.

Must never: run a handler for a request that failed authentication, or let a handler's bug
escape as anything but a logged -1000 answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import orjson
from aiohttp import web

from hedge.exchange import errors
from hedge.exchange.auth import Keys, check_timestamp, split_signature
from hedge.exchange.faults import Faults
from hedge.exchange.limits import RateLimiter
from hedge.exchange.params import Params, decode

log = logging.getLogger(__name__)

Security = Literal["NONE", "USER_STREAM", "SIGNED"]
Handler = Callable[["Ctx"], Awaitable[Any]]
Weight = int | Callable[[Params], int]  # request weight, fixed or from the parameters
BAN_FAULT_MS = 120_000


class DropConnection(Exception):
    """Close the connection without an answer (fault injection)."""


class Ctx(Params):
    """One request's parameters (query string and form body merged, read by type) and the account
    that signed it."""

    __slots__ = ("account", "ip", "request")

    def __init__(self, request: web.Request, params: dict[str, str], ip: str) -> None:
        super().__init__(params)
        self.request = request
        self.ip = ip
        self.account = ""  # the API key; accounts are keyed by it


def reject_response(rej: errors.Reject, headers: dict[str, str] | None = None) -> web.Response:
    """Binance's answer to a refused request: ``{"code", "msg"}`` with the rejection's HTTP status."""
    return web.Response(
        status=rej.status,
        body=orjson.dumps({"code": rej.code, "msg": rej.msg}),
        headers=headers,
        content_type="application/json",
    )


@web.middleware
async def binance_errors(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                         ) -> web.StreamResponse:
    """Every error on the port as Binance JSON: aiohttp's own refusals (no route: 404 -5000; body
    too large, not a websocket upgrade: -1000 with aiohttp's status), a ``Reject`` raised by a
    route outside ``Rest.endpoint``, and a bug (logged, 500 -1000)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status in (404, 405):
            return reject_response(errors.invalid_path(request.method, request.path))
        return reject_response(errors.refused(exc.status, " ".join((exc.text or exc.reason).split())))
    except errors.Reject as rej:
        return reject_response(rej)
    except ConnectionError:
        raise
    except Exception:
        log.exception("local exchange: %s %s failed", request.method, request.path)
        return reject_response(
            errors.Reject(-1000, "An unknown error occurred while processing the request.", 500)
        )


def drop(request: web.Request) -> web.StreamResponse:
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


class Rest:
    def __init__(self, keys: Keys, limiter: RateLimiter, faults: Faults, clock: Callable[[], int]) -> None:
        self.keys = keys
        self.limiter = limiter
        self.faults = faults
        self.clock = clock

    def endpoint(
        self, security: Security, weight: Weight, handler: Handler, *, counts_orders: bool = False
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            ip = request.remote or "?"
            headers: dict[str, str] = {}
            try:  # the whole request is received first: a delayed one is still handled if its client gave up
                body = await request.read() if request.can_read_body else b""
            except ConnectionResetError:
                return drop(request)
            delay = self.faults.value("rest_delay_ms")
            if delay > 0:
                await asyncio.sleep(delay / 1000)
            # Time is read once handling starts, as Binance's matching engine checks recvWindow when the
            # request reaches it (-5028): a request delayed beyond its recvWindow is refused, never executed.
            now = self.clock()
            what = f"{request.method} {request.path}"
            if self.faults.fire("rest_drop", what):
                return drop(request)
            try:
                if self.faults.fire("rest_418", what):
                    self.limiter.ban(ip, now + int(self.faults.value("rest_418") or BAN_FAULT_MS))
                if self.faults.fire("rest_429", what):
                    raise errors.too_many_requests()
                query = request.raw_path.partition("?")[2]  # as sent: the signature covers these bytes
                params, text = decode(query, body)
                ctx = Ctx(request, params, ip)
                used = self.limiter.charge(ip, weight if isinstance(weight, int) else weight(ctx), now)
                headers["X-MBX-USED-WEIGHT-1M"] = str(used)
                if security != "NONE":
                    api_key = request.headers.get("X-MBX-APIKEY", "")
                    if api_key not in self.keys:
                        raise errors.bad_api_key()
                    ctx.account = api_key
                if security == "SIGNED":
                    payload, sig = split_signature(query, text)
                    self.keys.verify(ctx.account, payload, sig)
                    check_timestamp(params.get("timestamp"), params.get("recvWindow"), now)
                result = await handler(ctx)
                if isinstance(result, web.StreamResponse):
                    return result
                if counts_orders:
                    c10, c60 = self.limiter.order_counts(ctx.account)
                    headers["X-MBX-ORDER-COUNT-10S"] = str(c10)
                    headers["X-MBX-ORDER-COUNT-1M"] = str(c60)
                return web.Response(body=orjson.dumps(result), headers=headers, content_type="application/json")
            except errors.Reject as rej:
                if rej.status in (418, 429):
                    headers["Retry-After"] = str(self.limiter.retry_after_s(ip, now))
                    headers.setdefault("X-MBX-USED-WEIGHT-1M", str(self.limiter.used_weight(ip)))
                return reject_response(rej, headers)
            except DropConnection:
                return drop(request)

        return handle
