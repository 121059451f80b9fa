"""The matching engine of the local exchange: client orders against a replayed market. No sockets.

Owns: accounts (USDT wallet, one-way positions per symbol, leverage), client orders and their
life cycle (NEW -> PARTIALLY_FILLED -> FILLED | CANCELED | EXPIRED), the filters and margin checks
that reject an order with Binance's codes, fills, maker/taker fees, realized and unrealized PnL,
funding, maintenance margin, liquidation prices and liquidations (with the insurance fund). Used
by the REST server and, in-process, by replay's simulated venue.

Fill model (deterministic: the same market and the same requests give the same fills):
- a taker walks the market book from the best level, never past its limit price; liquidity it took
  stays "taken" at that level until the market next updates the level;
- a resting order joins the back of the queue at its price (queue ahead = the market's quantity
  there); the queue shrinks when the level shrinks (cancels ahead of us) and when market trades at
  its price consume it; trades at its price beyond the queue fill it (maker, at its price);
- a market trade through its price fills it completely at its price (maker); market liquidity
  that appears across it (the opposite side moving through its price) fills it at its price as
  a maker, up to that liquidity, which is then taken.
Client orders never match each other, and they do not change the market book others see.

Conditional orders (STOP_MARKET, TAKE_PROFIT_MARKET with ``stop_price``, ``working_type``
MARK_PRICE or CONTRACT_PRICE = last trade, ``reduce_only`` or ``close_position``) rest
untriggered outside the book (status NEW). One whose stop the working price has already crossed
is refused (-2021). When the working price crosses the stop (checked on every mark, trade, and
book change while the working price falls back to the mid) it becomes a MARKET order (``type``
MARKET, ``orig_type`` kept) and executes at once; a closing one never opens or flips a position,
takes the whole position when ``close_position``, and expires when there is nothing to close.

Liquidation (one-way mode, cross margin, USDT only): an account is liquidated when its margin
balance (wallet + unrealized PnL of all positions at their marks) falls to or below its maintenance
margin (sum of |amount| x mark x the symbol's maintenance margin rate: one bracket, maintenance
amount 0). It is checked whenever a mark changes: every ``on_mark``, every funding settlement, and
every book change or trade while a symbol's mark falls back to the mid / last trade. Liquidating
cancels all the account's open orders first (normal CANCELED events), then closes each position
with a LIQUIDATION order (client id ``autoclose-<engine ms>``, IOC, reduce-only, taker) that fills
at once at the mark (NEW, then execution type CALCULATED, status FILLED). Simplification vs
Binance: Binance sends the position to the liquidation engine at its bankruptcy price and then
trades it in the book; here it is filled whole at the mark, no book liquidity is consumed, and no
ADL happens. The fill's commission is the taker fee plus the symbol's clearance fee
(``liquidation_fee`` x notional) but never more than the wallet holds after the realized PnL; a loss
beyond the wallet (a mark that gapped past the bankruptcy price) is absorbed by
``insurance_fund``, so the wallet never goes below zero.

Must never: do I/O, read the wall clock (time comes from the ``clock`` given), or log per event.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Literal, Protocol

import msgspec

from hedge.events import Level
from hedge.exchange import errors
from hedge.exchange.symbols import SymbolSpec
from hedge.feeds.book import OrderBook

Side = Literal["BUY", "SELL"]
OrderType = Literal["LIMIT", "MARKET", "STOP_MARKET", "TAKE_PROFIT_MARKET", "LIQUIDATION"]
WorkingType = Literal["MARK_PRICE", "CONTRACT_PRICE"]
CONDITIONAL: tuple[str, ...] = ("STOP_MARKET", "TAKE_PROFIT_MARKET")
TimeInForce = Literal["GTC", "IOC", "FOK", "GTX"]
ExecType = Literal["NEW", "TRADE", "CANCELED", "EXPIRED", "CALCULATED"]  # CALCULATED: a liquidation fill

EPS = 1e-9
MAX_HISTORY = 100_000  # closed orders and fills kept per account (older ones are forgotten)
DEFAULT_LEVERAGE = 20


class OrderRequest(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    side: Side
    type: OrderType
    quantity: float
    price: float = 0.0
    time_in_force: TimeInForce = "GTC"
    reduce_only: bool = False
    client_order_id: str = ""
    stop_price: float = 0.0  # STOP_MARKET / TAKE_PROFIT_MARKET
    working_type: WorkingType = "CONTRACT_PRICE"
    close_position: bool = False  # close whatever the position is at trigger (quantity 0)

    def closes_only_request(self) -> bool:
        return self.reduce_only or self.close_position


class Order(msgspec.Struct, kw_only=True):
    order_id: int
    client_order_id: str
    account: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price: float
    quantity: float
    reduce_only: bool
    time_ms: int
    update_ms: int
    status: str = "NEW"
    filled: float = 0.0
    cum_quote: float = 0.0
    queue_ahead: float = 0.0
    orig_type: OrderType = "LIMIT"  # a triggered stop keeps its original type here; ``type`` is MARKET
    stop_price: float = 0.0
    working_type: WorkingType = "CONTRACT_PRICE"
    close_position: bool = False

    @property
    def untriggered(self) -> bool:
        """A conditional order still waiting for its trigger (an algo order, not in the matching engine)."""
        return self.type in CONDITIONAL

    @property
    def closes_only(self) -> bool:
        """Reduce-only semantics: never opens or flips a position."""
        return self.reduce_only or self.close_position

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled

    @property
    def avg_price(self) -> float:
        return self.cum_quote / self.filled if self.filled > 0 else 0.0

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    trade_id: int
    order_id: int
    client_order_id: str
    symbol: str
    side: Side
    price: float
    qty: float
    maker: bool
    commission: float
    realized_pnl: float
    time_ms: int


class Position(msgspec.Struct, kw_only=True):
    amount: float = 0.0  # signed: > 0 long
    entry_price: float = 0.0
    leverage: int = DEFAULT_LEVERAGE
    realized: float = 0.0  # accumulated realized PnL of this symbol
    update_ms: int = 0


class Account(msgspec.Struct, kw_only=True):
    key: str
    wallet: float
    positions: dict[str, Position] = msgspec.field(default_factory=dict)
    orders: dict[int, Order] = msgspec.field(default_factory=dict)  # every order, open or closed
    open_orders: dict[int, Order] = msgspec.field(default_factory=dict)  # NEW or PARTIALLY_FILLED
    open_by_client_id: dict[tuple[str, str], int] = msgspec.field(default_factory=dict)
    last_by_client_id: dict[tuple[str, str], int] = msgspec.field(default_factory=dict)
    fills: list[Fill] = msgspec.field(default_factory=list)

    def position(self, symbol: str) -> Position:
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = Position()
        return pos


class Listener(Protocol):
    """Receives every change the user-data stream reports."""

    def on_order(self, account: Account, order: Order, exec_type: ExecType, fill: Fill | None) -> None: ...

    def on_balance(self, account: Account, reason: str, symbols: list[str]) -> None: ...


class _Market:
    __slots__ = ("book", "funding_rate", "last_price", "mark", "taken_asks", "taken_bids")

    def __init__(self) -> None:
        self.book = OrderBook()
        self.taken_bids: dict[float, float] = {}
        self.taken_asks: dict[float, float] = {}
        self.mark = 0.0
        self.last_price = 0.0
        self.funding_rate = 0.0001


def _from_best(book: OrderBook, asks: bool) -> Iterator[Level]:
    """Levels of one side from the best outwards (the first few cheaply, the rest only if needed)."""
    top = book.asks if asks else book.bids
    first = top(16)
    yield from first
    if len(first) == 16:
        yield from top(1 << 30)[16:]


def mid_price(book: OrderBook) -> float | None:
    b, a = book.best_bid(), book.best_ask()
    return None if b is None or a is None else (b[0] + a[0]) / 2.0


def _on_tick(value: float, unit: float) -> bool:
    n = value / unit
    return abs(n - round(n)) < 1e-6


class MatchingEngine:
    def __init__(
        self,
        specs: dict[str, SymbolSpec],
        *,
        clock: Callable[[], int],
        maker_fee: float = 0.0002,
        taker_fee: float = 0.0005,
        listener: Listener | None = None,
    ) -> None:
        self.specs = specs
        self.clock = clock
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.listener = listener
        self.accounts: dict[str, Account] = {}
        self._markets: dict[str, _Market] = {}
        self._resting: dict[str, list[Order]] = {}
        self._stops: dict[str, list[Order]] = {}  # untriggered STOP_MARKET / TAKE_PROFIT_MARKET
        self.insurance_fund = 0.0  # clearance fees in, losses beyond a liquidated wallet out
        self._order_ids = itertools.count(1_000_001)
        self._trade_ids = itertools.count(1)

    # ----------------------------------------------------------------- accounts and market data

    def add_account(self, key: str, balance: float) -> Account:
        acct = self.accounts[key] = Account(key=key, wallet=balance)
        return acct

    def market(self, symbol: str) -> _Market:
        m = self._markets.get(symbol)
        if m is None:
            m = self._markets[symbol] = _Market()
            self._resting[symbol] = []
        return m

    def book(self, symbol: str) -> OrderBook:
        return self.market(symbol).book

    def mark_price(self, symbol: str) -> float:
        m = self.market(symbol)
        if m.mark > 0:
            return m.mark
        mid = mid_price(m.book)
        return mid if mid is not None else m.last_price

    def funding_rate(self, symbol: str) -> float:
        return self.market(symbol).funding_rate

    def on_snapshot(self, symbol: str, bids: list[Level], asks: list[Level]) -> None:
        self.market(symbol).book.apply_snapshot(bids, asks)
        self.on_book_reloaded(symbol)

    def on_depth(self, symbol: str, bids: list[Level], asks: list[Level]) -> None:
        self.market(symbol).book.apply(bids, asks)
        self.on_depth_applied(symbol, bids, asks)

    def share_book(self, symbol: str, book: OrderBook) -> None:
        """Match ``symbol`` against ``book``, kept by its owner (replay's simulated venue shares the
        engine's synced book): after each change call ``on_depth_applied`` / ``on_book_reloaded``
        instead of ``on_depth`` / ``on_snapshot``, so no diff is applied twice."""
        self.market(symbol).book = book
        self.on_book_reloaded(symbol)

    def on_book_reloaded(self, symbol: str) -> None:
        """The whole book was replaced (a snapshot): no liquidity is taken any more."""
        m = self.market(symbol)
        m.taken_bids.clear()
        m.taken_asks.clear()
        self._after_book(symbol, m)

    def on_depth_applied(self, symbol: str, bids: list[Level], asks: list[Level]) -> None:
        """A diff is in the book: its levels' taken liquidity is forgotten, resting orders re-checked."""
        m = self.market(symbol)
        if m.taken_bids:
            for px, _ in bids:
                m.taken_bids.pop(px, None)
        if m.taken_asks:
            for px, _ in asks:
                m.taken_asks.pop(px, None)
        self._after_book(symbol, m)

    def on_mark(self, symbol: str, mark: float, funding_rate: float | None = None) -> None:
        m = self.market(symbol)
        m.mark = mark
        if funding_rate is not None:
            m.funding_rate = funding_rate
        if self._stops.get(symbol):
            self._check_stops(symbol)
        self._check_liquidations(symbol)

    def on_trade(self, symbol: str, price: float, qty: float, buyer_is_maker: bool) -> None:
        """A market trade: buyer_is_maker means a seller hit the bids (resting BUYs may fill)."""
        m = self.market(symbol)
        m.last_price = price
        if self._stops.get(symbol):
            self._check_stops(symbol)
        if m.mark <= 0:
            self._check_liquidations(symbol)  # the mark falls back to the mid / this trade
        resting = self._resting.get(symbol)
        if not resting:
            return
        side: Side = "BUY" if buyer_is_maker else "SELL"
        left = qty
        for order in sorted(
            (o for o in resting if o.side == side), key=lambda o: (-o.price if side == "BUY" else o.price, o.order_id)
        ):
            if not order.is_open:
                continue
            through = order.price > price if side == "BUY" else order.price < price
            if through:
                self._fill(order, order.remaining, order.price, maker=True)
            elif abs(order.price - price) < EPS and left > EPS:
                consumed = min(order.queue_ahead, left)
                order.queue_ahead -= consumed
                left -= consumed
                if left > EPS and order.queue_ahead <= EPS:
                    q = min(order.remaining, left)
                    left -= q
                    self._fill(order, q, order.price, maker=True)
        self._prune(symbol)

    def settle_funding(self, symbol: str) -> None:
        """Funding payment at the mark: longs pay shorts when the rate is positive."""
        mark, rate = self.mark_price(symbol), self.funding_rate(symbol)
        for acct in self.accounts.values():
            pos = acct.positions.get(symbol)
            if pos is None or abs(pos.amount) < EPS:
                continue
            acct.wallet -= pos.amount * mark * rate
            if self.listener is not None:
                self.listener.on_balance(acct, "FUNDING_FEE", [symbol])
        self._check_liquidations(symbol)

    # ------------------------------------------------------------------------------- orders

    def place(self, account: str, req: OrderRequest) -> Order:
        acct = self.accounts[account]
        spec = self.specs.get(req.symbol)
        if spec is None:
            raise errors.bad_symbol()
        self._validate(acct, spec, req)
        if req.type in CONDITIONAL:
            return self._place_conditional(acct, req)
        m = self.market(req.symbol)
        taken = m.taken_asks if req.side == "BUY" else m.taken_bids
        limit = req.price if req.type == "LIMIT" else math.inf if req.side == "BUY" else 0.0
        crosses = self._available(m.book, taken, limit, req.side, first_only=True) > EPS
        if req.time_in_force == "GTX" and crosses:
            raise errors.post_only_rejected()
        if req.type == "MARKET":
            self._check_market_band(spec, m.book, taken, req)
        if req.time_in_force == "FOK" and self._available(m.book, taken, limit, req.side) < req.quantity - EPS:
            raise errors.fok_rejected()
        self._check_margin(acct, req)
        now = self.clock()
        order_id = next(self._order_ids)
        client_id = req.client_order_id or f"autoclientid{order_id}"  # Binance generates one when absent
        order = Order(
            order_id=order_id,
            client_order_id=client_id,
            account=account,
            symbol=req.symbol,
            side=req.side,
            type=req.type,
            orig_type=req.type,
            time_in_force=req.time_in_force if req.type == "LIMIT" else "GTC",
            price=req.price if req.type == "LIMIT" else 0.0,
            quantity=req.quantity,
            reduce_only=req.reduce_only,
            time_ms=now,
            update_ms=now,
        )
        if len(acct.orders) > 2 * MAX_HISTORY:
            self._forget_history(acct)
        acct.orders[order.order_id] = order
        acct.last_by_client_id[(req.symbol, client_id)] = order.order_id
        acct.open_by_client_id[(req.symbol, client_id)] = order.order_id
        acct.open_orders[order.order_id] = order
        self._emit(order, "NEW", None)
        if crosses:
            self._take(order, m.book, taken, limit)
        if order.is_open:
            if order.type == "MARKET" or order.time_in_force in ("IOC", "FOK"):
                self._close(order, "EXPIRED")
            else:
                order.queue_ahead = self._level_qty(m.book, order)
                self._resting[order.symbol].append(order)
        return order

    def working_price(self, symbol: str, working_type: WorkingType) -> float:
        """The price a conditional order is triggered by: the mark, or the last trade (mid before any)."""
        if working_type == "MARK_PRICE":
            return self.mark_price(symbol)
        m = self.market(symbol)
        if m.last_price > 0:
            return m.last_price
        mid = mid_price(m.book)
        return mid if mid is not None else 0.0

    @staticmethod
    def _triggered(order_side: Side, otype: str, stop: float, px: float) -> bool:
        """STOP_MARKET: BUY when px >= stop, SELL when px <= stop; TAKE_PROFIT_MARKET the reverse."""
        if px <= 0:
            return False
        rising = (order_side == "BUY") == (otype == "STOP_MARKET")
        return px >= stop - EPS if rising else px <= stop + EPS

    def _place_conditional(self, acct: Account, req: OrderRequest) -> Order:
        if self._triggered(req.side, req.type, req.stop_price, self.working_price(req.symbol, req.working_type)):
            raise errors.would_immediately_trigger()
        now = self.clock()
        order_id = next(self._order_ids)
        client_id = req.client_order_id or f"autoclientid{order_id}"
        order = Order(
            order_id=order_id, client_order_id=client_id, account=acct.key, symbol=req.symbol, side=req.side,
            type=req.type, orig_type=req.type, time_in_force="GTC", price=0.0, quantity=req.quantity,
            reduce_only=req.reduce_only, time_ms=now, update_ms=now, stop_price=req.stop_price,
            working_type=req.working_type, close_position=req.close_position,
        )
        if len(acct.orders) > 2 * MAX_HISTORY:
            self._forget_history(acct)
        acct.orders[order_id] = order
        acct.last_by_client_id[(req.symbol, client_id)] = order_id
        acct.open_by_client_id[(req.symbol, client_id)] = order_id
        acct.open_orders[order_id] = order
        self._stops.setdefault(req.symbol, []).append(order)
        self._emit(order, "NEW", None)
        return order

    def _check_stops(self, symbol: str) -> None:
        """Trigger every open conditional order of ``symbol`` whose working price crossed its stop."""
        stops = self._stops[symbol]
        prices = {wt: self.working_price(symbol, wt) for wt in ("MARK_PRICE", "CONTRACT_PRICE")}
        fired = [o for o in stops if o.is_open and self._triggered(o.side, o.orig_type, o.stop_price,
                                                                   prices[o.working_type])]
        self._stops[symbol] = [o for o in stops if o.is_open and o not in fired]
        for order in fired:
            self._trigger(order)

    def _trigger(self, order: Order) -> None:
        """A stop fired: it becomes a MARKET order (Binance: o=MARKET, ot=<original type>) and executes
        at once against the book; a closing order finds no position to close -> EXPIRED."""
        acct = self.accounts[order.account]
        pos = acct.position(order.symbol).amount
        reducible = abs(pos) if abs(pos) >= EPS and (pos > 0) != (order.side == "BUY") else 0.0
        order.type = "MARKET"
        order.update_ms = self.clock()
        if order.close_position:
            order.quantity = reducible
        if order.closes_only and reducible <= EPS:
            self._close(order, "EXPIRED")
            return
        self._emit(order, "NEW", None)
        m = self.market(order.symbol)
        taken = m.taken_asks if order.side == "BUY" else m.taken_bids
        self._take(order, m.book, taken, math.inf if order.side == "BUY" else 0.0)
        if order.is_open:
            self._close(order, "EXPIRED")

    def cancel(self, account: str, symbol: str, order_id: int | None, client_order_id: str | None) -> Order:
        order = self._find(self.accounts[account], symbol, order_id, client_order_id)
        if order is None or not order.is_open:
            raise errors.cancel_rejected()
        self._close(order, "CANCELED")
        self._prune(symbol)
        return order

    def cancel_all(self, account: str, symbol: str, *, algo: bool | None = None) -> list[Order]:
        """Cancel the open orders of ``symbol``: all, or only the untriggered conditional ones
        (``algo=True``, Binance's algoOpenOrders) or only the others (``algo=False``)."""
        acct = self.accounts[account]
        out = [o for o in acct.open_orders.values()
               if o.symbol == symbol and (algo is None or o.untriggered == algo)]
        for order in out:
            self._close(order, "CANCELED")
        self._prune(symbol)
        return out

    def get_order(self, account: str, symbol: str, order_id: int | None, client_order_id: str | None) -> Order:
        order = self._find(self.accounts[account], symbol, order_id, client_order_id)
        if order is None:
            raise errors.no_such_order()
        return order

    def open_orders(self, account: str, symbol: str | None = None, *, algo: bool | None = None) -> list[Order]:
        return [o for o in self.accounts[account].open_orders.values()
                if (symbol is None or o.symbol == symbol) and (algo is None or o.untriggered == algo)]

    # ------------------------------------------------------------------------- account maths

    def unrealized(self, symbol: str, pos: Position) -> float:
        if abs(pos.amount) < EPS:
            return 0.0
        return pos.amount * (self.mark_price(symbol) - pos.entry_price)

    def position_margin(self, symbol: str, pos: Position) -> float:
        return abs(pos.amount) * self.mark_price(symbol) / pos.leverage

    def order_margin(self, order: Order) -> float:
        if order.reduce_only:
            return 0.0
        lev = self.accounts[order.account].position(order.symbol).leverage
        return order.remaining * order.price / lev

    def totals(self, account: str) -> tuple[float, float, float, float]:
        """(wallet, unrealized PnL, position initial margin, open-order initial margin)."""
        acct = self.accounts[account]
        upnl = sum(self.unrealized(s, p) for s, p in acct.positions.items())
        pos_im = sum(self.position_margin(s, p) for s, p in acct.positions.items())
        ord_im = sum(self.order_margin(o) for o in acct.open_orders.values())
        return acct.wallet, upnl, pos_im, ord_im

    def available(self, account: str) -> float:
        wallet, upnl, pos_im, ord_im = self.totals(account)
        return wallet + min(upnl, 0.0) - pos_im - ord_im

    def maint_margin(self, symbol: str, pos: Position) -> float:
        """Maintenance margin of one position: |amount| x mark x the symbol's rate (one bracket)."""
        return abs(pos.amount) * self.mark_price(symbol) * self.specs[symbol].maint_margin_rate

    def margin_health(self, account: str) -> tuple[float, float]:
        """(margin balance = wallet + unrealized PnL, total maintenance margin) of the cross account."""
        balance, maint, _ = self._health(self.accounts[account])
        return balance, maint

    def _health(self, acct: Account) -> tuple[float, float, bool]:
        """``margin_health`` with each mark read once, and whether every position has a price."""
        balance, maint, priced = acct.wallet, 0.0, True
        for s, p in acct.positions.items():
            if abs(p.amount) >= EPS:
                mark = self.mark_price(s)
                priced = priced and mark > 0
                balance += p.amount * (mark - p.entry_price)
                maint += abs(p.amount) * mark * self.specs[s].maint_margin_rate
        return balance, maint, priced

    def liquidation_price(self, account: str, symbol: str) -> float:
        """The mark of ``symbol`` at which the account would be liquidated, the other positions and
        their marks held fixed; 0 when flat or when no positive price liquidates it. Binance's
        cross-margin one-way formula with maintenance amount 0:
        ``LP = (WB - TMM1 + UPNL1 - side x size x entry) / (size x MMR - side x size)``
        (WB wallet, TMM1 / UPNL1 maintenance margin / unrealized PnL of the other positions,
        side +1 long / -1 short, size = |amount|)."""
        acct = self.accounts[account]
        pos = acct.positions.get(symbol)
        if pos is None or abs(pos.amount) < EPS:
            return 0.0
        others_mm = others_upnl = 0.0
        for s, p in acct.positions.items():
            if s != symbol and abs(p.amount) >= EPS:
                others_mm += self.maint_margin(s, p)
                others_upnl += self.unrealized(s, p)
        side = 1.0 if pos.amount > 0 else -1.0
        size = abs(pos.amount)
        mmr = self.specs[symbol].maint_margin_rate
        price = (acct.wallet - others_mm + others_upnl - side * size * pos.entry_price) / (size * mmr - side * size)
        return max(0.0, price)

    # ---------------------------------------------------------------------------- liquidation

    def _check_liquidations(self, symbol: str) -> None:
        """Liquidate every account holding ``symbol`` whose margin balance is at or below its
        maintenance margin (the mark of ``symbol`` just moved). An account holding a symbol with no
        price at all yet (no mark, no book, no trade) is not judged."""
        for acct in self.accounts.values():
            pos = acct.positions.get(symbol)
            if pos is None or abs(pos.amount) < EPS:
                continue
            balance, maint, priced = self._health(acct)
            if priced and balance <= maint + EPS:
                self._liquidate(acct)

    def _liquidate(self, acct: Account) -> None:
        """Cancel every open order of the account, then close each position at its mark."""
        symbols = {o.symbol for o in acct.open_orders.values()}
        for order in list(acct.open_orders.values()):
            self._close(order, "CANCELED")
        for symbol in symbols:
            self._prune(symbol)
        now = self.clock()
        for symbol, pos in list(acct.positions.items()):
            if abs(pos.amount) < EPS:
                continue
            order_id = next(self._order_ids)
            mark = self.mark_price(symbol)
            order = Order(
                order_id=order_id, client_order_id=f"autoclose-{now}", account=acct.key, symbol=symbol,
                side="SELL" if pos.amount > 0 else "BUY", type="LIQUIDATION", orig_type="LIQUIDATION",
                time_in_force="IOC", price=mark, quantity=abs(pos.amount), reduce_only=True,
                time_ms=now, update_ms=now,
            )
            if len(acct.orders) > 2 * MAX_HISTORY:
                self._forget_history(acct)
            acct.orders[order_id] = order
            acct.last_by_client_id[(symbol, order.client_order_id)] = order_id
            acct.open_by_client_id[(symbol, order.client_order_id)] = order_id
            acct.open_orders[order_id] = order
            self._emit(order, "NEW", None)
            self._fill(order, order.quantity, mark, maker=False)

    def _liquidation_commission(self, acct: Account, spec: SymbolSpec, notional: float, realized: float,
                                taker_fee: float) -> float:
        """Commission of a liquidation fill: taker fee + clearance fee, at most what the wallet holds
        after ``realized``; the insurance fund takes the clearance fee and covers a loss beyond the
        wallet (the wallet is raised by that loss first, so it ends at zero, never below)."""
        after = acct.wallet + realized
        charged = min(taker_fee + notional * spec.liquidation_fee, max(0.0, after))
        self.insurance_fund += max(0.0, charged - taker_fee)
        if after < 0:
            self.insurance_fund += after
            acct.wallet -= after
        return charged

    # ------------------------------------------------------------------------------ internals

    def _validate(self, acct: Account, spec: SymbolSpec, req: OrderRequest) -> None:
        if req.type in CONDITIONAL:
            self._validate_conditional(acct, spec, req)
            return
        if req.quantity <= 0:
            raise errors.qty_not_positive()
        if req.type == "LIMIT":
            if req.price <= 0:
                raise errors.price_not_positive()
            if req.price < spec.min_price - EPS:
                raise errors.price_below_min()
            if req.price > spec.max_price + EPS:
                raise errors.price_above_max()
            if not _on_tick(req.price, spec.tick):
                raise errors.price_not_tick()
        lo, hi = (spec.min_qty, spec.max_qty) if req.type == "LIMIT" else (spec.market_min_qty, spec.market_max_qty)
        if req.quantity < lo - EPS:
            raise errors.qty_below_min()
        if req.quantity > hi + EPS:
            raise errors.qty_above_max()
        if not _on_tick(req.quantity, spec.step):
            raise errors.qty_not_step()
        if req.client_order_id and (req.symbol, req.client_order_id) in acct.open_by_client_id:
            raise errors.duplicate_client_id()
        if req.reduce_only:
            pos = acct.position(req.symbol).amount
            if abs(pos) < EPS or (pos > 0) == (req.side == "BUY"):
                raise errors.reduce_only_rejected()
        mark = self.mark_price(req.symbol)
        if req.type == "LIMIT" and mark > 0:
            if req.side == "BUY" and req.price > mark * spec.mult_up + EPS:
                raise errors.limit_price_too_high(
                    spec.fmt_price(math.floor(mark * spec.mult_up / spec.tick) * spec.tick)
                )
            if req.side == "SELL" and req.price < mark * spec.mult_down - EPS:
                raise errors.limit_price_too_low(
                    spec.fmt_price(math.ceil(mark * spec.mult_down / spec.tick) * spec.tick)
                )
        if not req.reduce_only:
            px = req.price if req.type == "LIMIT" else mark
            if px * req.quantity < spec.min_notional - EPS:
                raise errors.min_notional(spec.min_notional_text)
        if sum(1 for o in self._resting.get(req.symbol, ()) if o.account == acct.key) >= spec.max_num_orders:
            raise errors.max_open_orders()

    def _validate_conditional(self, acct: Account, spec: SymbolSpec, req: OrderRequest) -> None:
        """A stop's checks at placement; its position is only looked at when it triggers."""
        if req.stop_price <= 0:
            raise errors.price_not_positive()
        if not _on_tick(req.stop_price, spec.tick):
            raise errors.price_not_tick()
        if req.close_position:
            if req.quantity != 0:
                raise errors.not_required("quantity")
        else:
            if req.quantity <= 0:
                raise errors.qty_not_positive()
            if req.quantity < spec.market_min_qty - EPS:
                raise errors.qty_below_min()
            if req.quantity > spec.market_max_qty + EPS:
                raise errors.qty_above_max()
            if not _on_tick(req.quantity, spec.step):
                raise errors.qty_not_step()
        if req.client_order_id and (req.symbol, req.client_order_id) in acct.open_by_client_id:
            raise errors.duplicate_client_id()
        if not req.closes_only_request() and req.stop_price * req.quantity < spec.min_notional - EPS:
            raise errors.min_notional(spec.min_notional_text)

    @staticmethod
    def _level_qty(book: OrderBook, order: Order) -> float:
        return book.bid_qty(order.price) if order.side == "BUY" else book.ask_qty(order.price)

    def _check_market_band(
        self, spec: SymbolSpec, book: OrderBook, taken: dict[float, float], req: OrderRequest
    ) -> None:
        best = next((px for px, q in _from_best(book, req.side == "BUY") if q - taken.get(px, 0.0) > EPS), None)
        mark = self.mark_price(req.symbol)
        if best is None or mark <= 0:
            raise errors.percent_price_market()
        if (req.side == "BUY" and best > mark * spec.mult_up) or (req.side == "SELL" and best < mark * spec.mult_down):
            raise errors.percent_price_market()

    def _check_margin(self, acct: Account, req: OrderRequest) -> None:
        if req.reduce_only or req.close_position:
            return
        pos = acct.position(req.symbol)
        signed = req.quantity if req.side == "BUY" else -req.quantity
        opening = req.quantity if pos.amount * signed >= 0 else max(0.0, req.quantity - abs(pos.amount))
        if opening <= EPS:
            return
        px = req.price if req.type == "LIMIT" else self.mark_price(req.symbol)
        need = opening * px / pos.leverage + opening * px * self.taker_fee
        if need > self.available(acct.key) + EPS:
            raise errors.margin_insufficient()

    @staticmethod
    def _available(
        book: OrderBook, taken: dict[float, float], limit: float, order_side: Side, first_only: bool = False
    ) -> float:
        total = 0.0
        for px, level in _from_best(book, order_side == "BUY"):
            if (order_side == "BUY" and px > limit + EPS) or (order_side == "SELL" and px < limit - EPS):
                break
            q = level - taken.get(px, 0.0)
            if q > EPS:
                total += q
                if first_only:
                    break
        return total

    def _take(
        self, order: Order, book: OrderBook, taken: dict[float, float], limit: float, *, maker: bool = False
    ) -> None:
        """Fill ``order`` against the opposite side up to ``limit``: at each level's price as a taker,
        or at the order's own price as a maker (market liquidity that arrived across a resting order)."""
        for px, level in _from_best(book, order.side == "BUY"):
            if order.remaining <= EPS or not order.is_open:
                break
            if (order.side == "BUY" and px > limit + EPS) or (order.side == "SELL" and px < limit - EPS):
                break
            q = min(level - taken.get(px, 0.0), order.remaining)
            if q <= EPS:
                continue
            taken[px] = taken.get(px, 0.0) + q
            self._fill(order, q, order.price if maker else px, maker=maker)

    def _after_book(self, symbol: str, m: _Market) -> None:
        if self._stops.get(symbol) and (m.mark <= 0 or m.last_price <= 0):
            self._check_stops(symbol)  # a working price that falls back to the mid moved
        self._match_resting(symbol, m)
        if m.mark <= 0:
            self._check_liquidations(symbol)  # the mark falls back to the mid

    def _match_resting(self, symbol: str, m: _Market) -> None:
        resting = self._resting.get(symbol)
        if not resting:
            return
        bid, ask = m.book.best_bid(), m.book.best_ask()
        for order in list(resting):
            if not order.is_open:
                continue
            order.queue_ahead = min(order.queue_ahead, self._level_qty(m.book, order))
            crossed = (
                ask is not None and ask[0] <= order.price + EPS
                if order.side == "BUY"
                else bid is not None and bid[0] >= order.price - EPS
            )
            if crossed:
                taken = m.taken_asks if order.side == "BUY" else m.taken_bids
                self._take(order, m.book, taken, order.price, maker=True)
        self._prune(symbol)

    def _prune(self, symbol: str) -> None:
        resting = self._resting.get(symbol)
        if resting and any(not o.is_open for o in resting):
            self._resting[symbol] = [o for o in resting if o.is_open]

    def _fill(self, order: Order, qty: float, price: float, *, maker: bool) -> None:
        acct = self.accounts[order.account]
        pos = acct.position(order.symbol)
        if order.closes_only:
            reducible = abs(pos.amount) if (pos.amount > 0) != (order.side == "BUY") else 0.0
            qty = min(qty, reducible)
            if qty <= EPS:
                self._close(order, "EXPIRED")
                return
        spec = self.specs[order.symbol]
        qty = round(qty / spec.step) * spec.step
        if qty <= EPS:
            return
        now = self.clock()
        signed = qty if order.side == "BUY" else -qty
        realized = 0.0
        if pos.amount * signed >= 0:
            new_amt = pos.amount + signed
            pos.entry_price = (pos.amount * pos.entry_price + signed * price) / new_amt
            pos.amount = new_amt
        else:
            closing = min(qty, abs(pos.amount))
            realized = closing * (price - pos.entry_price) * (1.0 if pos.amount > 0 else -1.0)
            new_amt = pos.amount + signed
            if abs(new_amt) < EPS:
                pos.amount, pos.entry_price = 0.0, 0.0
            elif (new_amt > 0) != (pos.amount > 0):
                pos.amount, pos.entry_price = new_amt, price
            else:
                pos.amount = new_amt
        pos.update_ms = now
        pos.realized += realized
        fee = qty * price * (self.maker_fee if maker else self.taker_fee)
        liquidation = order.type == "LIQUIDATION"
        if liquidation:
            fee = self._liquidation_commission(acct, spec, qty * price, realized, fee)
        acct.wallet += realized - fee
        order.filled += qty
        order.cum_quote += qty * price
        order.update_ms = now
        fill = Fill(
            trade_id=next(self._trade_ids),
            order_id=order.order_id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            maker=maker,
            commission=fee,
            realized_pnl=realized,
            time_ms=now,
        )
        acct.fills.append(fill)
        if order.remaining <= EPS:
            order.status = "FILLED"
            acct.open_by_client_id.pop((order.symbol, order.client_order_id), None)
            acct.open_orders.pop(order.order_id, None)
        else:
            order.status = "PARTIALLY_FILLED"
        self._emit(order, "CALCULATED" if liquidation else "TRADE", fill)
        if self.listener is not None:
            self.listener.on_balance(acct, "ORDER", [order.symbol])
        if abs(pos.amount) < EPS:
            self._expire_reduce_only(acct, order.symbol)

    def _expire_reduce_only(self, acct: Account, symbol: str) -> None:
        for o in list(acct.open_orders.values()):
            if o.symbol == symbol and o.reduce_only and o.type not in CONDITIONAL:
                self._close(o, "EXPIRED")
        self._prune(symbol)

    def _close(self, order: Order, status: Literal["CANCELED", "EXPIRED"]) -> None:
        order.status = status
        order.update_ms = self.clock()
        acct = self.accounts[order.account]
        acct.open_by_client_id.pop((order.symbol, order.client_order_id), None)
        acct.open_orders.pop(order.order_id, None)
        self._emit(order, status, None)

    def _emit(self, order: Order, exec_type: ExecType, fill: Fill | None) -> None:
        if self.listener is not None:
            self.listener.on_order(self.accounts[order.account], order, exec_type, fill)

    @staticmethod
    def _forget_history(acct: Account) -> None:
        """Drop the oldest closed orders and fills beyond MAX_HISTORY (open orders are always kept)."""
        closed = [oid for oid, o in acct.orders.items() if not o.is_open]
        for oid in closed[: max(0, len(closed) - MAX_HISTORY)]:
            o = acct.orders.pop(oid)
            if acct.last_by_client_id.get((o.symbol, o.client_order_id)) == oid:
                del acct.last_by_client_id[(o.symbol, o.client_order_id)]
        if len(acct.fills) > MAX_HISTORY:
            del acct.fills[: len(acct.fills) - MAX_HISTORY]

    @staticmethod
    def _find(acct: Account, symbol: str, order_id: int | None, client_order_id: str | None) -> Order | None:
        if order_id is None and client_order_id:
            order_id = acct.last_by_client_id.get((symbol, client_order_id))
        order = acct.orders.get(order_id) if order_id is not None else None
        return order if order is not None and order.symbol == symbol else None
