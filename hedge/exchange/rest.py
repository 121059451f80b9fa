"""The REST request pipeline of the local exchange: faults, rate limits, authentication, answers.

Owns: ``Rest.endpoint(security, weight, handler)``, which wraps a handler in Binance's request
rules in order — injected delays/drops/429/418, the IP weight charge (``X-MBX-USED-WEIGHT-1M``),
``X-MBX-APIKEY``, the HMAC signature and timestamp window for SIGNED endpoints — and turns the
result into a JSON answer or a ``Reject`` into Binance's ``{"code", "msg"}`` with its HTTP status
(plus ``Retry-After`` on 429/418 and ``X-MBX-ORDER-COUNT-*`` on order endpoints). Also the
parameter helpers shared by the handlers (``Ctx``, decimal and integer parsing).

Must never: run a handler for a request that failed authentication, or let a handler's bug
escape as anything but a logged -1000 answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from hedge.exchange import errors
from hedge.exchange.auth import Keys, check_timestamp, split_signature
from hedge.exchange.faults import Faults
from hedge.exchange.limits import RateLimiter
from hedge.exchange.symbols import SymbolSpec

log = logging.getLogger(__name__)

Security = Literal["NONE", "USER_STREAM", "SIGNED"]
Handler = Callable[["Ctx"], Awaitable[Any]]
Weight = int | Callable[[dict[str, str]], int]  # request weight, fixed or from the parameters
BAN_FAULT_MS = 120_000


class DropConnection(Exception):
    """Close the connection without an answer (fault injection)."""


class Ctx:
    """One request's parameters (query string and form body merged) and the account that signed it."""

    __slots__ = ("account", "ip", "params", "request")

    def __init__(self, request: web.Request, params: dict[str, str], ip: str) -> None:
        self.request = request
        self.params = params
        self.ip = ip
        self.account = ""  # the API key; accounts are keyed by it

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name, default)

    def need(self, name: str) -> str:
        value = self.params.get(name)
        if not value:
            raise errors.missing_param(name)
        return value

    def need_int(self, name: str) -> int:
        """A required integer parameter (missing: as ``need``; not an integer: bad_param)."""
        value = self.need(name)
        try:
            return int(value)
        except ValueError:
            raise errors.bad_param(name, value)


def decimal_param(text: str, name: str, max_decimals: int) -> float:
    """A decimal parameter; more decimals than ``max_decimals`` is -1111 (BAD_PRECISION)."""
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise errors.bad_param(name, text)
    if not d.is_finite():
        raise errors.bad_param(name, text)
    exp = d.normalize().as_tuple().exponent
    if isinstance(exp, int) and -exp > max_decimals:
        raise errors.bad_precision()
    return float(d)


def flag_param(ctx: Ctx, name: str) -> bool:
    """A boolean request parameter: "true" / "false" (absent = false)."""
    value = ctx.get(name, "false").lower()
    if value not in ("true", "false"):
        raise errors.bad_param(name, value)
    return value == "true"


def symbol_param(specs: dict[str, SymbolSpec], ctx: Ctx) -> SymbolSpec:
    """The listed symbol a request names in ``symbol`` (-1121 when it is not listed)."""
    spec = specs.get(ctx.need("symbol").upper())
    if spec is None:
        raise errors.bad_symbol()
    return spec


def int_param(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


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
                body = await request.text() if request.can_read_body else ""
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
                query = request.query_string
                params = dict(parse_qsl(query, keep_blank_values=True))
                if body:
                    params.update(parse_qsl(body, keep_blank_values=True))
                used = self.limiter.charge(ip, weight if isinstance(weight, int) else weight(params), now)
                headers["X-MBX-USED-WEIGHT-1M"] = str(used)
                ctx = Ctx(request, params, ip)
                if security != "NONE":
                    api_key = request.headers.get("X-MBX-APIKEY", "")
                    if api_key not in self.keys:
                        raise errors.bad_api_key()
                    ctx.account = api_key
                if security == "SIGNED":
                    payload, sig = split_signature(query, body)
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
                return web.Response(
                    status=rej.status,
                    body=orjson.dumps({"code": rej.code, "msg": rej.msg}),
                    headers=headers,
                    content_type="application/json",
                )
            except DropConnection:
                return drop(request)
            except Exception:
                log.exception("local exchange: %s %s failed", request.method, request.path)
                return web.Response(
                    status=500,
                    body=orjson.dumps(
                        {"code": -1000, "msg": "An unknown error occurred while processing the request."}
                    ),
                    content_type="application/json",
                )

        return handle
