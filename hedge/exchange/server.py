"""The local Binance USD-M exchange on loopback: one port for REST, websockets and control.

Owns: ``LocalExchange`` — the aiohttp application and its routes (Binance's ``/fapi`` REST paths
through the ``Rest`` pipeline; the ``/ws``, ``/stream``, ``/public``, ``/market`` and ``/private``
websocket paths; the ``/_hedge/`` control API), the REST handlers (orders, account, positions,
listenKeys, the dead-man switch), the market player that feeds each played event to the matching
engine first and to the streams second, mark prices and funding, and the order-request log.

``LocalExchange`` is a service (``name`` + ``async run()``) and can be driven directly with
``await start()`` (returns the bound port) and ``await stop()``.

Must never: import an engine stage (it is a venue of its own), or block the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

import orjson
from aiohttp import web

from hedge.config import LocalExchangeConfig
from hedge.events import BookTicker, DepthDiff, Side, Trade
from hedge.exchange import errors, wire
from hedge.exchange.auth import Keys
from hedge.exchange.control import ControlApi, OrderLogEntry
from hedge.exchange.depthstream import FLUSH_EVERY_S, DepthStreams
from hedge.exchange.faults import Faults
from hedge.exchange.limits import UNLIMITED, Limits, RateLimiter
from hedge.exchange.market import PlayEvent, RecordingTape, SyntheticFlow, bundled_recording
from hedge.exchange.matching import CONDITIONAL, MatchingEngine, Order, OrderRequest, Position, mid_price
from hedge.exchange.rest import Ctx, DropConnection, Handler, Rest, decimal_param, int_param
from hedge.exchange.streams import Hub
from hedge.exchange.symbols import ExchangeInfo, SymbolSpec
from hedge.exchange.userdata import UserData

log = logging.getLogger(__name__)

FUNDING_INTERVAL_MS = 8 * 3600 * 1000
MARK_INTERVAL_S = 1.0
HOUSEKEEPING_S = 0.25
MAX_ORDER_LOG = 200_000


def _timestamp(ctx: Ctx) -> int:
    """A signed request's ``timestamp`` (validated before any handler runs), 0 when absent."""
    ts = ctx.get("timestamp")
    return int(ts) if ts.isdigit() else 0
PLAY_BATCH = 512  # events played between two yields to the event loop when behind schedule
DEPTH_WEIGHT = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}


