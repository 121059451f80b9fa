"""The Binance USD-M venue over ccxt's async ``binanceusdm``: production, testnet or the local exchange.

Owns: ``BinanceVenue`` (the ``Venue`` protocol over REST), its ccxt client, the server-time
offset, the request budget (``RequestBudget``), the read retries, and the listenKey calls of the
user-data stream (``hedge/venue/user_stream.py`` runs the stream itself).

Design:
- One base URL per venue (``runtime.feeds.rest_url_binance`` / ``rest_url_testnet``, or the local
  exchange's ``http://127.0.0.1:PORT``); every fapi URL of the ccxt client is rewritten to it and
  the linear exception table is copied into the exact one (ccxt selects it by URL prefix, so a
  custom URL would silently lose it). Requests use Binance's raw endpoints (ccxt's implicit API:
  exact field names, exact strings formatted from the order's decimal grid).
- Errors are classified from the HTTP status, Binance's code and message, per response (a
  ``handle_errors`` override, so concurrent requests never mix up their answers) into
  ``hedge.venue.errors``. A transport failure of an order placement is an ``UnknownOutcome``.
- Orders are never retried here (``enableRateLimit`` off, no retry). Reads (query, open orders,
  exchangeInfo, time, listenKey) are retried on retryable failures with backoff 0.4 s -> 6.4 s,
  ``runtime.http.read_retries`` times; ``Retry-After`` is honoured.
- The clock offset to the exchange is measured at start and again after every -1021.
- Positions are read per symbol from ``GET /fapi/v2/positionRisk?symbol=`` (it answers for a flat
  symbol too: that answer is reconciliation's proof of flatness). Fills come from
  ``GET /fapi/v1/userTrades``, which carries no client order id: each unknown order id is looked
  up once (``GET /fapi/v1/order?orderId=``) and remembered.
- Conditional orders (STOP_MARKET, TAKE_PROFIT_MARKET) go to Binance's Algo Service
  (``/fapi/v1/algoOrder``, ``openAlgoOrders``, ``algoOpenOrders``; ``/fapi/v1/order`` refuses them
  with -4120 since 2025-12-09), under ``clientAlgoId`` = the client order id. Cancel and query
  try the order endpoints first and fall back to the Algo Service on "not found" (an algo order
  of an earlier process); ``open_orders`` and ``cancel_all`` cover both. -2021 "Order would
  immediately trigger." is a definite ``Rejected``.
- HTTP timeout ``runtime.http.timeout_s`` (3 s); recvWindow ``runtime.http.recv_window_ms`` (5000).
- Keys only from the environment (``BINANCE_API_KEY``/``BINANCE_API_SECRET``) or the caller;
  they are never logged, and ``repr`` does not show them.

Must never: retry an order placement, send a request while banned, or log a secret.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import ccxt.async_support as ccxt_async

from hedge.backoff import backoff_delays
from hedge.config import HttpConfig
from hedge.events import Event, Fill, Nav, OrderRequest, OrderType, OrderUpdate, Position, RateLimit
from hedge.model.clock import Clock, LiveClock
from hedge.model.instrument import SymbolFilters, to_decimal
from hedge.reach import REACH, Reach, Unreachable
from hedge.venue.base import OrderAck
from hedge.venue.binance_filters import FilterParseError, parse_symbol
from hedge.venue.binance_wire import (
    ack_of,
    algo_ack_of,
    algo_update_of,
    error_body,
    fill_of,
    nav_of_account,
    position_of,
    rate_limits,
    rest_algo,
    rest_order,
    rest_trade,
    update_of,
)
from hedge.venue.errors import (
    INVALID_TIMESTAMP,
    OrderNotFound,
    RateLimited,
    Retryable,
    UnknownOutcome,
    VenueError,
    classify,
)
from hedge.venue.rate_limit import RequestBudget

log = logging.getLogger(__name__)

_CONDITIONAL = (OrderType.STOP_MARKET, OrderType.TAKE_PROFIT_MARKET)
TIME_SAMPLES = 5  # server-time samples per clock-offset measurement (the shortest round trip wins)
_API_PATHS = (
    ("fapiPublic", "/fapi/v1"),
    ("fapiPublicV2", "/fapi/v2"),
    ("fapiPublicV3", "/fapi/v3"),
    ("fapiPrivate", "/fapi/v1"),
    ("fapiPrivateV2", "/fapi/v2"),
    ("fapiPrivateV3", "/fapi/v3"),
    ("fapiData", "/futures/data"),
)


# Conditional orders' client ids remembered, to send their cancels and queries straight to the Algo
# Service. Only a shortcut: an id not remembered (forgotten, or placed by an earlier process) goes to
# /fapi/v1/order first and to the Algo Service on -2011, so forgetting is always safe. 4,096 so that
# the set stops growing with every protective stop (it was unbounded).
ALGO_KEPT = 4096


def point_ccxt_at(client: Any, rest_base: str) -> None:
    """Send a ccxt binanceusdm client's USD-M REST calls to ``rest_base``, with the linear error codes mapped."""
    for key, path in _API_PATHS:
        client.urls["api"][key] = rest_base + path
    client.exceptions["exact"].update(client.exceptions["linear"]["exact"])


