"""Spot-host (``/sapi``) routes of the local exchange: the API key's permissions.

Owns: ``GET /sapi/v1/account/apiRestrictions`` (SIGNED, weight 1: what the key may do, Binance's
shape) and ``ApiRestrictions``, the permissions every key of the exchange reports, which the
control API switches (``POST /_hedge/actions/api_restrictions?enableWithdrawals=true``) to
simulate a key that may withdraw or may not trade futures.

Must never: enforce the permissions (the exchange trades whatever a signed request asks; only
``hedge doctor`` reads them), or answer for a key it does not know.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from hedge.exchange.params import Params
from hedge.exchange.rest import Ctx

if TYPE_CHECKING:
    from hedge.exchange.server import LocalExchange

SWITCHES = ("enableWithdrawals", "enableFutures", "enableReading", "ipRestrict")


class ApiRestrictions(msgspec.Struct, kw_only=True):
    """A key's permissions as Binance reports them (the defaults: a safe trading key)."""

    ipRestrict: bool = False  # Binance's field names
    createTime: int = 0
    enableReading: bool = True
    enableWithdrawals: bool = False
    enableInternalTransfer: bool = False
    enableMargin: bool = False
    enableFutures: bool = True
    permitsUniversalTransfer: bool = False
    enableVanillaOptions: bool = False
    enableSpotAndMarginTrading: bool = False

    def switch(self, params: Params) -> dict[str, bool]:
        """Set each of ``SWITCHES`` sent in ``params`` (``true``/``false``, -1130 otherwise); the new values."""
        for name in SWITCHES:
            if params.get(name):
                setattr(self, name, params.flag(name))
        return {name: getattr(self, name) for name in SWITCHES}


class SpotRoutes:
    def __init__(self, exchange: LocalExchange) -> None:
        self.ex = exchange

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/sapi/v1/account/apiRestrictions", self.ex.rest.endpoint("SIGNED", 1, self.api_restrictions))

    async def api_restrictions(self, ctx: Ctx) -> Any:
        return msgspec.to_builtins(self.ex.restrictions)