class LocalExchange:
    """A Binance USD-M futures exchange on one loopback port."""

    name = "local-exchange"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        market: Sequence[str | Path] = (),
        synthetic: Sequence[str] = (),
        speed: float = 1.0,
        faults: str = "",
        accounts: dict[str, str] | None = None,
        starting_balance: float = 10_000.0,
        maker_fee: float = 0.0002,
        taker_fee: float = 0.0005,
        limits: Limits | None = None,
        seed: int = 0,
    ) -> None:
        self.host = host
        self.port = port
        self.speed = speed
        self.synthetic = [s.upper() for s in synthetic]
        self.market_files = [Path(p) for p in market] if market else ([] if self.synthetic else bundled_recording())
        # Sources are built first so a bad recording fails at construction, not in start().
        tape = RecordingTape(self.market_files) if self.market_files else None
        self.info = ExchangeInfo([*self.synthetic, *([tape.symbol] if tape else [])])
        self.specs: dict[str, SymbolSpec] = self.info.specs
        self.keys = Keys(accounts)
        self.faults = Faults(faults, seed)
        self.limiter = RateLimiter(limits)
        self.engine = MatchingEngine(self.specs, clock=self.now_ms, maker_fee=maker_fee, taker_fee=taker_fee)
        for key in self.keys.api_keys():
            self.engine.add_account(key, starting_balance)
        self.hub = Hub()
        self.user = UserData(self.engine, self.hub, self.specs, self.now_ms)
        self.engine.listener = self.user
        self.rest = Rest(self.keys, self.limiter, self.faults, self.now_ms)
        self.depth = DepthStreams(self.hub, self.specs, self.faults, self.now_ms)
        self.last_update_id: dict[str, int] = {}
        self.mark_overrides: dict[str, float] = {}  # symbol -> mark set by POST /_hedge/actions/mark
        self.order_log: list[OrderLogEntry] = []  # the newest MAX_ORDER_LOG order requests (and queries)
        self._order_seq = 0
        self.events_played = 0
        self._countdowns: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = asyncio.Event()
        self._seed = seed
        self._sources: list[tuple[str, Iterable[tuple[int, PlayEvent]]]] = []
        if tape is not None:
            self._sources.append((tape.symbol, tape))
        for i, sym in enumerate(self.synthetic):
            spec = self.specs[sym]
            self._sources.append((sym, SyntheticFlow(sym, spec.tick, spec.step, seed=self._seed + i)))

    @classmethod
    def from_config(cls, cfg: LocalExchangeConfig, **overrides: Any) -> LocalExchange:
        """The exchange described by ``runtime.local_exchange`` (keyword arguments win)."""
        kwargs: dict[str, Any] = {
            "host": cfg.host,
            "port": cfg.port,
            "market": cfg.market,
            "synthetic": cfg.synthetic,
            "speed": cfg.speed,
            "faults": cfg.faults,
            "starting_balance": cfg.starting_balance,
            "maker_fee": cfg.maker_fee,
            "taker_fee": cfg.taker_fee,
            "limits": UNLIMITED if cfg.limits == "off" else Limits(),
        }
        kwargs.update(overrides)
        return cls(**kwargs)

    @property
    def listen_keys(self) -> dict[str, tuple[str, int]]:
        """Active listenKeys: key -> (account API key, expiry ms)."""
        return self.user.keys

    def expire_listen_key(self, key: str) -> bool:
        """Expire ``key`` now (``listenKeyExpired`` on its streams, then closed); False if unknown."""
        return self.user.expire(key)

    # ------------------------------------------------------------------------------ lifecycle

    def now_ms(self) -> int:
        return int(time.time() * 1000) + int(self.faults.value("clock_skew_ms"))

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> int:
        app = web.Application(client_max_size=1 << 20)
        self._routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = cast(Any, site)._server
        self.port = int(server.sockets[0].getsockname()[1])
        self._stopped.clear()
        for sym, src in self._sources:
            self._tasks.append(asyncio.create_task(self._play(src), name=f"exchange-play-{sym}"))
        self._tasks.append(asyncio.create_task(self._marks(), name="exchange-marks"))
        self._tasks.append(asyncio.create_task(self._flush_depth(), name="exchange-depth-flush"))
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="exchange-housekeeping"))
        log.info("local exchange listening on %s (market: %s)", self.base_url, ", ".join(s for s, _ in self._sources))
        return self.port

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        for handle in self._countdowns.values():
            handle.cancel()
        self._countdowns.clear()
        self.hub.drop_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._stopped.set()

    async def run(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # --------------------------------------------------------------------------- market play

    async def _play(self, source: Any) -> None:
        start = time.monotonic_ns()
        since_yield = 0
        for t, ev in source:
            due = start + int(t / self.speed)
            delay = due - time.monotonic_ns()
            if delay > 0:
                await asyncio.sleep(delay / 1e9)
                since_yield = 0
            else:
                since_yield += 1
                if since_yield >= PLAY_BATCH:
                    await asyncio.sleep(0)
                    since_yield = 0
            self.apply(ev)

    def apply(self, ev: PlayEvent) -> None:
        """Play one market event: matching engine first, then the streams (Binance wire format)."""
        self.events_played += 1
        sym = ev.symbol
        low = sym.lower()
        now = self.now_ms()
        if isinstance(ev, DepthDiff):
            self.engine.on_depth(sym, ev.bids, ev.asks)
            self.last_update_id[sym] = ev.final_id
            self.depth.on_diff(ev)
        elif isinstance(ev, Trade):
            maker_buys = ev.taker_side is Side.SELL
            self.engine.on_trade(sym, ev.price, ev.qty, maker_buys)
            trade, agg = self.hub.has(low + "@trade"), self.hub.has(low + "@aggTrade")
            if trade or agg:
                px, qty = self.specs[sym].fmt_price(ev.price), self.specs[sym].fmt_qty(ev.qty)
                if trade:
                    self.hub.publish(
                        low + "@trade",
                        orjson.dumps(
                            {
                                "e": "trade",
                                "E": now,
                                "T": now,
                                "s": sym,
                                "t": ev.trade_id,
                                "p": px,
                                "q": qty,
                                "X": "MARKET",
                                "m": maker_buys,
                            }
                        ),
                    )
                if agg:
                    self.hub.publish(
                        low + "@aggTrade",
                        orjson.dumps(
                            {
                                "e": "aggTrade",
                                "E": now,
                                "s": sym,
                                "a": ev.trade_id,
                                "p": px,
                                "q": qty,
                                "nq": qty,
                                "f": ev.trade_id,
                                "l": ev.trade_id,
                                "T": now,
                                "m": maker_buys,
                            }
                        ),
                    )
        elif isinstance(ev, BookTicker):
            if self.hub.has(low + "@bookTicker"):
                fp, fq = self.specs[sym].fmt_price, self.specs[sym].fmt_qty
                self.hub.publish(
                    low + "@bookTicker",
                    orjson.dumps(
                        {
                            "e": "bookTicker",
                            "u": ev.update_id,
                            "s": sym,
                            "b": fp(ev.bid_px),
                            "B": fq(ev.bid_qty),
                            "a": fp(ev.ask_px),
                            "A": fq(ev.ask_qty),
                            "T": now,
                            "E": now,
                        }
                    ),
                )
        else:
            self.engine.on_snapshot(sym, ev.bids, ev.asks)
            self.last_update_id[sym] = ev.last_update_id

    async def _flush_depth(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            self.depth.flush(due_only=True)

    async def _marks(self) -> None:
        """Mark price (= mid, or the control API's override) every second; funding settled once per
        8-hour boundary crossed."""
        tick = 0
        next_funding = (self.now_ms() // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
        while True:
            await asyncio.sleep(MARK_INTERVAL_S)
            tick += 1
            now = self.now_ms()
            settle = now >= next_funding
            if settle:
                next_funding = (now // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
            for sym in list(self.last_update_id):
                mid = self.mark_overrides.get(sym) or mid_price(self.engine.book(sym))
                if mid is None:
                    continue
                self.engine.on_mark(sym, mid)
                if settle:
                    self.engine.settle_funding(sym)
                low = sym.lower()
                spec = self.specs[sym]
                data = orjson.dumps(
                    {
                        "e": "markPriceUpdate",
                        "E": now,
                        "s": sym,
                        "p": spec.fmt_price(mid),
                        "ap": spec.fmt_price(mid),
                        "i": spec.fmt_price(mid),
                        "P": spec.fmt_price(mid),
                        "r": f"{self.engine.funding_rate(sym):.8f}",
                        "T": next_funding,
                    }
                )
                self.hub.publish(low + "@markPrice@1s", data)
                if tick % 3 == 0:
                    self.hub.publish(low + "@markPrice", data)

    async def _housekeeping(self) -> None:
        last_drop = time.monotonic()
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            self.user.expire_due()
            every = self.faults.value("ws_drop_every_s")
            if every > 0 and time.monotonic() - last_drop >= every:
                last_drop = time.monotonic()
                self.hub.drop_all()

    # ---------------------------------------------------------------------------- REST plumbing

    def _routes(self, app: web.Application) -> None:
        r = app.router
        ep = self.rest.endpoint
        r.add_get("/fapi/v1/ping", ep("NONE", 1, self._ping))
        r.add_get("/fapi/v1/time", ep("NONE", 1, self._time))
        r.add_get("/fapi/v1/exchangeInfo", ep("NONE", 1, self._exchange_info))
        r.add_get(
            "/fapi/v1/depth", ep("NONE", lambda p: DEPTH_WEIGHT.get(int_param(p.get("limit"), 500), 20), self._depth)
        )
        r.add_get("/fapi/v1/premiumIndex", ep("NONE", 1, self._premium_index))
        r.add_post("/fapi/v1/order", ep("SIGNED", 0, self._new_order, counts_orders=True))
        r.add_delete("/fapi/v1/order", ep("SIGNED", 1, self._cancel_order))
        r.add_get("/fapi/v1/order", ep("SIGNED", 1, self._get_order))
        r.add_get("/fapi/v1/openOrders", ep("SIGNED", lambda p: 1 if p.get("symbol") else 40, self._open_orders))
        r.add_delete("/fapi/v1/allOpenOrders", ep("SIGNED", 1, self._cancel_all))
        r.add_post("/fapi/v1/algoOrder", ep("SIGNED", 0, self._new_algo_order, counts_orders=True))
        r.add_delete("/fapi/v1/algoOrder", ep("SIGNED", 1, self._cancel_algo_order))
        r.add_get("/fapi/v1/algoOrder", ep("SIGNED", 1, self._get_algo_order))
        r.add_get("/fapi/v1/openAlgoOrders", ep("SIGNED", lambda p: 1 if p.get("symbol") else 40,
                                                 self._open_algo_orders))
        r.add_delete("/fapi/v1/algoOpenOrders", ep("SIGNED", 1, self._cancel_all_algo))
        r.add_post("/fapi/v1/countdownCancelAll", ep("SIGNED", 10, self._countdown))
        r.add_post("/fapi/v1/leverage", ep("SIGNED", 1, self._leverage))
        r.add_get("/fapi/v1/leverageBracket", ep("SIGNED", 1, self._leverage_bracket))
        r.add_get("/fapi/v1/userTrades", ep("SIGNED", 5, self._user_trades))
        for v in (2, 3):
            r.add_get(f"/fapi/v{v}/account", ep("SIGNED", 5, self._account(v)))
            r.add_get(f"/fapi/v{v}/balance", ep("SIGNED", 5, self._balance))
            r.add_get(f"/fapi/v{v}/positionRisk", ep("SIGNED", 5, self._position_risk(v)))
        r.add_post("/fapi/v1/listenKey", ep("USER_STREAM", 1, self._listen_key_new))
        r.add_put("/fapi/v1/listenKey", ep("USER_STREAM", 1, self._listen_key_keepalive))
        r.add_delete("/fapi/v1/listenKey", ep("USER_STREAM", 1, self._listen_key_delete))
        for prefix in ("", "/public", "/market"):
            r.add_get(f"{prefix}/stream", self._ws_combined)
            r.add_get(f"{prefix}/ws", self._ws_raw)
            r.add_get(f"{prefix}/ws/{{name}}", self._ws_raw)
        r.add_get("/private/ws", self._ws_private)
        r.add_get("/private/ws/{name}", self._ws_raw)
        ControlApi(self).add_routes(r)

    def _spec(self, ctx: Ctx) -> SymbolSpec:
        spec = self.specs.get(ctx.need("symbol").upper())
        if spec is None:
            raise errors.bad_symbol()
        return spec

    def _lookup(self, ctx: Ctx) -> tuple[str, int | None, str | None]:
        symbol = self._spec(ctx).symbol
        oid, coid = ctx.get("orderId"), ctx.get("origClientOrderId")
        if not oid and not coid:
            raise errors.missing_param("orderId")
        try:
            return symbol, (int(oid) if oid else None), (coid or None)
        except ValueError:
            raise errors.bad_param("orderId", oid)

    # ------------------------------------------------------------------------------ REST: public

    async def _ping(self, ctx: Ctx) -> Any:
        return {}

    async def _time(self, ctx: Ctx) -> Any:
        return {"serverTime": self.now_ms()}

    async def _exchange_info(self, ctx: Ctx) -> Any:
        return web.Response(body=self.info.body(self.now_ms()), content_type="application/json")

    async def _depth(self, ctx: Ctx) -> Any:
        spec = self._spec(ctx)
        limit = int_param(ctx.get("limit"), 500)
        if limit not in DEPTH_WEIGHT:
            raise errors.bad_param("limit", str(limit))
        book = self.engine.book(spec.symbol)
        now = self.now_ms()
        return {
            "lastUpdateId": self.last_update_id.get(spec.symbol, 0),
            "E": now,
            "T": now,
            "bids": [[spec.fmt_price(p), spec.fmt_qty(q)] for p, q in book.bids(limit)],
            "asks": [[spec.fmt_price(p), spec.fmt_qty(q)] for p, q in book.asks(limit)],
        }

    async def _premium_index(self, ctx: Ctx) -> Any:
        spec = self._spec(ctx)
        mark = self.engine.mark_price(spec.symbol)
        now = self.now_ms()
        return {
            "symbol": spec.symbol,
            "markPrice": f"{mark:.8f}",
            "indexPrice": f"{mark:.8f}",
            "estimatedSettlePrice": f"{mark:.8f}",
            "lastFundingRate": f"{self.engine.funding_rate(spec.symbol):.8f}",
            "interestRate": "0.00010000",
            "nextFundingTime": (now // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS,
            "time": now,
        }

    # ------------------------------------------------------------------------------ REST: orders

    def _order_request(self, ctx: Ctx, spec: SymbolSpec, *, algo: bool = False) -> OrderRequest:
        side = ctx.need("side").upper()
        if side not in ("BUY", "SELL"):
            raise errors.bad_param("side", side)
        otype = ctx.need("type").upper()
        if otype in ("STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TAKE_PROFIT", "TRAILING_STOP_MARKET"):
            if not algo:
                raise errors.use_algo_endpoint()
            if otype not in ("STOP_MARKET", "TAKE_PROFIT_MARKET"):
                raise errors.invalid_order_type(otype)
            algo_type = ctx.need("algoType").upper()
            if algo_type != "CONDITIONAL":
                raise errors.bad_param("algoType", algo_type)
        elif algo or otype not in ("LIMIT", "MARKET"):
            raise errors.invalid_order_type(otype)
        ps = ctx.get("positionSide", "BOTH").upper()
        if ps != "BOTH":
            raise errors.position_side_mismatch()
        close_position = _flag(ctx, "closePosition")
        conditional = otype in ("STOP_MARKET", "TAKE_PROFIT_MARKET")
        if close_position and not conditional:
            raise errors.not_required("closePosition")
        if close_position and ctx.get("quantity"):
            raise errors.not_required("quantity")
        qty = 0.0 if close_position else decimal_param(ctx.need("quantity"), "quantity", spec.qty_precision)
        price = 0.0
        tif = "GTC"
        if otype == "LIMIT":
            price = decimal_param(ctx.need("price"), "price", spec.price_precision)
            tif = ctx.need("timeInForce").upper()
            if tif not in ("GTC", "IOC", "FOK", "GTX"):
                raise errors.bad_param("timeInForce", tif)
        elif ctx.get("price"):
            raise errors.not_required("price")
        stop_price = 0.0
        working_type = "CONTRACT_PRICE"
        if conditional:
            stop_price = decimal_param(ctx.need("triggerPrice"), "triggerPrice", spec.price_precision)
            working_type = ctx.get("workingType", "CONTRACT_PRICE").upper()
            if working_type not in ("MARK_PRICE", "CONTRACT_PRICE"):
                raise errors.bad_param("workingType", working_type)
        elif ctx.get("stopPrice") or ctx.get("triggerPrice"):
            raise errors.not_required("stopPrice")
        reduce_only = _flag(ctx, "reduceOnly")
        if reduce_only and close_position:
            raise errors.not_required("reduceOnly")
        id_param = "clientAlgoId" if algo else "newClientOrderId"
        client_id = ctx.get(id_param)
        if client_id:
            if len(client_id) > 36:
                raise errors.client_id_too_long()
            if not all(c.isascii() and (c.isalnum() or c in ".:/_-") for c in client_id):
                raise errors.illegal_chars(id_param)
        return OrderRequest(
            symbol=spec.symbol,
            side=cast(Any, side),
            type=cast(Any, otype),
            quantity=qty,
            price=price,
            time_in_force=cast(Any, tif),
            reduce_only=reduce_only,
            client_order_id=client_id,
            stop_price=stop_price,
            working_type=cast(Any, working_type),
            close_position=close_position,
        )

    def _next_seq(self) -> int:
        self._order_seq += 1
        if len(self.order_log) >= MAX_ORDER_LOG:
            del self.order_log[: MAX_ORDER_LOG // 2]
        return self._order_seq

    async def _new_order(self, ctx: Ctx) -> Any:
        now = self.now_ms()
        entry = OrderLogEntry(
            seq=self._next_seq(),
            time_ms=now,
            account=ctx.account,
            method="POST",
            symbol=ctx.get("symbol"),
            side=ctx.get("side"),
            type=ctx.get("type"),
            client_order_id=ctx.get("newClientOrderId"),
            http_status=200,
            sent_ms=_timestamp(ctx),
        )
        self.order_log.append(entry)
        try:
            self.limiter.count_order(ctx.account, now)
            spec = self._spec(ctx)
            order = self.engine.place(ctx.account, self._order_request(ctx, spec))
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status, entry.client_order_id = order.order_id, order.status, order.client_order_id
        for fault, make in (("order_503", errors.unknown_503), ("order_1007", errors.timeout_1007)):
            if self.faults.fire(fault):
                answer = make()
                entry.fault, entry.http_status, entry.code = fault, answer.status, answer.code
                raise answer
        if self.faults.fire("order_drop"):
            entry.fault, entry.http_status = "order_drop", 0
            raise DropConnection()
        return wire.order_json(order, spec)

    async def _cancel_order(self, ctx: Ctx) -> Any:
        symbol, oid, coid, entry = self._logged_lookup(ctx, "DELETE")
        try:
            if self._matched(ctx.account, symbol, oid, coid, algo=False) is None:
                raise errors.cancel_rejected()
            order = self.engine.cancel(ctx.account, symbol, oid, coid)
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status = order.order_id, order.status
        return wire.order_json(order, self.specs[symbol])

    def _logged_lookup(self, ctx: Ctx, method: str) -> tuple[str, int | None, str | None, OrderLogEntry]:
        """The order a cancel/query names, and its line in the order log (the outcome filled in later)."""
        symbol, oid, coid = self._lookup(ctx)
        entry = OrderLogEntry(
            seq=self._next_seq(),
            time_ms=self.now_ms(),
            account=ctx.account,
            method=method,
            symbol=symbol,
            side="",
            type="",
            client_order_id=coid or "",
            http_status=200,
            order_id=oid or 0,
            sent_ms=_timestamp(ctx),
        )
        self.order_log.append(entry)
        return symbol, oid, coid, entry

    def _matched(self, account: str, symbol: str, oid: int | None, coid: str | None, *, algo: bool) -> Order | None:
        """The order an endpoint may see: the algo endpoints only conditional orders, the order
        endpoints everything else (and a conditional order once triggered into the matching engine)."""
        try:
            order = self.engine.get_order(account, symbol, oid, coid)
        except errors.Reject:
            return None
        if algo:
            return order if order.orig_type in CONDITIONAL else None
        return None if order.untriggered else order

    async def _get_order(self, ctx: Ctx) -> Any:
        symbol, oid, coid, entry = self._logged_lookup(ctx, "GET")
        try:
            order = self._matched(ctx.account, symbol, oid, coid, algo=False)
            if order is None:
                raise errors.no_such_order()
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status = order.order_id, order.status
        return wire.order_json(order, self.specs[symbol], with_time=True)

    async def _open_orders(self, ctx: Ctx) -> Any:
        symbol = self._spec(ctx).symbol if ctx.get("symbol") else None
        return [
            wire.order_json(o, self.specs[o.symbol], with_time=True)
            for o in self.engine.open_orders(ctx.account, symbol, algo=False)
        ]

    async def _cancel_all(self, ctx: Ctx) -> Any:
        self.engine.cancel_all(ctx.account, self._spec(ctx).symbol, algo=False)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # ------------------------------------------------------------------------ REST: algo orders

    async def _new_algo_order(self, ctx: Ctx) -> Any:
        now = self.now_ms()
        entry = OrderLogEntry(
            seq=self._next_seq(), time_ms=now, account=ctx.account, method="POST", symbol=ctx.get("symbol"),
            side=ctx.get("side"), type=ctx.get("type"), client_order_id=ctx.get("clientAlgoId"), http_status=200,
        )
        self.order_log.append(entry)
        try:
            self.limiter.count_order(ctx.account, now)
            spec = self._spec(ctx)
            order = self.engine.place(ctx.account, self._order_request(ctx, spec, algo=True))
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status, entry.client_order_id = order.order_id, order.status, order.client_order_id
        return wire.algo_json(order, spec)

    def _algo_lookup(self, ctx: Ctx) -> Order | None:
        symbol = self._spec(ctx).symbol
        aid, caid = ctx.get("algoId"), ctx.get("clientAlgoId")
        if not aid and not caid:
            raise errors.missing_param("algoId")
        try:
            return self._matched(ctx.account, symbol, int(aid) if aid else None, caid or None, algo=True)
        except ValueError:
            raise errors.bad_param("algoId", aid)

    async def _cancel_algo_order(self, ctx: Ctx) -> Any:
        entry = OrderLogEntry(
            seq=self._next_seq(), time_ms=self.now_ms(), account=ctx.account, method="DELETE",
            symbol=ctx.get("symbol"), side="", type="", client_order_id=ctx.get("clientAlgoId"), http_status=200,
        )
        self.order_log.append(entry)
        try:
            order = self._algo_lookup(ctx)
            if order is None or not order.untriggered or not order.is_open:
                raise errors.cancel_rejected()
            self.engine.cancel(ctx.account, order.symbol, order.order_id, None)
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status = order.order_id, order.status
        return {"algoId": order.order_id, "clientAlgoId": order.client_order_id, "code": "200", "msg": "success"}

    async def _get_algo_order(self, ctx: Ctx) -> Any:
        order = self._algo_lookup(ctx)
        if order is None:
            raise errors.no_such_order()
        return wire.algo_json(order, self.specs[order.symbol])

    async def _open_algo_orders(self, ctx: Ctx) -> Any:
        symbol = self._spec(ctx).symbol if ctx.get("symbol") else None
        orders = self.engine.open_orders(ctx.account, symbol, algo=True)
        return [wire.algo_json(o, self.specs[o.symbol]) for o in orders]

    async def _cancel_all_algo(self, ctx: Ctx) -> Any:
        self.engine.cancel_all(ctx.account, self._spec(ctx).symbol, algo=True)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    async def _countdown(self, ctx: Ctx) -> Any:
        symbol = self._spec(ctx).symbol
        countdown = ctx.need_int("countdownTime")
        key = (ctx.account, symbol)
        old = self._countdowns.pop(key, None)
        if old is not None:
            old.cancel()
        if countdown > 0:
            account = ctx.account

            def fire() -> None:
                self._countdowns.pop(key, None)
                self.engine.cancel_all(account, symbol, algo=False)  # the Algo Service's stops stay

            self._countdowns[key] = asyncio.get_running_loop().call_later(countdown / 1000, fire)
        return {"symbol": symbol, "countdownTime": str(countdown)}

    async def _leverage(self, ctx: Ctx) -> Any:
        symbol = self._spec(ctx).symbol
        lev = ctx.need_int("leverage")
        if not 1 <= lev <= 125:
            raise errors.bad_leverage(lev)
        self.engine.accounts[ctx.account].position(symbol).leverage = lev
        return {"leverage": lev, "maxNotionalValue": "1000000000", "symbol": symbol}

    async def _leverage_bracket(self, ctx: Ctx) -> Any:
        if ctx.get("symbol"):
            return [wire.leverage_bracket_json(self._spec(ctx).symbol)]
        return [wire.leverage_bracket_json(s) for s in self.specs]

    async def _user_trades(self, ctx: Ctx) -> Any:
        spec = self._spec(ctx)
        limit = min(1000, max(1, int_param(ctx.get("limit"), 500)))
        fills = [f for f in self.engine.accounts[ctx.account].fills if f.symbol == spec.symbol]
        return [wire.trade_json(f, spec) for f in fills[-limit:]]

    def _account(self, version: int) -> Handler:
        async def account(ctx: Ctx) -> Any:
            return wire.account_json(self.engine, self.engine.accounts[ctx.account], self.specs, version, self.now_ms())

        return account

    async def _balance(self, ctx: Ctx) -> Any:
        return wire.balance_json(self.engine, self.engine.accounts[ctx.account], self.now_ms())

    def _position_risk(self, version: int) -> Handler:
        async def position_risk(ctx: Ctx) -> Any:
            acct = self.engine.accounts[ctx.account]
            only = self._spec(ctx).symbol if ctx.get("symbol") else None
            out = []
            symbols = [only] if only else list(self.specs)
            for sym in symbols:
                pos = acct.positions.get(sym)
                has_orders = any(o.symbol == sym for o in acct.open_orders.values())
                if version == 3:
                    if (pos is None or abs(pos.amount) < 1e-12) and not has_orders:
                        continue
                    out.append(wire.position_v3(self.engine, acct, sym, acct.position(sym), self.specs[sym]))
                else:  # v2 lists every symbol, flat ones included
                    out.append(wire.position_v2(self.engine, acct, sym, pos or Position(), self.specs[sym]))
            return out

        return position_risk

    # --------------------------------------------------------------------------- REST: listenKey

    async def _listen_key_new(self, ctx: Ctx) -> Any:
        return {"listenKey": self.user.new_key(ctx.account)}

    async def _listen_key_keepalive(self, ctx: Ctx) -> Any:
        return {"listenKey": self.user.keepalive(ctx.account)}

    async def _listen_key_delete(self, ctx: Ctx) -> Any:
        self.user.delete(ctx.account)
        return {}

    # -------------------------------------------------------------------------------- websockets

    async def _ws_combined(self, request: web.Request) -> web.StreamResponse:
        streams = [s for s in request.query.get("streams", "").split("/") if s]
        return await self.hub.serve(request, streams, combined=True)

    async def _ws_raw(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "")
        if name in self.user.keys:
            return await self.hub.serve(request, [name], combined=False)
        if name and "@" not in name:
            raise web.HTTPBadRequest(
                text=orjson.dumps({"code": -1125, "msg": "This listenKey does not exist."}).decode()
            )
        return await self.hub.serve(request, [name] if name else [], combined=False)

    async def _ws_private(self, request: web.Request) -> web.StreamResponse:
        key = request.query.get("listenKey", "")
        if key not in self.user.keys:
            raise web.HTTPBadRequest(
                text=orjson.dumps({"code": -1125, "msg": "This listenKey does not exist."}).decode()
            )
        events = [e for e in request.query.get("events", "").split("/") if e]
        return await self.hub.serve(request, self.user.stream_names(key, events), combined=False)


def _flag(ctx: Ctx, name: str) -> bool:
    """A boolean request parameter: "true" / "false" (absent = false)."""
    value = ctx.get(name, "false").lower()
    if value not in ("true", "false"):
        raise errors.bad_param(name, value)
    return value == "true"
