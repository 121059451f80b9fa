"""Order execution of the local exchange: taking liquidity, fills, fees, PnL, and closing orders.

Owns: ``OrderFlow``, the matching engine's layer that executes client orders against a market:
the liquidity available up to a limit price (market quantity minus what client orders already
took at each level), a taker walking the book from the best level (or a resting order filled at
its own price as a maker by liquidity that arrived across it), one fill (quantity rounded to the
step; position amount, entry price and realized PnL; maker/taker fee or a liquidation's
commission; the order's status), closing an order (CANCELED / EXPIRED; reduce-only orders expire
when their position is gone), order and trade ids, cancels and order queries, and reporting
every change to the ``Listener``.

Must never: decide when an order is placed, triggered or liquidated (the layers above do), read
the wall clock (time comes from the ``clock`` given), or do I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Literal

from hedge.exchange import errors
from hedge.exchange.accounts import Account, Listener
from hedge.exchange.book import BookView, from_best
from hedge.exchange.margin import Margin
from hedge.exchange.orders import CONDITIONAL, EPS, ExecType, Execution, Order, OrderSide
from hedge.exchange.symbols import SymbolSpec


class OrderFlow(Margin):
    """Executing and closing orders (a layer of ``MatchingEngine``)."""

    def __init__(
        self,
        specs: dict[str, SymbolSpec],
        clock: Callable[[], int],
        maker_fee: float,
        taker_fee: float,
        listener: Listener | None,
    ) -> None:
        super().__init__(specs, clock, maker_fee, taker_fee)
        self.listener = listener
        self._order_ids = itertools.count(1_000_001)
        self._trade_ids = itertools.count(1)

    # ------------------------------------------------------------------ cancels and queries

    def cancel(self, account: str, symbol: str, order_id: int | None, client_order_id: str | None) -> Order:
        order = self.accounts[account].find(symbol, order_id, client_order_id)
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
        order = self.accounts[account].find(symbol, order_id, client_order_id)
        if order is None:
            raise errors.no_such_order()
        return order

    def open_orders(self, account: str, symbol: str | None = None, *, algo: bool | None = None) -> list[Order]:
        return [o for o in self.accounts[account].open_orders.values()
                if (symbol is None or o.symbol == symbol) and (algo is None or o.untriggered == algo)]

    # ------------------------------------------------------------------ execution

    @staticmethod
    def _available(
        book: BookView, taken: dict[float, float], limit: float, order_side: OrderSide, first_only: bool = False
    ) -> float:
        total = 0.0
        for px, level in from_best(book, order_side == "BUY"):
            if (order_side == "BUY" and px > limit + EPS) or (order_side == "SELL" and px < limit - EPS):
                break
            q = level - taken.get(px, 0.0)
            if q > EPS:
                total += q
                if first_only:
                    break
        return total

    def _take(
        self, order: Order, book: BookView, taken: dict[float, float], limit: float, *, maker: bool = False
    ) -> None:
        """Fill ``order`` against the opposite side up to ``limit``: at each level's price as a taker,
        or at the order's own price as a maker (market liquidity that arrived across a resting order)."""
        for px, level in from_best(book, order.side == "BUY"):
            if order.remaining <= EPS or not order.is_open:
                break
            if (order.side == "BUY" and px > limit + EPS) or (order.side == "SELL" and px < limit - EPS):
                break
            q = min(level - taken.get(px, 0.0), order.remaining)
            if q <= EPS:
                continue
            taken[px] = taken.get(px, 0.0) + q
            self._fill(order, q, order.price if maker else px, maker=maker)

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
        if liquidation and acct.wallet < 0.0:
            # rounding dust: the commission took exactly what was left (wallet + realized), and
            # (w + r) - (w + r) computed in two steps can end at -1e-14; a wallet never goes below 0
            acct.wallet = 0.0
        order.filled += qty
        order.cum_quote += qty * price
        order.update_ms = now
        fill = Execution(
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
            acct.closed(order)
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
        self.accounts[order.account].closed(order)
        self._emit(order, status, None)

    def _emit(self, order: Order, exec_type: ExecType, fill: Execution | None) -> None:
        if self.listener is not None:
            self.listener.on_order(self.accounts[order.account], order, exec_type, fill)
