"""Exchange filters: an order is rounded and checked here before it may leave the process.

Owns: ``OrderFilter.prepare()``, which turns a wanted (side, qty, price) into an order the exchange
will accept under a symbol's ``hedge.model.instrument.SymbolFilters``, or a ``Denial`` with its
reason.

Design:
- Exact arithmetic: sizes are ``Decimal`` (parsed from the exchange's strings), a float price or
  quantity is read through its shortest repr (``Decimal(repr(x))``), rounded to a whole number of
  ticks/steps, and only then turned back into a float. So a price is always an integer multiple of
  the tick in decimal, with no float drift (``0.1 * 3`` never becomes ``0.30000000000000004``).
- Price rounding: a maker order rounds toward the passive side (buy down, sell up), so it never
  crosses by rounding; a taker limit rounds toward the aggressive side but never beyond its
  slippage cap (buy: ``min(ceil(px), floor(cap))``; sell: ``max(floor(px), ceil(cap))``).
- Quantity rounds down to the step (never more than asked); then min/max quantity, min notional
  (waived for reduce-only orders, as on Binance) and the percent-price band are checked.
- A zero in an optional bound means "no such filter".
- Fast path (limit orders): the bounds are precompiled per symbol into whole ticks, steps and
  tick x step products (``min_ticks``, ``min_steps``, ``min_units``: exact, with ``Fraction``), and
  the rounding is ``Grid``'s integer arithmetic (hedge/model/instrument.py), so an order that passes
  costs no ``Decimal`` at all (~4 us -> ~1 us). Whatever the fast path cannot pass for certain (a
  denial, a percent-price band within 1e-12 of the price, a market order, a product too large to
  be exact in 28 digits) is decided by the exact ``Decimal`` path, which also writes every
  ``Denial``'s reason. The two agree exactly: a hypothesis property over random filters, prices and
  quantities (tests/unit/router/test_filters_grid.py).

Must never: know Binance's field names (the exchangeInfo parser lives in hedge/venue), send or
log anything, or let an order through that a filter would reject.
"""

from __future__ import annotations

import enum
import math
from decimal import ROUND_FLOOR
from fractions import Fraction

import msgspec

from hedge.events import Side
from hedge.model.instrument import ZERO, Grid, SymbolFilters, to_decimal, units

_BAND_EPS = 1e-12  # a percent-price band closer than this (relative) to the price: decided exactly
_EXACT_UNITS = 10**26  # steps x ticks x a_s x a_t below this: the Decimal product is exact in 28 digits


class Mode(enum.Enum):
    MAKER = "maker"  # post-only limit: round toward the passive side
    TAKER = "taker"  # IOC limit: round toward the aggressive side, within the cap
    MARKET = "market"  # no price; the market lot and the reference price apply


# Read on every order (round_price, prepare, _pass): module constants, not Enum class attribute lookups (~70 ns each)
_BUY = Side.BUY
_MAKER, _MARKET = Mode.MAKER, Mode.MARKET