def root_reason(e: BaseException) -> str:
    """The innermost cause of a transport failure, as ``Type: message`` (ccxt's own message names
    the whole URL, query and signature included; the cause names the host and what went wrong)."""
    while e.__cause__ is not None:
        e = e.__cause__
    text = str(e).strip()
    return (f"{type(e).__name__}: {text}" if text else type(e).__name__)[:300]


def fmt(x: float) -> str:
    """A price or quantity already on its grid, as the exact decimal string Binance expects."""
    return format(to_decimal(x), "f")


class _Client(ccxt_async.binanceusdm):  # type: ignore[misc]
    """ccxt's binanceusdm whose error handling is hedge's (per response, exact)."""

    hedge_observe: Callable[[int, Mapping[str, str]], None] | None = None

    def handle_errors(
        self, code: int, reason: str, url: str, method: str, headers: Mapping[str, str], body: str,
        response: Any, request_headers: Any, request_body: Any,
    ) -> None:
        if self.hedge_observe is not None:
            self.hedge_observe(code, headers)
        if code >= 400:
            err = error_body(body)
            raise classify(code, err.code, err.msg or reason, retry_after_s=RequestBudget.retry_after(headers))
        if isinstance(response, dict) and isinstance(response.get("code"), int) and response["code"] < 0:
            raise classify(code, response["code"], str(response.get("msg", "")))


