"""Order filters of the local exchange: the checks that refuse an order with Binance's codes.

Owns: the placement checks of a plain order (quantity and price positive, on the tick / step,
within the symbol's limits and the percent-price band around the mark, minimum notional,
duplicate client id, reduce-only with nothing to reduce, too many open orders), of a conditional
order (stop price, quantity or ``closePosition``), and the market-order band check against the
best level a taker would reach.

Must never: change state: every function here only reads its arguments and raises a ``Reject``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from hedge.exchange import errors
from hedge.exchange.accounts import Account
from hedge.exchange.book import BookView, from_best
from hedge.exchange.orders import EPS, NewOrder, Order
from hedge.exchange.symbols import SymbolSpec


def _on_tick(value: float, unit: float) -> bool:
    n = value / unit
    return abs(n - round(n)) < 1e-6


def check_order(acct: Account, spec: SymbolSpec, req: NewOrder, mark: float, resting: Iterable[Order]) -> None:
    """A LIMIT or MARKET order's filters; ``mark`` is the symbol's mark, ``resting`` its book orders."""
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
    if req.type == "LIMIT" and mark > 0:
        if req.side == "BUY" and req.price > mark * spec.mult_up + EPS:
            raise errors.limit_price_too_high(spec.fmt_price(math.floor(mark * spec.mult_up / spec.tick) * spec.tick))
        if req.side == "SELL" and req.price < mark * spec.mult_down - EPS:
            raise errors.limit_price_too_low(spec.fmt_price(math.ceil(mark * spec.mult_down / spec.tick) * spec.tick))
    if not req.reduce_only:
        px = req.price if req.type == "LIMIT" else mark
        if px * req.quantity < spec.min_notional - EPS:
            raise errors.min_notional(spec.min_notional_text)
    if sum(1 for o in resting if o.account == acct.key) >= spec.max_num_orders:
        raise errors.max_open_orders()


def check_conditional(acct: Account, spec: SymbolSpec, req: NewOrder) -> None:
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


def check_market_band(spec: SymbolSpec, book: BookView, taken: dict[float, float], req: NewOrder, mark: float) -> None:
    """A MARKET order is refused (-4131) when the best level it would take is beyond the band around the mark."""
    best = next((px for px, q in from_best(book, req.side == "BUY") if q - taken.get(px, 0.0) > EPS), None)
    if best is None or mark <= 0:
        raise errors.percent_price_market()
    if (req.side == "BUY" and best > mark * spec.mult_up) or (req.side == "SELL" and best < mark * spec.mult_down):
        raise errors.percent_price_market()