class Prepared(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An order that passes every filter. ``price`` is 0 for market orders."""

    price: float
    qty: float
    price_ticks: int
    qty_steps: int
    notional: float


class Denial(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Why an order was refused locally (it is never sent)."""

    filter: str  # PRICE_FILTER | LOT_SIZE | MARKET_LOT_SIZE | MIN_NOTIONAL | PERCENT_PRICE | INPUT
    reason: str


class OrderFilter:
    """The compiled rules of one symbol."""

    def __init__(self, f: SymbolFilters) -> None:
        if f.tick_size <= 0 or f.step_size <= 0:
            raise ValueError(f"{f.symbol}: tick_size and step_size must be > 0")
        self.f = f
        self.tick = f.tick_size
        self.tick_f = float(f.tick_size)
        self.step_f = float(f.step_size)
        self.ticks = Grid(f.tick_size)
        self.steps = Grid(f.step_size)
        # the limit-order bounds in whole units (exact): ticks >= min_ticks, steps >= min_steps, ...
        tick, step = Fraction(f.tick_size), Fraction(f.step_size)
        self.min_ticks = max(1, math.ceil(Fraction(f.min_price) / tick))
        self.max_ticks = math.floor(Fraction(f.max_price) / tick) if f.max_price > 0 else -1
        self.min_steps = max(1, math.ceil(Fraction(f.min_qty) / step))
        self.max_steps = math.floor(Fraction(f.max_qty) / step) if f.max_qty > 0 else -1
        self.min_units = math.ceil(Fraction(f.min_notional) / (tick * step))  # steps * ticks, 0 = none
        self.units_exact = _EXACT_UNITS // (self.ticks.a * self.steps.a)
        self.notional_div = self.ticks.pow10 * self.steps.pow10
        self.up_f = float(f.percent_up)
        self.down_f = float(f.percent_down)

    def price_of(self, ticks: int) -> float:
        return self.ticks.value(ticks)

    def round_price(self, side: Side, px: float, mode: Mode, cap: float = 0.0) -> int:
        """``px`` in whole ticks, rounded for ``mode`` (see the module docstring)."""
        g = self.ticks
        buy = side is _BUY
        if mode is _MAKER:
            return g.floor(px) if buy else g.ceil(px)
        t = g.ceil(px) if buy else g.floor(px)
        if cap > 0.0:
            t = min(t, g.floor(cap)) if buy else max(t, g.ceil(cap))
        return t

    def prepare(
        self,
        side: Side,
        qty: float,
        price: float,
        mode: Mode,
        *,
        reference: float,
        cap: float = 0.0,
        reduce_only: bool = False,
    ) -> Prepared | Denial:
        """Round ``qty``/``price`` to the exchange's grid and check every filter.

        ``reference`` is the mark (or mid) price used by the percent-price band and, for market
        orders, by min notional; ``cap`` bounds a taker limit (0 = none).
        """
        if mode is not _MARKET and 0.0 < qty < math.inf and 0.0 < price < math.inf:
            fast = self._pass(side, qty, price, mode, reference, cap, reduce_only)
            if fast is not None:
                return fast
        return self._prepare_exact(side, qty, price, mode, reference, cap, reduce_only)

    def _pass(self, side: Side, qty: float, price: float, mode: Mode, reference: float, cap: float,
              reduce_only: bool) -> Prepared | None:
        """The limit order when it certainly passes every filter, in integers; None = let the exact path decide."""
        ticks = self.round_price(side, price, mode, cap)
        if ticks < self.min_ticks or 0 <= self.max_ticks < ticks:
            return None
        steps = self.steps.floor(qty)
        if steps < self.min_steps or 0 <= self.max_steps < steps:
            return None
        units_ = steps * ticks
        if units_ >= self.units_exact or (units_ < self.min_units and not reduce_only):
            return None
        tg, sg = self.ticks, self.steps
        px = ticks * tg.a / tg.pow10
        if reference > 0.0:
            if side is _BUY:
                if self.up_f > 0.0 and px > reference * self.up_f * (1.0 - _BAND_EPS):
                    return None
            elif self.down_f > 0.0 and px < reference * self.down_f * (1.0 + _BAND_EPS):
                return None
        return Prepared(price=px, qty=steps * sg.a / sg.pow10, price_ticks=ticks, qty_steps=steps,
                        notional=units_ * (tg.a * sg.a) / self.notional_div)

    def _prepare_exact(self, side: Side, qty: float, price: float, mode: Mode, reference: float, cap: float,
                       reduce_only: bool) -> Prepared | Denial:
        """``prepare`` in exact ``Decimal`` arithmetic: market orders, denials and their reasons."""
        f = self.f
        if not (qty > 0.0 and qty < float("inf")):
            return Denial(filter="INPUT", reason=f"quantity {qty!r} is not a positive number")
        if mode is not Mode.MARKET and not (price > 0.0 and price < float("inf")):
            return Denial(filter="INPUT", reason=f"price {price!r} is not a positive number")
        if mode is Mode.MARKET:
            step = f.market_step_size or f.step_size
            lo, hi, lot = f.market_min_qty or f.min_qty, f.market_max_qty or f.max_qty, "MARKET_LOT_SIZE"
            ticks, px_d = 0, ZERO
        else:
            step, lo, hi, lot = f.step_size, f.min_qty, f.max_qty, "LOT_SIZE"
            ticks = self.round_price(side, price, mode, cap)
            px_d = ticks * self.tick
            if ticks <= 0 or px_d < f.min_price or (f.max_price > 0 and px_d > f.max_price):
                return Denial(
                    filter="PRICE_FILTER", reason=f"price {px_d} outside [{f.min_price}, {f.max_price or 'inf'}]"
                )
        steps = units(to_decimal(qty), step, ROUND_FLOOR)
        q_d = steps * step
        if steps <= 0 or q_d < lo:
            return Denial(filter=lot, reason=f"quantity {qty} rounds to {q_d} < min {lo}")
        if hi > 0 and q_d > hi:
            return Denial(filter=lot, reason=f"quantity {q_d} > max {hi}")
        ref_d = to_decimal(reference) if reference > 0.0 else ZERO
        notional_px = px_d if mode is not Mode.MARKET else ref_d
        notional = q_d * notional_px
        if not reduce_only and f.min_notional > 0 and notional < f.min_notional:
            return Denial(filter="MIN_NOTIONAL", reason=f"notional {notional} < min {f.min_notional}")
        if mode is not Mode.MARKET and ref_d > 0:
            if side is Side.BUY and f.percent_up > 0 and px_d > ref_d * f.percent_up:
                return Denial(
                    filter="PERCENT_PRICE", reason=f"buy price {px_d} > reference {ref_d} x {f.percent_up}"
                )
            if side is Side.SELL and f.percent_down > 0 and px_d < ref_d * f.percent_down:
                return Denial(
                    filter="PERCENT_PRICE", reason=f"sell price {px_d} < reference {ref_d} x {f.percent_down}"
                )
        return Prepared(price=float(px_d), qty=float(q_d), price_ticks=ticks, qty_steps=steps, notional=float(notional))
