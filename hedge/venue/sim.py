"""The simulated venue: the ``Venue`` protocol in process, on the local exchange's matching engine.

Owns: ``SimVenue`` — one simulated account on a ``hedge.exchange.matching.MatchingEngine`` (the
same fill model, filters, fees and PnL as the local exchange), its market fed from the bus, and
the user-data stream it publishes: ``OrderUpdate`` (cumulative ``filled_qty``, ``ts_ms`` from the
engine), ``Fill``, and after every balance change ``Position`` (``ts_ms``), ``Balance`` and ``Nav``;
at ``start`` a live ``FeedStatus`` for the user stream; every ``account_interval_s`` of event time
an account snapshot (Position per symbol, Balance, Nav), as a reconciliation would.

Market: the matching engine matches against the engine's own synced book (``book_of``, shared
through the exchange's ``BookView`` interface, never copied nor applied twice: the sync alone
decides what is in it). A ``DepthDiff`` is held until the ``BookUpdate`` with its final
update id shows the book sync applied it; then the matching engine forgets the liquidity client
orders took at its levels and re-checks resting orders. A diff the sync rejected (gap, stale)
changes nothing; a book that becomes VALID again (new snapshot) resets the taken liquidity.
Trades and mark prices go straight to the engine. Subscribe the venue (``attach``) BEFORE the pipeline:
fills caused by a tick are then published before the stages act on that tick, as on an exchange.

Its exchange has the markets of ``symbols`` only (``ExchangeInfo(only=...)``): ``load_filters`` returns
their filters, and an order for any other symbol is refused as an unknown symbol (-1121).

Time: only the injected clock (event time in replay). ``latency_s`` > 0 delays each request's
arrival at the matching engine by that much event time (a timer on the clock); answers and
user-stream events come back at once. ``waiting`` counts requests held by the latency, so a
replay driver knows when every venue call is either done or waiting for time to pass.

Must never: read the wall clock, open a connection, or fill an order other than through the
matching engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from hedge.bus import Bus
from hedge.events import (
    Balance,
    BookState,
    BookStatus,
    BookUpdate,
    DepthDiff,
    FeedStatus,
    Fill,
    MarkPrice,
    Nav,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    Side,
    Trade,
)
from hedge.exchange import errors as xerr
from hedge.exchange.accounts import Account
from hedge.exchange.matching import MatchingEngine
from hedge.exchange.orders import ExecType, Execution, NewOrder, Order, OrderKind
from hedge.exchange.symbols import ExchangeInfo
from hedge.feeds.book import OrderBook
from hedge.model.clock import Clock
from hedge.model.instrument import SymbolFilters
from hedge.venue.base import OrderAck
from hedge.venue.binance_filters import parse_symbol
from hedge.venue.errors import OrderNotFound, Rejected, VenueError, classify

ACCOUNT = "sim"
ASSET = "USDT"
_ORDER_TYPES: dict[OrderType, OrderKind] = {
    OrderType.LIMIT: "LIMIT", OrderType.MARKET: "MARKET", OrderType.STOP_MARKET: "STOP_MARKET",
    OrderType.TAKE_PROFIT_MARKET: "TAKE_PROFIT_MARKET",
}


def _venue_error(exc: xerr.Reject) -> VenueError:
    return classify(exc.status, exc.code, exc.msg)


class SimVenue:
    """A simulated exchange account for ``symbols`` (see the module docstring)."""

    name = "sim"

    def __init__(
        self,
        bus: Bus,
        symbols: Sequence[str],
        *,
        clock: Clock,
        book_of: Callable[[str], OrderBook],
        balance: float = 10_000.0,
        maker_fee: float = 0.0002,
        taker_fee: float = 0.0005,
        latency_s: float = 0.0,
        account_interval_s: float = 5.0,
        user_stream: str = "user",
    ) -> None:
        self.bus = bus
        self.symbols = tuple(symbols)
        self.clock = clock
        self.now_ns = clock.now_ns
        self.latency_s = latency_s
        self.countdowns: dict[str, int] = {}  # the last dead-man countdown armed per symbol
        self.account_interval_s = account_interval_s
        self.user_stream = user_stream
        self.info = ExchangeInfo(list(self.symbols), only=self.symbols)  # markets (and filters) of its symbols only
        self.engine = MatchingEngine(
            self.info.specs, clock=self._now_ms, maker_fee=maker_fee, taker_fee=taker_fee, listener=self
        )
        self.account = self.engine.add_account(ACCOUNT, balance)
        self.waiting = 0  # requests held by the latency model
        self._diffs: dict[str, DepthDiff] = {}
        for sym in self.symbols:
            self.engine.share_book(sym, book_of(sym))

    def _now_ms(self) -> int:
        return self.now_ns() // 1_000_000

    # ------------------------------------------------------------------ market (bus handlers)

    def attach(self) -> None:
        sub = self.bus.subscribe
        for sym in self.symbols:
            sub(DepthDiff, self.on_diff, symbol=sym)
            sub(BookUpdate, self.on_book, symbol=sym)
            sub(BookStatus, self.on_book_status, symbol=sym)
            sub(Trade, self.on_trade, symbol=sym)
            sub(MarkPrice, self.on_mark, symbol=sym)

    def on_diff(self, d: DepthDiff) -> None:
        self._diffs[d.symbol] = d  # applied once the sync shows it applied it (on_book)

    def on_book(self, u: BookUpdate) -> None:
        d = self._diffs.get(u.symbol)
        if d is not None and d.final_id == u.update_id:
            del self._diffs[u.symbol]
            self.engine.on_depth_applied(u.symbol, d.bids, d.asks)

    def on_book_status(self, s: BookStatus) -> None:
        if s.state is BookState.VALID:
            self.engine.on_book_reloaded(s.symbol)

    def on_trade(self, t: Trade) -> None:
        self.engine.on_trade(t.symbol, t.price, t.qty, t.taker_side is Side.SELL)

    def on_mark(self, mp: MarkPrice) -> None:
        self.engine.on_mark(mp.symbol, mp.mark_price, mp.funding_rate)

    # ------------------------------------------------------------------ user stream (matching listener)

    def start(self) -> None:
        """The user stream is up; the first account snapshot; periodic snapshots from now on."""
        now = self.now_ns()
        self.bus.publish(FeedStatus(connection=self.user_stream, connected=True, ts_ms=now // 1_000_000, recv_ns=now))
        self._snapshot()

    def _snapshot(self) -> None:
        self.publish_account(self.symbols)
        self.clock.call_later(self.account_interval_s, self._snapshot)

    def on_order(self, account: Account, order: Order, exec_type: ExecType, fill: Execution | None) -> None:
        now = self.now_ns()
        publish = self.bus.publish
        publish(self._update(order, now))
        if fill is not None:
            publish(Fill(
                ts_ms=fill.time_ms, recv_ns=now, client_order_id=fill.client_order_id, symbol=fill.symbol,
                side=Side(fill.side), qty=fill.qty, price=fill.price, fee=fill.commission, fee_asset=ASSET,
                maker=fill.maker, realized_pnl=fill.realized_pnl, trade_id=fill.trade_id,
                exchange_order_id=fill.order_id, liquidation=order.type == "LIQUIDATION",
            ))

    def on_balance(self, account: Account, reason: str, symbols: list[str]) -> None:
        self.publish_account(symbols)

    def publish_account(self, symbols: Sequence[str]) -> None:
        """Position of each of ``symbols``, the USDT balance and the NAV, as the exchange has them now."""
        now = self.now_ns()
        now_ms = now // 1_000_000
        engine, acct = self.engine, self.account
        publish = self.bus.publish
        for sym in symbols:
            pos = acct.position(sym)
            publish(Position(
                ts_ms=now_ms, recv_ns=now, symbol=sym, qty=pos.amount, entry_price=pos.entry_price,
                unrealized_pnl=engine.unrealized(sym, pos), mark_price=engine.mark_price(sym),
            ))
        wallet, upnl, _, _ = engine.totals(ACCOUNT)
        publish(Balance(ts_ms=now_ms, recv_ns=now, asset=ASSET, wallet_balance=wallet, cross_wallet_balance=wallet))
        publish(Nav(ts_ms=now_ms, recv_ns=now, nav=wallet + upnl, wallet_balance=wallet, unrealized_pnl=upnl,
                    source="sim"))

    @staticmethod
    def _update(order: Order, now_ns: int) -> OrderUpdate:
        return OrderUpdate(
            ts_ms=order.update_ms, recv_ns=now_ns, client_order_id=order.client_order_id, symbol=order.symbol,
            status=OrderStatus(order.status), side=Side(order.side), type=OrderType(order.orig_type),
            exchange_order_id=order.order_id, qty=order.quantity, price=order.price, filled_qty=order.filled,
            avg_price=order.avg_price, reduce_only=order.reduce_only, stop_price=order.stop_price,
        )

    # ------------------------------------------------------------------ latency

    async def _arrive(self) -> None:
        """Hold a request until ``latency_s`` of event time has passed (no-op without latency)."""
        if self.latency_s <= 0.0:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def release() -> None:
            self.waiting -= 1
            if not fut.done():
                fut.set_result(None)

        self.waiting += 1
        self.clock.call_later(self.latency_s, release)
        await fut

    # ------------------------------------------------------------------ Venue

    async def load_filters(self) -> dict[str, SymbolFilters]:
        return {e["symbol"]: parse_symbol(e) for e in self.info.doc["symbols"] if e["symbol"] in self.info.specs}

    async def place(self, req: OrderRequest) -> OrderAck:
        await self._arrive()
        otype = _ORDER_TYPES.get(req.type)
        if otype is None:
            raise Rejected(f"order type {req.type} is not simulated", code=-1116, http_status=400)
        try:
            order = self.engine.place(ACCOUNT, NewOrder(
                symbol=req.symbol, side=req.side.value, type=otype, quantity=req.qty, price=req.price,
                time_in_force=req.tif.value, reduce_only=req.reduce_only and not req.close_position,
                client_order_id=req.client_order_id, stop_price=req.stop_price,
                working_type="MARK_PRICE" if req.stop_on_mark else "CONTRACT_PRICE",
                close_position=req.close_position,
            ))
        except xerr.Reject as exc:
            raise _venue_error(exc) from None
        return OrderAck(
            client_order_id=order.client_order_id, symbol=order.symbol, status=OrderStatus(order.status),
            exchange_order_id=order.order_id, filled_qty=order.filled, avg_price=order.avg_price,
            ts_ms=order.update_ms,
        )

    def _find(self, symbol: str, client_order_id: str) -> Order | None:
        try:
            return self.engine.get_order(ACCOUNT, symbol, None, client_order_id)
        except xerr.Reject:
            return None

    async def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        await self._arrive()
        order = self._find(symbol, client_order_id)
        if order is None:
            raise OrderNotFound("Unknown order sent.", code=-2011, http_status=400)
        if order.is_open:
            self.engine.cancel(ACCOUNT, symbol, order.order_id, None)
        return self._update(order, self.now_ns())

    async def query(self, symbol: str, client_order_id: str) -> OrderUpdate | None:
        await self._arrive()
        order = self._find(symbol, client_order_id)
        return None if order is None else self._update(order, self.now_ns())

    async def cancel_all(self, symbol: str) -> int:
        await self._arrive()
        return len(self.engine.cancel_all(ACCOUNT, symbol))

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        """The dead-man switch has nothing to guard in-process (the process is the exchange): recorded only."""
        await self._arrive()
        self.countdowns[symbol] = countdown_ms

    async def close(self) -> None:
        """Nothing to release: the matching engine lives in this process."""

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        await self._arrive()
        now = self.now_ns()
        return [self._update(o, now) for o in self.engine.open_orders(ACCOUNT, symbol)]

    async def positions(self, symbols: Sequence[str] | None = None) -> list[Position]:
        await self._arrive()
        now = self.now_ns()
        engine, acct = self.engine, self.account
        out = []
        for sym in symbols if symbols is not None else list(acct.positions):
            pos = acct.position(sym)
            out.append(Position(
                ts_ms=now // 1_000_000, recv_ns=now, symbol=sym, qty=pos.amount, entry_price=pos.entry_price,
                unrealized_pnl=engine.unrealized(sym, pos), mark_price=engine.mark_price(sym),
            ))
        return out

    async def recent_fills(self, symbol: str, since_ms: int) -> list[Fill]:
        await self._arrive()
        now = self.now_ns()
        return [
            Fill(ts_ms=f.time_ms, recv_ns=now, client_order_id=f.client_order_id, symbol=f.symbol,
                 side=Side(f.side), qty=f.qty, price=f.price, fee=f.commission, fee_asset=ASSET, maker=f.maker,
                 realized_pnl=f.realized_pnl, trade_id=f.trade_id, exchange_order_id=f.order_id)
            for f in self.account.fills
            if f.symbol == symbol and f.time_ms >= since_ms
        ]
