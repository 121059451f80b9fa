"""Account routes of the local exchange: account, balance, positions, leverage, trades.

Owns: the REST handlers ``/fapi/v{2,3}/account``, ``/fapi/v{2,3}/balance``,
``/fapi/v{2,3}/positionRisk`` (v3 lists symbols with a position or open orders, v2 every
symbol), ``/fapi/v1/leverage``, ``/fapi/v1/leverageBracket``, ``/fapi/v1/userTrades`` and
``/fapi/v1/positionSide/dual`` (always one-way mode).

Must never: change an account except a symbol's leverage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from hedge.exchange import errors, wire
from hedge.exchange.accounts import AccountPosition
from hedge.exchange.rest import Ctx, Handler

if TYPE_CHECKING:
    from hedge.exchange.server import LocalExchange


class AccountRoutes:
    def __init__(self, exchange: LocalExchange) -> None:
        self.ex = exchange
        self.engine = exchange.engine
        self.specs = exchange.specs

    def add_routes(self, router: web.UrlDispatcher) -> None:
        ep = self.ex.rest.endpoint
        router.add_post("/fapi/v1/leverage", ep("SIGNED", 1, self.leverage))
        router.add_get("/fapi/v1/leverageBracket", ep("SIGNED", 1, self.leverage_bracket))
        router.add_get("/fapi/v1/userTrades", ep("SIGNED", 5, self.user_trades))
        router.add_get("/fapi/v1/positionSide/dual", ep("SIGNED", 30, self.position_mode))
        for v in (2, 3):
            router.add_get(f"/fapi/v{v}/account", ep("SIGNED", 5, self.account(v)))
            router.add_get(f"/fapi/v{v}/balance", ep("SIGNED", 5, self.balance))
            router.add_get(f"/fapi/v{v}/positionRisk", ep("SIGNED", 5, self.position_risk(v)))

    async def leverage(self, ctx: Ctx) -> Any:
        symbol = ctx.symbol(self.specs).symbol
        lev = ctx.integer("leverage")
        if not 1 <= lev <= 125:
            raise errors.bad_leverage(lev)
        self.engine.accounts[ctx.account].position(symbol).leverage = lev
        return {"leverage": lev, "maxNotionalValue": "1000000000", "symbol": symbol}

    async def leverage_bracket(self, ctx: Ctx) -> Any:
        spec = ctx.optional_symbol(self.specs)
        if spec is not None:
            return [wire.leverage_bracket_json(spec.symbol)]
        return [wire.leverage_bracket_json(s) for s in self.specs]

    async def position_mode(self, ctx: Ctx) -> Any:
        return {"dualSidePosition": False}  # one-way mode only: the exchange has no hedge mode

    async def user_trades(self, ctx: Ctx) -> Any:
        spec = ctx.symbol(self.specs)
        limit = min(1000, max(1, ctx.int_or("limit", 500)))
        fills = [f for f in self.engine.accounts[ctx.account].fills if f.symbol == spec.symbol]
        return [wire.trade_json(f, spec) for f in fills[-limit:]]

    def account(self, version: int) -> Handler:
        async def account(ctx: Ctx) -> Any:
            acct = self.engine.accounts[ctx.account]
            return wire.account_json(self.engine, acct, self.specs, version, self.ex.now_ms())

        return account

    async def balance(self, ctx: Ctx) -> Any:
        return wire.balance_json(self.engine, self.engine.accounts[ctx.account], self.ex.now_ms())

    def position_risk(self, version: int) -> Handler:
        async def position_risk(ctx: Ctx) -> Any:
            engine = self.engine
            acct = engine.accounts[ctx.account]
            only = ctx.optional_symbol(self.specs)
            out = []
            symbols = [only.symbol] if only else list(self.specs)
            for sym in symbols:
                pos = acct.positions.get(sym)
                has_orders = any(o.symbol == sym for o in acct.open_orders.values())
                if version == 3:
                    if (pos is None or abs(pos.amount) < 1e-12) and not has_orders:
                        continue
                    out.append(wire.position_v3(engine, acct, sym, acct.position(sym), self.specs[sym]))
                else:  # v2 lists every symbol, flat ones included
                    out.append(wire.position_v2(engine, acct, sym, pos or AccountPosition(), self.specs[sym]))
            return out

        return position_risk
