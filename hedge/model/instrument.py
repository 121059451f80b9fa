"""An instrument's exchange filters, exact: the value every layer that handles orders shares.

Owns: ``SymbolFilters`` (tick size, step size, quantity bounds for limit and market orders, min
notional, percent-price band, as exact ``Decimal``), ``to_decimal`` (a float read through its
shortest repr) and ``units`` (a decimal as a whole number of ticks/steps).

Design: the venue adapters parse the exchange's rules into ``SymbolFilters``; the router's
``OrderFilter`` (hedge/router/filters.py) rounds and checks orders against them. The value lives
here, below both, so that neither imports the other.

Must never: know an exchange's field names, round or check an order (that is the router's
``OrderFilter``), or import anything else from ``hedge``.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

ZERO = Decimal(0)


class SymbolFilters(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol's trading rules, exact (a zero optional bound means "no such filter")."""

    symbol: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal = ZERO
    min_price: Decimal = ZERO
    max_price: Decimal = ZERO
    market_step_size: Decimal = ZERO  # 0 = same as the limit lot
    market_min_qty: Decimal = ZERO
    market_max_qty: Decimal = ZERO
    min_notional: Decimal = ZERO
    percent_up: Decimal = ZERO  # BUY price <= reference * percent_up
    percent_down: Decimal = ZERO  # SELL price >= reference * percent_down


def to_decimal(x: float) -> Decimal:
    """The exact decimal a float was written as (its shortest repr), not its binary expansion."""
    return Decimal(repr(float(x)))


def units(x: Decimal, size: Decimal, rounding: str) -> int:
    """``x`` as a whole number of ``size`` units, rounded with ``rounding`` (ROUND_FLOOR/CEILING)."""
    return int((x / size).to_integral_value(rounding=rounding))
