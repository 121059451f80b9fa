"""The local Binance USD-M exchange on loopback: REST, market and user-data websockets, faults.

Owns: the aiohttp application (Binance's ``/fapi`` REST paths, the ``/ws``, ``/stream``,
``/public``, ``/market`` and ``/private`` websocket paths, the ``/_hedge/`` control API), the request
pipeline (fault hooks, rate limits, API key / signature / timestamp checks, Binance error answers),
the market player that feeds the matching engine and the streams from a recording or a synthetic
flow, mark prices and funding, listenKeys and the user-data stream, the dead-man switch, and the
log of every order request with its outcome (``GET /_hedge/orders``).

``LocalExchange`` is a service (``name`` + ``async run()``) and can be driven directly with
``await start()`` (returns the bound port) and ``await stop()``.

Must never: import an engine stage (it is a venue of its own), or answer a request whose
signature it did not verify.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import parse_qsl

import msgspec
import orjson
from aiohttp import web

from hedge.config import LocalExchangeConfig
from hedge.events import BookTicker, DepthDiff, Side, Trade
from hedge.exchange import errors, wire
from hedge.exchange.auth import Keys, check_timestamp, split_signature
from hedge.exchange.depthstream import FLUSH_EVERY_S, DepthStreams
from hedge.exchange.faults import Faults, FaultSetting, FaultSpecError
from hedge.exchange.limits import UNLIMITED, Limits, RateLimiter
from hedge.exchange.market import PlayEvent, RecordingTape, SyntheticFlow, bundled_recording
from hedge.exchange.matching import (
    Account,
    ExecType,
    Fill,
    MatchingEngine,
    Order,
    OrderRequest,
    Position,
    mid_price,
)
from hedge.exchange.streams import Hub, Subscriber
from hedge.exchange.symbols import ExchangeInfo, SymbolSpec

log = logging.getLogger(__name__)

Security = Literal["NONE", "USER_STREAM", "SIGNED"]
Handler = Callable[["Ctx"], Awaitable[Any]]
Weight = int | Callable[[dict[str, str]], int]  # request weight, fixed or from the parameters

LISTEN_KEY_TTL_MS = 60 * 60 * 1000
FUNDING_INTERVAL_MS = 8 * 3600 * 1000
MARK_INTERVAL_S = 1.0
PLAY_BATCH = 512  # events played between two yields to the event loop when behind schedule
DEPTH_WEIGHT = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}


class OrderLogEntry(msgspec.Struct, kw_only=True):
    seq: int
    time_ms: int
    account: str
    method: str
    symbol: str
    side: str
    type: str
    client_order_id: str
    http_status: int
    code: int = 0
    msg: str = ""
    order_id: int = 0
    status: str = ""
    fault: str = ""


class _Drop(Exception):
    """Close the connection without an answer (fault injection)."""


class Ctx:
    __slots__ = ("account", "api_key", "ip", "params", "request")

    def __init__(self, request: web.Request, params: dict[str, str], ip: str) -> None:
        self.request = request
        self.params = params
        self.ip = ip
        self.api_key = ""
        self.account = ""

    def get(self, name: str, default: str = "") -> str:
        return self.params.get(name, default)

    def need(self, name: str) -> str:
        value = self.params.get(name)
        if not value:
            raise errors.missing_param(name)
        return value


def _decimal(text: str, name: str, max_decimals: int) -> float:
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


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


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
        self.engine = MatchingEngine(
            self.specs, clock=self.now_ms, maker_fee=maker_fee, taker_fee=taker_fee, listener=self
        )
        for key in self.keys.api_keys():
            self.engine.add_account(key, starting_balance)
        self.hub = Hub()
        self.depth = DepthStreams(self.hub, self.specs, self.faults, self.now_ms)
        self.last_update_id: dict[str, int] = {}
        self.listen_keys: dict[str, tuple[str, int]] = {}  # listenKey -> (account, expires ms)
        self.order_log: list[OrderLogEntry] = []
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
        tick = 0
        while True:
            await asyncio.sleep(MARK_INTERVAL_S)
            tick += 1
            now = self.now_ms()
            next_funding = (now // FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS
            for sym in list(self.last_update_id):
                mid = mid_price(self.engine.book(sym))
                if mid is None:
                    continue
                self.engine.on_mark(sym, mid)
                if next_funding - now <= MARK_INTERVAL_S * 1000:
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
        while True:
            await asyncio.sleep(1.0)
            now = self.now_ms()
            for key, (_, expires) in list(self.listen_keys.items()):
                if expires <= now:
                    self.expire_listen_key(key)
            every = self.faults.value("ws_drop_every_s")
            if every > 0 and int(time.monotonic()) % max(1, int(every)) == 0:
                self.hub.drop_all()

    # ------------------------------------------------------------------ user-data (listener)

    def _user_publish(self, account: Account, event: str, build: Callable[[], bytes]) -> None:
        """Send a user-data event to the account's listenKey streams (all events, or ``key@<event>``)."""
        data: bytes | None = None
        for key, (owner, _) in self.listen_keys.items():
            if owner != account.key:
                continue
            for name in (key, f"{key}@{event}"):
                if self.hub.has(name):
                    data = data or build()
                    self.hub.publish(name, data)

    def _user_subscribers(self, key: str) -> set[Subscriber]:
        return {sub for name, subs in self.hub.subs.items() if name.split("@", 1)[0] == key for sub in subs}

    def on_order(self, account: Account, order: Order, exec_type: ExecType, fill: Fill | None) -> None:
        spec = self.specs[order.symbol]
        self._user_publish(
            account,
            "ORDER_TRADE_UPDATE",
            lambda: orjson.dumps(
                wire.order_update_event(self.engine, account, order, exec_type, fill, spec, self.now_ms())
            ),
        )

    def on_balance(self, account: Account, reason: str, symbols: list[str]) -> None:
        self._user_publish(
            account,
            "ACCOUNT_UPDATE",
            lambda: orjson.dumps(
                wire.account_update_event(self.engine, account, reason, symbols, self.specs, self.now_ms())
            ),
        )

    def expire_listen_key(self, key: str) -> bool:
        """Expire ``key``: every stream on it gets ``listenKeyExpired`` and is then closed."""
        if self.listen_keys.pop(key, None) is None:
            return False
        data = orjson.dumps({"e": "listenKeyExpired", "E": str(self.now_ms()), "listenKey": key}).decode()
        for sub in self._user_subscribers(key):
            sub.push(data)
            sub.finish()
        return True

    # ---------------------------------------------------------------------------- REST plumbing

    def _routes(self, app: web.Application) -> None:
        r = app.router
        ep = self._endpoint
        r.add_get("/fapi/v1/ping", ep("NONE", 1, self._ping))
        r.add_get("/fapi/v1/time", ep("NONE", 1, self._time))
        r.add_get("/fapi/v1/exchangeInfo", ep("NONE", 1, self._exchange_info))
        r.add_get("/fapi/v1/depth", ep("NONE", lambda p: DEPTH_WEIGHT.get(_int(p.get("limit"), 500), 20), self._depth))
        r.add_get("/fapi/v1/premiumIndex", ep("NONE", 1, self._premium_index))
        r.add_post("/fapi/v1/order", ep("SIGNED", 0, self._new_order))
        r.add_delete("/fapi/v1/order", ep("SIGNED", 1, self._cancel_order))
        r.add_get("/fapi/v1/order", ep("SIGNED", 1, self._get_order))
        r.add_get("/fapi/v1/openOrders", ep("SIGNED", lambda p: 1 if p.get("symbol") else 40, self._open_orders))
        r.add_delete("/fapi/v1/allOpenOrders", ep("SIGNED", 1, self._cancel_all))
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
        r.add_get("/_hedge/orders", self._ctl_orders)
        r.add_get("/_hedge/faults", self._ctl_faults_get)
        r.add_post("/_hedge/faults", self._ctl_faults_set)
        r.add_post("/_hedge/actions/{action}", self._ctl_action)
        r.add_get("/_hedge/state", self._ctl_state)

    def _endpoint(
        self, security: Security, weight: Weight, handler: Handler
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            ip = request.remote or "?"
            now = self.now_ms()
            headers: dict[str, str] = {}
            delay = self.faults.value("rest_delay_ms")
            if delay > 0:
                await asyncio.sleep(delay / 1000)
            if self.faults.fire("rest_drop"):
                return self._drop(request)
            try:
                if self.faults.fire("rest_418"):
                    self.limiter.ban(ip, now + 120_000)
                if self.faults.fire("rest_429"):
                    raise errors.too_many_requests()
                body = await request.text() if request.can_read_body else ""
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
                    ctx.api_key = ctx.account = api_key
                if security == "SIGNED":
                    payload, sig = split_signature(query, body)
                    self.keys.verify(ctx.api_key, payload, sig)
                    check_timestamp(params.get("timestamp"), params.get("recvWindow"), now)
                result = await handler(ctx)
                if isinstance(result, web.StreamResponse):
                    return result
                if handler == self._new_order:
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
            except _Drop:
                return self._drop(request)

        return handle

    @staticmethod
    def _drop(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=500)

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
        limit = _int(ctx.get("limit"), 500)
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

    def _order_request(self, ctx: Ctx, spec: SymbolSpec) -> OrderRequest:
        side = ctx.need("side").upper()
        if side not in ("BUY", "SELL"):
            raise errors.bad_param("side", side)
        otype = ctx.need("type").upper()
        if otype not in ("LIMIT", "MARKET"):
            raise errors.invalid_order_type(otype)
        ps = ctx.get("positionSide", "BOTH").upper()
        if ps != "BOTH":
            raise errors.position_side_mismatch()
        qty = _decimal(ctx.need("quantity"), "quantity", spec.qty_precision)
        price = 0.0
        tif = "GTC"
        if otype == "LIMIT":
            price = _decimal(ctx.need("price"), "price", spec.price_precision)
            tif = ctx.need("timeInForce").upper()
            if tif not in ("GTC", "IOC", "FOK", "GTX"):
                raise errors.bad_param("timeInForce", tif)
        elif ctx.get("price"):
            raise errors.not_required("price")
        reduce_only = ctx.get("reduceOnly", "false").lower()
        if reduce_only not in ("true", "false"):
            raise errors.bad_param("reduceOnly", reduce_only)
        client_id = ctx.get("newClientOrderId")
        if client_id:
            if len(client_id) > 36:
                raise errors.client_id_too_long()
            if not all(c.isascii() and (c.isalnum() or c in ".:/_-") for c in client_id):
                raise errors.illegal_chars("newClientOrderId")
        return OrderRequest(
            symbol=spec.symbol,
            side=cast(Any, side),
            type=cast(Any, otype),
            quantity=qty,
            price=price,
            time_in_force=cast(Any, tif),
            reduce_only=reduce_only == "true",
            client_order_id=client_id,
        )

    async def _new_order(self, ctx: Ctx) -> Any:
        now = self.now_ms()
        entry = OrderLogEntry(
            seq=len(self.order_log) + 1,
            time_ms=now,
            account=ctx.account,
            method="POST",
            symbol=ctx.get("symbol"),
            side=ctx.get("side"),
            type=ctx.get("type"),
            client_order_id=ctx.get("newClientOrderId"),
            http_status=200,
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
            raise _Drop()
        return wire.order_json(order, spec)

    async def _cancel_order(self, ctx: Ctx) -> Any:
        symbol, oid, coid = self._lookup(ctx)
        entry = OrderLogEntry(
            seq=len(self.order_log) + 1,
            time_ms=self.now_ms(),
            account=ctx.account,
            method="DELETE",
            symbol=symbol,
            side="",
            type="",
            client_order_id=coid or "",
            http_status=200,
            order_id=oid or 0,
        )
        self.order_log.append(entry)
        try:
            order = self.engine.cancel(ctx.account, symbol, oid, coid)
        except errors.Reject as rej:
            entry.http_status, entry.code, entry.msg = rej.status, rej.code, rej.msg
            raise
        entry.order_id, entry.status = order.order_id, order.status
        return wire.order_json(order, self.specs[symbol])

    async def _get_order(self, ctx: Ctx) -> Any:
        symbol, oid, coid = self._lookup(ctx)
        return wire.order_json(
            self.engine.get_order(ctx.account, symbol, oid, coid), self.specs[symbol], with_time=True
        )

    async def _open_orders(self, ctx: Ctx) -> Any:
        symbol = self._spec(ctx).symbol if ctx.get("symbol") else None
        return [
            wire.order_json(o, self.specs[o.symbol], with_time=True)
            for o in self.engine.open_orders(ctx.account, symbol)
        ]

    async def _cancel_all(self, ctx: Ctx) -> Any:
        self.engine.cancel_all(ctx.account, self._spec(ctx).symbol)
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    async def _countdown(self, ctx: Ctx) -> Any:
        symbol = self._spec(ctx).symbol
        try:
            countdown = int(ctx.need("countdownTime"))
        except ValueError:
            raise errors.bad_param("countdownTime", ctx.get("countdownTime"))
        key = (ctx.account, symbol)
        old = self._countdowns.pop(key, None)
        if old is not None:
            old.cancel()
        if countdown > 0:
            account = ctx.account

            def fire() -> None:
                self._countdowns.pop(key, None)
                self.engine.cancel_all(account, symbol)

            self._countdowns[key] = asyncio.get_running_loop().call_later(countdown / 1000, fire)
        return {"symbol": symbol, "countdownTime": str(countdown)}

    async def _leverage(self, ctx: Ctx) -> Any:
        symbol = self._spec(ctx).symbol
        try:
            lev = int(ctx.need("leverage"))
        except ValueError:
            raise errors.bad_param("leverage", ctx.get("leverage"))
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
        limit = min(1000, max(1, _int(ctx.get("limit"), 500)))
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
                    out.append(wire.position_v2(self.engine, sym, pos or Position(), self.specs[sym]))
            return out

        return position_risk

    # --------------------------------------------------------------------------- REST: listenKey

    def _key_of(self, account: str) -> str | None:
        return next((k for k, (a, _) in self.listen_keys.items() if a == account), None)

    async def _listen_key_new(self, ctx: Ctx) -> Any:
        key = self._key_of(ctx.account) or secrets.token_hex(32)
        self.listen_keys[key] = (ctx.account, self.now_ms() + LISTEN_KEY_TTL_MS)
        return {"listenKey": key}

    async def _listen_key_keepalive(self, ctx: Ctx) -> Any:
        key = self._key_of(ctx.account)
        if key is None:
            raise errors.invalid_listen_key()
        self.listen_keys[key] = (ctx.account, self.now_ms() + LISTEN_KEY_TTL_MS)
        return {"listenKey": key}

    async def _listen_key_delete(self, ctx: Ctx) -> Any:
        key = self._key_of(ctx.account)
        if key is not None:
            self.listen_keys.pop(key, None)
            for sub in self._user_subscribers(key):
                sub.close()
        return {}

    # -------------------------------------------------------------------------------- websockets

    async def _ws_combined(self, request: web.Request) -> web.StreamResponse:
        streams = [s for s in request.query.get("streams", "").split("/") if s]
        return await self.hub.serve(request, streams, combined=True)

    async def _ws_raw(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name", "")
        if name in self.listen_keys:
            return await self.hub.serve(request, [name], combined=False)
        if name and "@" not in name:
            raise web.HTTPBadRequest(
                text=orjson.dumps({"code": -1125, "msg": "This listenKey does not exist."}).decode()
            )
        return await self.hub.serve(request, [name] if name else [], combined=False)

    async def _ws_private(self, request: web.Request) -> web.StreamResponse:
        key = request.query.get("listenKey", "")
        if key not in self.listen_keys:
            raise web.HTTPBadRequest(
                text=orjson.dumps({"code": -1125, "msg": "This listenKey does not exist."}).decode()
            )
        events = [e for e in request.query.get("events", "").split("/") if e]
        return await self.hub.serve(request, [f"{key}@{e}" for e in events] or [key], combined=False)

    # ------------------------------------------------------------------------------ control API

    @staticmethod
    def _loopback_only(request: web.Request) -> None:
        try:
            if not ipaddress.ip_address(request.remote or "").is_loopback:
                raise web.HTTPForbidden()
        except ValueError:
            raise web.HTTPForbidden()

    async def _ctl_orders(self, request: web.Request) -> web.StreamResponse:
        self._loopback_only(request)
        return web.Response(body=msgspec.json.encode(self.order_log), content_type="application/json")

    async def _ctl_faults_get(self, request: web.Request) -> web.StreamResponse:
        self._loopback_only(request)
        body = {"settings": self.faults.settings, "fired": self.faults.fired}
        return web.Response(body=msgspec.json.encode(body), content_type="application/json")

    async def _ctl_faults_set(self, request: web.Request) -> web.StreamResponse:
        self._loopback_only(request)
        try:
            plan = msgspec.json.decode(await request.read(), type=dict[str, FaultSetting])
            for name, setting in plan.items():
                self.faults.set(name, setting)
        except (msgspec.ValidationError, msgspec.DecodeError, FaultSpecError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return await self._ctl_faults_get(request)

    async def _ctl_action(self, request: web.Request) -> web.StreamResponse:
        self._loopback_only(request)
        action = request.match_info["action"]
        q = request.query
        result: dict[str, Any] = {"action": action}
        if action == "ws_drop":
            result["dropped"] = self.hub.drop_all()
        elif action == "ws_stall":
            self.hub.stall_all(float(q.get("seconds", "5")))
        elif action == "expire_listen_key":
            keys = [q["listenKey"]] if "listenKey" in q else list(self.listen_keys)
            result["expired"] = [k for k in keys if self.expire_listen_key(k)]
        elif action == "funding":
            for sym in [q["symbol"]] if "symbol" in q else list(self.last_update_id):
                self.engine.settle_funding(sym)
        elif action == "reset_faults":
            self.faults.clear()
        else:
            return web.json_response({"error": f"unknown action {action!r}"}, status=404)
        return web.json_response(result)

    async def _ctl_state(self, request: web.Request) -> web.StreamResponse:
        self._loopback_only(request)
        body = {
            "events_played": self.events_played,
            "frames_sent": self.hub.frames_sent,
            "connections": len(self.hub.all),
            "last_update_id": self.last_update_id,
            "listen_keys": len(self.listen_keys),
        }
        return web.json_response(body)
