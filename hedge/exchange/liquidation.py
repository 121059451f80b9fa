"""Liquidation on the local exchange: accounts whose margin balance falls to their maintenance margin.

Owns: ``Liquidations``, the matching engine's layer that judges and liquidates accounts (one-way
mode, cross margin, USDT only). An account is liquidated when its margin balance (wallet +
unrealized PnL of all positions at their marks) falls to or below its maintenance margin; it is
checked whenever a mark changes: every ``on_mark``, every funding settlement, and every book
change or trade while a symbol's mark falls back to the mid / last trade. Liquidating cancels all
the account's open orders first (normal CANCELED events), then closes each position with a
LIQUIDATION order (client id ``autoclose-<engine ms>``, IOC, reduce-only, taker) that fills at
once at the mark (NEW, then execution type CALCULATED, status FILLED).

Design: a simplification of Binance, which sends the position to its liquidation engine at the
bankruptcy price and trades it in the book: here it is filled whole at the mark, no book
liquidity is consumed and no ADL happens. The commission and the insurance fund are margin
maths (``hedge.exchange.margin``).

Must never: fill other than through the execution layer, read the wall clock, or do I/O.
"""

from __future__ import annotations

from hedge.exchange.accounts import Account
from hedge.exchange.orders import EPS, Order
from hedge.exchange.stops import StopOrders


class Liquidations(StopOrders):
    """Judging and liquidating accounts (a layer of ``MatchingEngine``)."""

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
            acct.register(order)
            self._emit(order, "NEW", None)
            self._fill(order, order.quantity, mark, maker=False)
