"""The matching engine of the local exchange: client orders against a replayed market. No sockets.

Owns: ``MatchingEngine`` — the market events it is fed (snapshots, diffs, trades, marks, funding
settlements) and what each one sets off (resting orders re-checked, stops triggered, accounts
judged for liquidation), and the placement of an order (filters, post-only / FOK / band / margin
checks, execution, resting). Its layers, one concept each: ``markets`` (books and prices),
``margin`` (accounts and margin maths), ``execution`` (fills, fees, PnL, closing, cancels),
``stops`` (conditional orders), ``liquidation``; ``filters`` has the placement checks. Used by the
REST server and, in-process, by replay's simulated venue.

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

Must never: do I/O, read the wall clock (time comes from the ``clock`` given), or log per event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from hedge.exchange import errors
from hedge.exchange.accounts import Listener
from hedge.exchange.book import BookView
from hedge.exchange.filters import check_conditional, check_market_band, check_order
from hedge.exchange.liquidation import Liquidations
from hedge.exchange.marketdata import Level
from hedge.exchange.markets import SymbolMarket
from hedge.exchange.orders import CONDITIONAL, EPS, NewOrder, Order, OrderSide
from hedge.exchange.symbols import SymbolSpec


class MatchingEngine(Liquidations):
    """See the module docstring."""

    def __init__(
        self,
        specs: dict[str, SymbolSpec],
        *,
        clock: Callable[[], int],
        maker_fee: float = 0.0002,
        taker_fee: float = 0.0005,
        listener: Listener | None = None,
    ) -> None:
        super().__init__(specs, clock, maker_fee, taker_fee, listener)

    # ------------------------------------------------------------------ market events

    def on_snapshot(self, symbol: str, bids: list[Level], asks: list[Level]) -> None:
        self.market(symbol).book.apply_snapshot(bids, asks)
        self.on_book_reloaded(symbol)

    def on_depth(self, symbol: str, bids: list[Level], asks: list[Level]) -> None:
        self.market(symbol).book.apply(bids, asks)
        self.on_depth_applied(symbol, bids, asks)

    def share_book(self, symbol: str, book: BookView) -> None:
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

    def on_depth_applied(self, symbol: str, bids: Sequence[Level], asks: Sequence[Level]) -> None:
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
        side: OrderSide = "BUY" if buyer_is_maker else "SELL"
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

    # ------------------------------------------------------------------ placement

    def place(self, account: str, req: NewOrder) -> Order:
        acct = self.accounts[account]
        spec = self.specs.get(req.symbol)
        if spec is None:
            raise errors.bad_symbol()
        if req.type in CONDITIONAL:
            check_conditional(acct, spec, req)
            return self._place_conditional(acct, req)
        check_order(acct, spec, req, self.mark_price(req.symbol), self._resting.get(req.symbol, ()))
        m = self.market(req.symbol)
        taken = m.taken_asks if req.side == "BUY" else m.taken_bids
        limit = req.price if req.type == "LIMIT" else math.inf if req.side == "BUY" else 0.0
        crosses = self._available(m.book, taken, limit, req.side, first_only=True) > EPS
        if req.time_in_force == "GTX" and crosses:
            raise errors.post_only_rejected()
        if req.type == "MARKET":
            check_market_band(spec, m.book, taken, req, self.mark_price(req.symbol))
        if req.time_in_force == "FOK" and self._available(m.book, taken, limit, req.side) < req.quantity - EPS:
            raise errors.fok_rejected()
        self.check_margin(acct, req)
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
        acct.register(order)
        self._emit(order, "NEW", None)
        if crosses:
            self._take(order, m.book, taken, limit)
        if order.is_open:
            if order.type == "MARKET" or order.time_in_force in ("IOC", "FOK"):
                self._close(order, "EXPIRED")
            else:
                order.queue_ahead = m.level_qty(order)
                self._resting[order.symbol].append(order)
        return order

    # ------------------------------------------------------------------ resting orders

    def _after_book(self, symbol: str, m: SymbolMarket) -> None:
        if self._stops.get(symbol) and (m.mark <= 0 or m.last_price <= 0):
            self._check_stops(symbol)  # a working price that falls back to the mid moved
        self._match_resting(symbol, m)
        if m.mark <= 0:
            self._check_liquidations(symbol)  # the mark falls back to the mid

    def _match_resting(self, symbol: str, m: SymbolMarket) -> None:
        resting = self._resting.get(symbol)
        if not resting:
            return
        bid, ask = m.book.best_bid(), m.book.best_ask()
        for order in list(resting):
            if not order.is_open:
                continue
            order.queue_ahead = min(order.queue_ahead, m.level_qty(order))
            crossed = (
                ask is not None and ask[0] <= order.price + EPS
                if order.side == "BUY"
                else bid is not None and bid[0] >= order.price - EPS
            )
            if crossed:
                taken = m.taken_asks if order.side == "BUY" else m.taken_bids
                self._take(order, m.book, taken, order.price, maker=True)
        self._prune(symbol)
