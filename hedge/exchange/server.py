"""The local Binance USD-M exchange on loopback: one port for REST, websockets and control.

Owns: ``LocalExchange`` — assembling the exchange (symbols, keys, faults, rate limits, the
matching engine and its accounts, the stream hub, user data, the market player, the mark loop,
the order log) and its aiohttp application: the routes of each resource (``routes_market``,
``routes_orders``, ``routes_algo``, ``routes_account``, ``routes_streams``, ``routes_spot``, ``control``), and the
life cycle (start: bind, then play every market source and run the mark, depth-flush and
housekeeping loops; stop).

``LocalExchange`` is a service (``name`` + ``async run()``) and can be driven directly with
``await start()`` (returns the bound port) and ``await stop()``.

Clock: the local exchange keeps its own server clock (``time.time()`` for ``serverTime`` and order
times, ``time.monotonic()`` for fault timing): it referees the engine and shares no code with it,
not even ``hedge.model.clock`` (tests/unit/model/test_clock_usage.py).

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

from aiohttp import web

from hedge.config import LocalExchangeConfig
from hedge.exchange.auth import Keys
from hedge.exchange.control import ControlApi
from hedge.exchange.depthstream import FLUSH_EVERY_S, DepthStreams
from hedge.exchange.faults import Faults
from hedge.exchange.history import History
from hedge.exchange.limits import UNLIMITED, Limits, RateLimiter
from hedge.exchange.market import RecordingTape, SyntheticFlow, bundled_recording
from hedge.exchange.marketdata import PlayEvent
from hedge.exchange.marks import MarkLoop
from hedge.exchange.matching import MatchingEngine
from hedge.exchange.orderlog import OrderLog
from hedge.exchange.player import MarketPlayer
from hedge.exchange.rest import Rest, binance_errors
from hedge.exchange.routes_account import AccountRoutes
from hedge.exchange.routes_algo import AlgoRoutes
from hedge.exchange.routes_market import MarketRoutes
from hedge.exchange.routes_orders import OrderRoutes
from hedge.exchange.routes_spot import ApiRestrictions, SpotRoutes
from hedge.exchange.routes_streams import StreamRoutes
from hedge.exchange.routes_trades import TradeRoutes
from hedge.exchange.streams import Hub
from hedge.exchange.symbols import ExchangeInfo, SymbolSpec
from hedge.exchange.trades import TradeHistory
from hedge.exchange.userdata import UserData

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 0.25
# aiohttp refuses a request line or header over 8190 bytes itself, as plain text and before any
# middleware; raised so that such requests reach the parameter rules (a 10,000-character
# newClientOrderId is -1100, as on Binance). Beyond these, aiohttp's own 400 stands.
MAX_LINE_BYTES = 1 << 16
MAX_BODY_BYTES = 1 << 20


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
        self.synthetic = [s.upper() for s in synthetic]
        self.market_files = [Path(p) for p in market] if market else ([] if self.synthetic else bundled_recording())
        # Sources are built first so a bad recording fails at construction, not in start().
        tape = RecordingTape(self.market_files) if self.market_files else None
        self.info = ExchangeInfo([*self.synthetic, *([tape.symbol] if tape else [])])
        self.specs: dict[str, SymbolSpec] = self.info.specs
        self.keys = Keys(accounts)
        self.restrictions = ApiRestrictions(createTime=int(time.time() * 1000))  # every key's permissions
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
        self.trades = TradeHistory()  # the market trades played: trades, klines and tickers
        self.history = History()  # the klines' synthetic past before the first trade played
        self.player = MarketPlayer(self.engine, self.hub, self.depth, self.specs, self.now_ms, speed, self.trades)
        self.last_update_id = self.player.last_update_id  # symbol -> u of the last diff played
        self.marks = MarkLoop(self.engine, self.hub, self.specs, self.now_ms, self.last_update_id)
        self.orderlog = OrderLog()
        self.order_log = self.orderlog.entries  # the newest order requests (and queries)
        self._order_routes = OrderRoutes(self)
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = asyncio.Event()
        self._sources: list[tuple[str, Iterable[tuple[int, PlayEvent]]]] = []
        if tape is not None:
            self._sources.append((tape.symbol, tape))
        for i, sym in enumerate(self.synthetic):
            spec = self.specs[sym]
            self._sources.append((sym, SyntheticFlow(sym, spec.tick, spec.step, seed=seed + i)))

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
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[binance_errors])
        self._routes(app.router)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, max_line_size=MAX_LINE_BYTES, max_field_size=MAX_LINE_BYTES
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = cast(Any, site)._server
        self.port = int(server.sockets[0].getsockname()[1])
        self._stopped.clear()
        for sym, src in self._sources:
            self._tasks.append(asyncio.create_task(self.player.play(src), name=f"exchange-play-{sym}"))
        self._tasks.append(asyncio.create_task(self.marks.run(), name="exchange-marks"))
        self._tasks.append(asyncio.create_task(self._flush_depth(), name="exchange-depth-flush"))
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="exchange-housekeeping"))
        log.info("local exchange listening on %s (market: %s)", self.base_url, ", ".join(s for s, _ in self._sources))
        return self.port

    def route_table(self) -> list[tuple[str, str]]:
        """(method, path) of every route the running exchange serves (``{name}`` for a path variable)."""
        assert self._runner is not None, "not started"
        out = []
        for route in self._runner.app.router.routes():
            info = route.resource.get_info() if route.resource is not None else {}
            out.append((route.method, str(info.get("path") or info.get("formatter", ""))))
        return out

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._order_routes.close()
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

    def _routes(self, router: web.UrlDispatcher) -> None:
        MarketRoutes(self).add_routes(router)
        TradeRoutes(self).add_routes(router)
        self._order_routes.add_routes(router)
        AlgoRoutes(self, self._order_routes).add_routes(router)
        AccountRoutes(self).add_routes(router)
        StreamRoutes(self).add_routes(router)
        SpotRoutes(self).add_routes(router)
        ControlApi(self).add_routes(router)

    async def _flush_depth(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY_S)
            self.depth.flush(due_only=True)

    async def _housekeeping(self) -> None:
        last_drop = time.monotonic()
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            self.user.expire_due()
            every = self.faults.value("ws_drop_every_s")
            if every > 0 and time.monotonic() - last_drop >= every:
                last_drop = time.monotonic()
                self.hub.drop_all()