class BinanceVenue:
    """The ``Venue`` protocol on Binance USD-M (or the local exchange) through ccxt."""

    def __init__(
        self,
        rest_base: str,
        http: HttpConfig,
        *,
        api_key: str,
        api_secret: str,
        name: str = "binance",
        publish: Callable[[Event], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Clock | None = None,
        reach: Reach = REACH,
    ) -> None:
        self.name = name
        self.clock: Clock = clock or LiveClock()
        self.reach = reach
        self._algo: dict[str, None] = {}  # client ids placed through the Algo Service, oldest first (``ALGO_KEPT``)
        self.rest_base = rest_base.rstrip("/")
        self.http = http
        self._publish = publish
        self._sleep = sleep
        self._delay = backoff_delays(http.backoff_initial_s, http.backoff_max_s)
        self.budget = RequestBudget(budget=http.weight_budget, clock=self.clock)
        self.clock_offset_ms = 0  # server - local
        self.resyncs = 0
        ex = _Client({
            "apiKey": api_key,
            "secret": api_secret,
            "enableRateLimit": False,
            "timeout": int(http.timeout_s * 1000),
            "options": {
                "fetchCurrencies": False,
                "recvWindow": http.recv_window_ms,
                "timeDifference": 0,
                "adjustForTimeDifference": False,
            },
        })
        point_ccxt_at(ex, self.rest_base)
        ex.hedge_observe = self._observe
        self.client = ex
        self._cids: dict[int, str] = {}  # exchange order id -> client order id (userTrades lacks it)

    def __repr__(self) -> str:
        return f"BinanceVenue({self.name!r}, {self.rest_base!r})"

    @classmethod
    def from_env(cls, rest_base: str, http: HttpConfig, *, name: str = "binance",
                 publish: Callable[[Event], None] | None = None, env: Mapping[str, str] | None = None,
                 clock: Clock | None = None) -> BinanceVenue:
        e = os.environ if env is None else env
        key, secret = e.get("BINANCE_API_KEY", ""), e.get("BINANCE_API_SECRET", "")
        if not key or not secret:
            raise ValueError("BINANCE_API_KEY and BINANCE_API_SECRET must be set in the environment")
        return cls(rest_base, http, api_key=key, api_secret=secret, name=name, publish=publish, clock=clock)

    async def close(self) -> None:
        await self.client.close()

    # ------------------------------------------------------------------ plumbing

    def _observe(self, status: int, headers: Mapping[str, str]) -> None:
        self.reach.reached(self.rest_base)  # an HTTP answer, whatever it says
        self.budget.observe(status, headers)
        if status in (418, 429) and self._publish is not None:
            self._publish(RateLimit(
                status=status, retry_after_s=RequestBudget.retry_after(headers),
                banned_until_ms=int(self.budget.blocked_until * 1000) if status == 418 else 0,
                recv_ns=self.clock.now_ns(),
            ))

    async def _call(self, method: str, params: dict[str, Any], *, read: bool, order: bool = False) -> Any:
        """One REST call; reads are retried (bounded), writes never."""
        attempts = self.http.read_retries if read else 0
        for attempt in range(attempts + 1):
            wait = self._delay(attempt)
            try:
                self.budget.check(order=order)
                return await getattr(self.client, method)(params)
            except VenueError as e:
                err: VenueError = e
                if e.code == INVALID_TIMESTAMP:
                    await self.sync_time()
            except ccxt_async.BaseError as e:  # no HTTP answer: timeout, reset, refused, DNS
                err = self._no_answer(e, read=read, retry_in_s=wait if attempt < attempts else None)
            if not read or not isinstance(err, Retryable | UnknownOutcome) or attempt == attempts:
                raise err
            wait = max(getattr(err, "retry_after_s", 0.0), wait)
            if isinstance(err, RateLimited) and err.banned:
                raise err
            level = logging.DEBUG if isinstance(err.__cause__, Unreachable) else logging.WARNING
            log.log(level, "venue %s: %s failed (%s); retry %d in %.2fs", self.name, method, err, attempt + 1, wait)
            await self._sleep(wait)
        raise AssertionError("unreachable")

    def _no_answer(self, e: Exception, *, read: bool, retry_in_s: float | None) -> VenueError:
        """A request that got no HTTP answer: said once per outage (``Reach``), then a venue error
        (``Retryable`` for a read, ``UnknownOutcome`` for a write) caused by ``Unreachable``."""
        reason = root_reason(e)
        self.reach.failed(self.rest_base, reason, retry_in_s, exc=e)
        err: VenueError = Retryable(reason) if read else UnknownOutcome(reason)
        err.__cause__ = Unreachable(f"cannot reach {self.rest_base}: {reason}")
        return err

    async def sync_time(self, samples: int = TIME_SAMPLES) -> int:
        """Measure the server-time offset and give it to the signer.

        Each sample takes the midpoint of its round trip (offset = server time - (sent + received) / 2);
        of ``samples`` sequential samples the one with the shortest round trip wins (the first one
        also pays for opening the connection, and a busy loop delays some answers: both bias the
        midpoint). Measured on the signer's own clock (ccxt's ``milliseconds()``, which stamps every
        signed request), not the engine's: the offset corrects that clock."""
        best_rtt, offset = -1, 0
        for _ in range(max(1, samples)):
            t0 = self.client.milliseconds()
            try:
                r = await self.client.fapiPublicGetTime({})
            except ccxt_async.BaseError as e:
                raise self._no_answer(e, read=True, retry_in_s=None)
            t1 = self.client.milliseconds()
            if best_rtt < 0 or t1 - t0 < best_rtt:
                best_rtt, offset = t1 - t0, round(int(r["serverTime"]) - (t0 + t1) / 2)
        self.clock_offset_ms = offset
        self.client.options["timeDifference"] = -self.clock_offset_ms
        self.resyncs += 1
        log.debug("venue %s: clock offset %+d ms (best round trip %d ms of %d)", self.name, offset, best_rtt, samples)
        return self.clock_offset_ms

    async def start(self) -> None:
        await self.sync_time()

    # ------------------------------------------------------------------ Venue protocol

    async def load_filters(self) -> dict[str, SymbolFilters]:
        info = await self._call("fapiPublicGetExchangeInfo", {}, read=True)
        weight, orders = rate_limits(info)
        if weight:
            self.budget.weight_limit_1m = weight
        if orders:
            self.budget.order_limit_10s = orders
        out: dict[str, SymbolFilters] = {}
        for entry in info.get("symbols", []):
            if entry.get("status", "TRADING") != "TRADING":
                continue
            try:
                f = parse_symbol(entry)
            except FilterParseError as e:
                log.warning("venue %s: %s; symbol skipped", self.name, e)
                continue
            out[f.symbol] = f
        return out

    async def place(self, req: OrderRequest) -> OrderAck:
        if req.type in _CONDITIONAL:
            return await self._place_algo(req)
        params: dict[str, Any] = {
            "symbol": req.symbol,
            "side": req.side.value,
            "type": req.type.value,
            "quantity": fmt(req.qty),
            "newClientOrderId": req.client_order_id,
            "newOrderRespType": "RESULT",
        }
        if req.type is OrderType.LIMIT:
            params["price"] = fmt(req.price)
            params["timeInForce"] = req.tif.value
        if req.reduce_only:
            params["reduceOnly"] = "true"
        r = await self._call("fapiPrivatePostOrder", params, read=False, order=True)
        return ack_of(rest_order(r))

    async def _place_algo(self, req: OrderRequest) -> OrderAck:
        """A STOP_MARKET / TAKE_PROFIT_MARKET: Binance's Algo Service (``POST /fapi/v1/algoOrder``;
        ``/fapi/v1/order`` refuses these types with -4120 since 2025-12-09)."""
        params: dict[str, Any] = {
            "algoType": "CONDITIONAL",
            "symbol": req.symbol,
            "side": req.side.value,
            "type": req.type.value,
            "clientAlgoId": req.client_order_id,
            "triggerPrice": fmt(req.stop_price),
            "workingType": "MARK_PRICE" if req.stop_on_mark else "CONTRACT_PRICE",
        }
        if req.close_position:  # closes the whole position when it fires: no quantity, no reduceOnly
            params["closePosition"] = "true"
        else:
            params["quantity"] = fmt(req.qty)
            if req.reduce_only:
                params["reduceOnly"] = "true"
        self._algo[req.client_order_id] = None  # before the call: an unknown outcome is queried there too
        if len(self._algo) > ALGO_KEPT:
            del self._algo[next(iter(self._algo))]
        r = await self._call("fapiPrivatePostAlgoOrder", params, read=False, order=True)
        return algo_ack_of(rest_algo(r))

    async def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        if client_order_id not in self._algo:
            try:
                r = await self._call("fapiPrivateDeleteOrder", {"symbol": symbol, "origClientOrderId": client_order_id},
                                     read=False)
                return update_of(rest_order(r), self.clock.now_ns())
            except OrderNotFound:
                pass  # maybe an algo order of an earlier process: ask the Algo Service
        await self._call("fapiPrivateDeleteAlgoOrder", {"symbol": symbol, "clientAlgoId": client_order_id}, read=False)
        u = await self._query_algo(symbol, client_order_id)
        if u is None:
            raise OrderNotFound("Unknown order sent.", code=-2011, http_status=400)
        return u

    async def query(self, symbol: str, client_order_id: str) -> OrderUpdate | None:
        if client_order_id in self._algo:
            return await self._query_algo(symbol, client_order_id)
        try:
            r = await self._call("fapiPrivateGetOrder", {"symbol": symbol, "origClientOrderId": client_order_id},
                                 read=True)
        except OrderNotFound:
            return await self._query_algo(symbol, client_order_id)  # absent only if the Algo Service agrees
        return update_of(rest_order(r), self.clock.now_ns())

    async def _query_algo(self, symbol: str, client_order_id: str) -> OrderUpdate | None:
        try:
            r = await self._call("fapiPrivateGetAlgoOrder", {"symbol": symbol, "clientAlgoId": client_order_id},
                                 read=True)
        except OrderNotFound:
            return None  # the exchange answered: no such order
        return algo_update_of(rest_algo(r), self.clock.now_ns())

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        params = {"symbol": symbol} if symbol else {}
        r = await self._call("fapiPrivateGetOpenOrders", params, read=True)
        a = await self._call("fapiPrivateGetOpenAlgoOrders", params, read=True)
        now = self.clock.now_ns()
        return [update_of(rest_order(o), now) for o in r] + [algo_update_of(rest_algo(o), now) for o in a]

    async def cancel_all(self, symbol: str) -> int:
        """Every open order of ``symbol``, the Algo Service's conditional orders included."""
        n = len(await self.open_orders(symbol))
        await self._call("fapiPrivateDeleteAllOpenOrders", {"symbol": symbol}, read=False)
        await self._call("fapiPrivateDeleteAlgoOpenOrders", {"symbol": symbol}, read=False)
        return n

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        await self._call("fapiPrivatePostCountdownCancelAll", {"symbol": symbol, "countdownTime": countdown_ms},
                         read=False)

    async def account_nav(self) -> Nav:
        """The account's NAV (wallet balance + unrealized PnL) from ``GET /fapi/v2/account``."""
        r = await self._call("fapiPrivateV2GetAccount", {}, read=True)
        return nav_of_account(r, self.clock.now_ns())

    async def positions(self, symbols: Sequence[str] | None = None) -> list[Position]:
        if symbols is None:
            r = await self._call("fapiPrivateV2GetPositionRisk", {}, read=True)
            return [position_of(p, self.clock.now_ns()) for p in r]
        out: list[Position] = []
        for sym in symbols:
            r = await self._call("fapiPrivateV2GetPositionRisk", {"symbol": sym}, read=True)
            out.extend(position_of(p, self.clock.now_ns()) for p in r)
        return out

    async def recent_fills(self, symbol: str, since_ms: int) -> list[Fill]:
        r = await self._call("fapiPrivateGetUserTrades", {"symbol": symbol, "startTime": since_ms, "limit": 1000},
                             read=True)
        out: list[Fill] = []
        for raw in r:
            t = rest_trade(raw)
            if t.time < since_ms:
                continue
            cid = self._cids.get(t.orderId)
            if cid is None:
                o = await self._call("fapiPrivateGetOrder", {"symbol": symbol, "orderId": t.orderId}, read=True)
                cid = rest_order(o).clientOrderId
                self._cids[t.orderId] = cid
                if len(self._cids) > 10_000:
                    del self._cids[next(iter(self._cids))]
            out.append(fill_of(t, cid, self.clock.now_ns()))
        out.sort(key=lambda f: (f.ts_ms, f.trade_id))
        return out

    # ------------------------------------------------------------------ user-data stream keys

    async def new_listen_key(self) -> str:
        r = await self._call("fapiPrivatePostListenKey", {}, read=True)
        return str(r["listenKey"])

    async def keepalive_listen_key(self) -> None:
        """Extend the listenKey by 60 min; raises ``Rejected`` (-1125) when it no longer exists."""
        await self._call("fapiPrivatePutListenKey", {}, read=False)

