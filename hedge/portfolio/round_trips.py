"""Round trips: the fills of each symbol cut into trades, from flat until flat again.

Owns: ``RoundTrips`` — per symbol the one open trade (``OpenTrade``) and the rule that turns
fills into closed ``ClosedTrade`` events — and ``FillContext``, what the portfolio knows about a
fill that the fill does not carry (strategy, reasons, the stop distance it set, the excursions).

Rules (the same average-cost arithmetic as the ledger and the exchange, so the PnL agrees):
- a fill from flat opens a trade; one in the trade's direction scales in (average cost moves);
- an opposite fill is a partial exit: it realizes ``(price - average cost) x qty`` in the trade's
  direction and takes the fill's whole fee;
- the fill that brings the position to zero closes the trade: a ``ClosedTrade`` comes out;
- a fill through zero is split: the closing part ends the trade, the remainder opens the next at
  the fill price; the fee is shared pro rata to the two quantities;
- ``risk`` is the stop distance per unit the portfolio set (``FillContext.risk_per_unit``, after
  each entry fill) times the position then, the largest over the trade's life: ``R`` multiple =
  net PnL / risk, None when no stop was set;
- excursions (MFE/MAE, bps from the average cost) come from the best and worst exit prices the
  portfolio's levels saw while the trade was open, and the trade's own fill prices.

``seed`` starts a trade from a position the builder never saw open (a restart: the ledger file's
entries), ``drop`` forgets one (the ledger's position changed without a fill: drift, adoption).

Must never: do I/O, publish, or decide a position is flat other than by its fills (the same
tolerance as the ledger).
"""

from __future__ import annotations

import msgspec

from hedge.events import ClosedTrade, Fill
from hedge.portfolio.ledger import QTY_EPS


