"""Realized round trips per symbol, rebuilt from fills: the outcomes that scores and the SPRT learn from.

Owns: a signed position, its average entry price, and the fees and PnL accumulated since it
was last flat. When a fill brings the position to zero (or through zero), one ``RoundTrip`` is
closed: ``return_bps = (realized PnL - fees) / entry notional * 1e4``. A flip opens the remainder
as a new trip at the fill price. A trip is attributed to the strategy of the fill that opened it
("" when that fill was not one of a strategy's orders).

Must never: be taken as the book of record (the portfolio's ledger, reconciled against the
exchange, is); this is the signals' own outcome view, computed from fill prices so that it does
not depend on a venue's ``realized_pnl`` field. Fees not in USDT are counted at face value.
"""

from __future__ import annotations

import msgspec

from hedge.events import Fill, Side


class RoundTrip(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    symbol: str
    strategy: str
    return_bps: float
    pnl: float
    entry_notional: float
    closed_ms: int


class _Open:
    __slots__ = ("entry_notional", "fees", "pnl", "qty", "strategy", "vwap")

    def __init__(self) -> None:
        self.strategy = ""
        self.qty = 0.0  # signed
        self.vwap = 0.0
        self.entry_notional = 0.0  # largest absolute notional held during the trip
        self.fees = 0.0
        self.pnl = 0.0


_EPS = 1e-12


class RoundTripTracker:
    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}

    def position(self, symbol: str) -> float:
        o = self._open.get(symbol)
        return o.qty if o is not None else 0.0

    def on_fill(self, f: Fill, strategy: str = "") -> RoundTrip | None:
        """Apply one fill (of an order placed for ``strategy``); the round trip it closed, if any."""
        if f.qty <= 0.0 or f.price <= 0.0:
            return None
        o = self._open.get(f.symbol)
        if o is None:
            o = self._open[f.symbol] = _Open()
        signed = f.qty if f.side is Side.BUY else -f.qty
        o.fees += f.fee
        if o.qty == 0.0:
            o.strategy = strategy
        if o.qty == 0.0 or (o.qty > 0.0) == (signed > 0.0):  # open or add
            new_qty = o.qty + signed
            o.vwap = (o.vwap * abs(o.qty) + f.price * f.qty) / abs(new_qty)
            o.qty = new_qty
            o.entry_notional = max(o.entry_notional, abs(new_qty) * o.vwap)
            return None
        closing = min(f.qty, abs(o.qty))
        direction = 1.0 if o.qty > 0.0 else -1.0
        o.pnl += closing * (f.price - o.vwap) * direction
        rest = abs(signed) - closing
        o.qty += closing * (-direction)
        if abs(o.qty) > _EPS:
            return None
        trip = RoundTrip(
            symbol=f.symbol,
            strategy=o.strategy,
            return_bps=(o.pnl - o.fees) / o.entry_notional * 1e4 if o.entry_notional > 0.0 else 0.0,
            pnl=o.pnl - o.fees,
            entry_notional=o.entry_notional,
            closed_ms=f.ts_ms,
        )
        o.qty = 0.0
        o.vwap = 0.0
        o.fees = 0.0
        o.pnl = 0.0
        o.entry_notional = 0.0
        if rest > _EPS:  # flipped: the remainder opens a new trip at this price
            o.strategy = strategy
            o.qty = rest * (-direction)
            o.vwap = f.price
            o.entry_notional = rest * f.price
        return trip
