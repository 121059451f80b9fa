"""The loopback control API of the local exchange (``/_hedge/...``): faults, actions, the order log.

Owns: the control routes: ``GET /_hedge/orders`` (the order log), ``GET|POST /_hedge/faults``,
``POST /_hedge/actions/<action>`` (ws_drop, ws_stall, expire_listen_key, funding, reset_faults,
``api_restrictions?enableWithdrawals=true|false&enableFutures=..``: the permissions every key
reports on ``/sapi/v1/account/apiRestrictions``, and
``mark?symbol=S&price=P``: the mark of S is P from now on — applied at once, so positions it puts
at or below maintenance margin are liquidated before the answer, and kept by the 1-second mark
loop; ``price=0`` returns S's mark to the mid at the loop's next tick) and ``GET /_hedge/state``.
Tests use it to inject faults at run time and to prove that no order was duplicated. Its errors
are shaped as Binance's (``{"code", "msg"}``) like every answer on the port: a bad fault plan or
action value -1130, a missing one -1102, an unknown action 404 -5000, a client off loopback 403
-1002.

Must never: answer a client that is not on a loopback address.
"""

from __future__ import annotations

import ipaddress
import math
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from hedge.exchange import errors
from hedge.exchange.faults import FaultSetting, FaultSpecError
from hedge.exchange.params import Params

if TYPE_CHECKING:
    from hedge.exchange.server import LocalExchange


def _loopback_only(request: web.Request) -> None:
    try:
        loopback = ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise errors.unauthorized()


class ControlApi:
    def __init__(self, exchange: LocalExchange) -> None:
        self.ex = exchange

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/_hedge/orders", self.orders)
        router.add_get("/_hedge/faults", self.faults_get)
        router.add_post("/_hedge/faults", self.faults_set)
        router.add_post("/_hedge/actions/{action}", self.action)
        router.add_get("/_hedge/state", self.state)

    async def orders(self, request: web.Request) -> web.StreamResponse:
        _loopback_only(request)
        return web.Response(body=msgspec.json.encode(self.ex.order_log), content_type="application/json")

    async def faults_get(self, request: web.Request) -> web.StreamResponse:
        _loopback_only(request)
        body = {"settings": self.ex.faults.settings, "fired": self.ex.faults.fired}
        return web.Response(body=msgspec.json.encode(body), content_type="application/json")

    async def faults_set(self, request: web.Request) -> web.StreamResponse:
        _loopback_only(request)
        try:
            plan = msgspec.json.decode(await request.read(), type=dict[str, FaultSetting])
            for name, setting in plan.items():
                self.ex.faults.set(name, setting)
        except (msgspec.ValidationError, msgspec.DecodeError, FaultSpecError) as exc:
            raise errors.bad_param("faults", str(exc))
        return await self.faults_get(request)

    async def action(self, request: web.Request) -> web.StreamResponse:
        _loopback_only(request)
        ex, q = self.ex, request.query
        name = request.match_info["action"]
        result: dict[str, Any] = {"action": name}
        try:
            if name == "ws_drop":
                result["dropped"] = ex.hub.drop_all()
            elif name == "ws_stall":
                seconds = float(q.get("seconds", "5"))
                if not 0 <= seconds < math.inf:
                    raise ValueError(f"bad seconds: {seconds}")
                ex.hub.stall_all(seconds)
            elif name == "expire_listen_key":
                keys = [q["listenKey"]] if "listenKey" in q else list(ex.user.keys)
                result["expired"] = [k for k in keys if ex.user.expire(k)]
            elif name == "funding":
                symbols = [q["symbol"].upper()] if "symbol" in q else list(ex.last_update_id)
                if not set(symbols) <= set(ex.specs):
                    raise ValueError(f"bad symbol: {symbols}")
                for sym in symbols:
                    ex.engine.settle_funding(sym)
            elif name == "api_restrictions":
                result.update(ex.restrictions.switch(Params(dict(q))))
            elif name == "reset_faults":
                ex.faults.clear()
            elif name == "mark":
                sym, price = q["symbol"].upper(), float(q["price"])
                if sym not in ex.specs or not math.isfinite(price) or price < 0:
                    raise ValueError(f"bad symbol or price: {sym} {price}")
                if price > 0:
                    ex.marks.overrides[sym] = price
                    ex.engine.on_mark(sym, price)
                else:
                    ex.marks.overrides.pop(sym, None)
                result.update(symbol=sym, mark=ex.engine.mark_price(sym))
            else:
                raise errors.invalid_path(request.method, request.path)
        except KeyError as exc:
            raise errors.missing_param(str(exc.args[0]))
        except ValueError as exc:
            raise errors.bad_param(name, str(exc))
        return web.json_response(result)

    async def state(self, request: web.Request) -> web.StreamResponse:
        _loopback_only(request)
        ex = self.ex
        body = {
            "events_played": ex.player.events_played,
            "frames_sent": ex.hub.frames_sent,
            "connections": len(ex.hub.all),
            "last_update_id": ex.last_update_id,
            "listen_keys": len(ex.user.keys),
            "banned_requests": ex.limiter.banned_requests,
        }
        return web.json_response(body)