class FillContext(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What the portfolio knows about one fill beyond the fill itself."""

    key: str = ""  # the ledger's key of the position after the fill (names a trade it opens)
    strategy: str = ""
    entry_reason: str = ""  # why the position after the fill was opened
    exit_reason: str = ""  # why this fill reduced a position (an exit kind, flatten, signal, ...)
    risk_per_unit: float = 0.0  # the stop distance the portfolio set after this fill (0 = none)
    best: float = 0.0  # best exit price the position's levels saw before this fill (0 = unknown)
    worst: float = 0.0  # worst exit price they saw (0 = unknown)


class OpenTrade(msgspec.Struct, kw_only=True):
    """The trade a symbol's position belongs to, while it is open (mutable; owned by ``RoundTrips``)."""

    symbol: str
    sign: int  # +1 long, -1 short
    key: str
    strategy: str
    entry_reason: str
    opened_ms: int
    qty: float  # signed open quantity
    avg_cost: float  # average entry price of the open quantity
    entry_qty: float = 0.0
    entry_notional: float = 0.0
    exit_qty: float = 0.0
    exit_notional: float = 0.0
    max_qty: float = 0.0
    gross: float = 0.0  # realized so far
    fees: float = 0.0  # paid so far
    risk: float = 0.0
    best: float = 0.0  # most favourable price seen (0 = none yet)
    worst: float = 0.0
    exit_reason: str = ""
    fills: int = 0

    def unrealized(self, mark: float) -> float:
        return (mark - self.avg_cost) * self.qty

    def see(self, *prices: float) -> None:
        """Widen the excursion range with exit prices seen (0 = unknown, skipped)."""
        s = self.sign
        for px in prices:
            if px <= 0.0:
                continue
            if self.best <= 0.0 or s * (px - self.best) > 0.0:
                self.best = px
            if self.worst <= 0.0 or s * (px - self.worst) < 0.0:
                self.worst = px

    def close(self, ts_ms: int) -> ClosedTrade:
        entry = self.entry_notional / self.entry_qty if self.entry_qty > 0.0 else self.avg_cost
        exit_px = self.exit_notional / self.exit_qty if self.exit_qty > 0.0 else 0.0
        net = self.gross - self.fees
        s, base = self.sign, self.avg_cost or entry
        return ClosedTrade(
            ts_ms=ts_ms,
            symbol=self.symbol,
            side="long" if s > 0 else "short",
            key=self.key,
            strategy=self.strategy,
            entry_reason=self.entry_reason,
            exit_reason=self.exit_reason,
            opened_ms=self.opened_ms,
            closed_ms=ts_ms,
            qty=self.entry_qty,
            max_qty=self.max_qty,
            entry_price=entry,
            exit_price=exit_px,
            gross_pnl=self.gross,
            fees=self.fees,
            net_pnl=net,
            risk=self.risk,
            r_multiple=net / self.risk if self.risk > 0.0 else None,
            mfe_bps=max(0.0, s * (self.best - base) / base * 1e4) if base > 0.0 and self.best > 0.0 else 0.0,
            mae_bps=min(0.0, s * (self.worst - base) / base * 1e4) if base > 0.0 and self.worst > 0.0 else 0.0,
            fills=self.fills,
        )


class RoundTrips:
    """Open trades per symbol; ``apply`` each fill the ledger applied, in the same order."""

    def __init__(self) -> None:
        self.open: dict[str, OpenTrade] = {}

    def qty(self, symbol: str) -> float:
        t = self.open.get(symbol)
        return t.qty if t is not None else 0.0

    def apply(self, fill: Fill, ctx: FillContext) -> list[ClosedTrade]:
        """Book one fill; the trades it closed (none, one, or one when it flips through zero)."""
        if fill.qty <= 0.0 or fill.price <= 0.0:
            return []
        sym, px, q = fill.symbol, fill.price, fill.qty
        signed = q * fill.side.sign
        t = self.open.get(sym)
        if t is None:
            self._open(fill, signed, fill.fee, ctx)
            return []
        t.fills += 1
        if t.qty * signed > 0.0:  # scales in
            new_qty = t.qty + signed
            t.avg_cost = (t.avg_cost * abs(t.qty) + px * q) / abs(new_qty)
            t.qty = new_qty
            self._entered(t, q, px, ctx)
            t.fees += fill.fee
            t.see(ctx.best, ctx.worst, px)
            return []
        closed = min(q, abs(t.qty))
        t.gross += (px - t.avg_cost) * closed * t.sign
        t.exit_qty += closed
        t.exit_notional += closed * px
        t.exit_reason = ctx.exit_reason
        t.see(ctx.best, ctx.worst, px)
        rest = t.qty + signed
        if abs(rest) > QTY_EPS and rest * t.qty > 0.0:  # a partial exit
            t.qty = rest
            t.fees += fill.fee
            return []
        del self.open[sym]
        if abs(rest) <= QTY_EPS:
            t.fees += fill.fee
            return [t.close(fill.ts_ms)]
        close_fee = fill.fee * closed / q  # through zero: the fee is shared by the close and the open
        t.fees += close_fee
        self._open(fill, rest, fill.fee - close_fee, ctx)
        return [t.close(fill.ts_ms)]

    def _open(self, fill: Fill, signed: float, fee: float, ctx: FillContext) -> None:
        q = abs(signed)
        t = OpenTrade(
            symbol=fill.symbol, sign=1 if signed > 0.0 else -1, key=ctx.key, strategy=ctx.strategy,
            entry_reason=ctx.entry_reason, opened_ms=fill.ts_ms, qty=signed, avg_cost=fill.price,
            fees=fee, fills=1,
        )
        self._entered(t, q, fill.price, ctx)
        t.see(fill.price)
        self.open[fill.symbol] = t

    @staticmethod
    def _entered(t: OpenTrade, q: float, px: float, ctx: FillContext) -> None:
        t.entry_qty += q
        t.entry_notional += q * px
        held = abs(t.qty)
        t.max_qty = max(t.max_qty, held)
        t.risk = max(t.risk, held * ctx.risk_per_unit)

    def seed(
        self, symbol: str, qty: float, avg_cost: float, ctx: FillContext, *, opened_ms: int,
        realized: float = 0.0, fees: float = 0.0,
    ) -> None:
        """Start a trade from a position held before the builder saw it open (a restart)."""
        if abs(qty) <= QTY_EPS or avg_cost <= 0.0:
            self.open.pop(symbol, None)
            return
        t = OpenTrade(
            symbol=symbol, sign=1 if qty > 0.0 else -1, key=ctx.key, strategy=ctx.strategy,
            entry_reason=ctx.entry_reason, opened_ms=opened_ms, qty=qty, avg_cost=avg_cost,
            gross=realized, fees=fees,
        )
        self._entered(t, abs(qty), avg_cost, ctx)
        t.see(avg_cost, ctx.best, ctx.worst)
        self.open[symbol] = t

    def drop(self, symbol: str) -> OpenTrade | None:
        """Forget the symbol's open trade (its position changed without a fill)."""
        return self.open.pop(symbol, None)
