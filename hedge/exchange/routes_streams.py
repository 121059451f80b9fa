"""Stream routes of the local exchange: listenKeys and the websocket paths.

Owns: the REST handlers of ``/fapi/v1/listenKey`` (POST new, PUT keepalive, DELETE) and the
websocket endpoints: combined streams (``/stream?streams=a/b``), raw streams (``/ws/<name>``, a
listenKey being a user-data stream), each under ``""``, ``/public`` and ``/market``, and the
private ``/private/ws?listenKey=..&events=..`` (an unknown listenKey is refused with -1125).

Must never: serve a user-data stream for a listenKey that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from hedge.exchange import errors
from hedge.exchange.rest import Ctx

if TYPE_CHECKING:
    from hedge.exchange.server import LocalExchange


class StreamRoutes:
    def __init__(self, exchange: LocalExchange) -> None:
        self.ex = exchange
        self.user = exchange.user
        self.hub = exchange.hub

    def add_routes(self, router: web.UrlDispatcher) -> None:
        ep = self.ex.rest.endpoint
        router.add_post("/fapi/v1/listenKey", ep("USER_STREAM", 1, self.listen_key_new))
        router.add_put("/fapi/v1/listenKey", ep("USER_STREAM", 1, self.listen_key_keepalive))
        router.add_delete("/fapi/v1/listenKey", ep("USER_STREAM", 1, self.listen_key_delete))
        for prefix in ("", "/public", "/market"):
            router.add_get(f"{prefix}/stream", self.ws_combined)
            router.add_get(f"{prefix}/ws", self.ws_raw)
            router.add_get(f"{prefix}/ws/{{name}}", self.ws_raw)
        router.add_get("/private/ws", self.ws_private)
        router.add_get("/private/ws/{name}", self.ws_raw)

    async def listen_key_new(self, ctx: Ctx) -> Any:
        return {"listenKey": self.user.new_key(ctx.account)}

    async def listen_key_keepalive(self, ctx: Ctx) -> Any:
        return {"listenKey": self.user.keepalive(ctx.account)}

    async def listen_key_delete(self, ctx: Ctx) -> Any:
        self.user.delete(ctx.account)
        return {}

    async def ws_combined(self, request: web.Request) -> web.StreamResponse:
        streams = [s for s in request.query.get("streams", "").split("/") if s]
        return await self.hub.serve(request, streams, combined=True)

    async def ws_raw(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "")
        if name in self.user.keys:
            return await self.hub.serve(request, [name], combined=False)
        if name and "@" not in name:
            raise errors.invalid_listen_key()
        return await self.hub.serve(request, [name] if name else [], combined=False)

    async def ws_private(self, request: web.Request) -> web.StreamResponse:
        key = request.query.get("listenKey", "")
        if key not in self.user.keys:
            raise errors.invalid_listen_key()
        events = [e for e in request.query.get("events", "").split("/") if e]
        return await self.hub.serve(request, self.user.stream_names(key, events), combined=False)
