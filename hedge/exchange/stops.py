"""Conditional orders of the local exchange: STOP_MARKET and TAKE_PROFIT_MARKET (Binance's algo orders).

Owns: ``StopOrders``, the matching engine's layer for conditional orders. They rest untriggered
outside the book (status NEW) with ``stop_price`` and ``working_type`` (MARK_PRICE or
CONTRACT_PRICE = the last trade), ``reduce_only`` or ``close_position``. One whose stop the
working price has already crossed is refused (-2021). When the working price crosses the stop
(checked on every mark, trade, and book change while the working price falls back to the mid) it
becomes a MARKET order (``type`` MARKET, ``orig_type`` kept) and executes at once; a closing one
never opens or flips a position, takes the whole position when ``close_position``, and expires
when there is nothing to close.

Must never: fill other than through the execution layer, read the wall clock, or do I/O.
"""

from __future__ import annotations

import math

from hedge.exchange import errors
from hedge.exchange.accounts import Account
from hedge.exchange.execution import OrderFlow
from hedge.exchange.orders import EPS, NewOrder, Order, OrderSide


class StopOrders(OrderFlow):
    """Untriggered conditional orders and their triggers (a layer of ``MatchingEngine``)."""

    @staticmethod
    def _triggered(order_side: OrderSide, otype: str, stop: float, px: float) -> bool:
        """STOP_MARKET: BUY when px >= stop, SELL when px <= stop; TAKE_PROFIT_MARKET the reverse."""
        if px <= 0:
            return False
        rising = (order_side == "BUY") == (otype == "STOP_MARKET")
        return px >= stop - EPS if rising else px <= stop + EPS

    def _place_conditional(self, acct: Account, req: NewOrder) -> Order:
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
        acct.register(order)
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
