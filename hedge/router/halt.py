"""Halt and flatten: the kill switch's ``CancelAll`` as the router carries it out.

Owns: the router's halted state (once halted, no new order is sent; later approvals are
ignored), the cancel-all of every open order at the venue (per symbol, or of every symbol the
venue reports open orders for plus those the router was trading), the count and alert of a
cancel-all that failed, the exchange's signed position per symbol, and the flatten: one
reduce-only MARKET execution per open position.

Design: halting ends every execution (its live order cancelled, never replaced; the executor's
``stop``). Protective stops are left resting by a halt (they only reduce risk); a cancel-all
removes them at the venue, as the operator asked. A failed cancel-all never stops the other
symbols' cancels; the venue's dead-man countdown is the backstop.

Must never: send anything but cancels and reduce-only flatten orders, or un-halt.
"""

from __future__ import annotations

import logging

from hedge.events import Alert, CancelAll, OrderIntent, Side
from hedge.model.clock import Clock
from hedge.router.desk import OrderDesk
from hedge.router.execution import Execution
from hedge.router.executor import Executor
from hedge.router.filters import Denial

log = logging.getLogger(__name__)


class Halt:
    """The kill switch's side of the router (see the module docstring)."""

    def __init__(self, desk: OrderDesk, executor: Executor, *, clock: Clock) -> None:
        self.desk = desk
        self.executor = executor
        self.clock = clock
        self.reason = ""  # once ``halt`` was called: nothing new is sent
        self.positions: dict[str, float] = {}  # the exchange's signed position per symbol
        self.cancel_all_errors = 0

    def on_cancel_all(self, ev: CancelAll) -> None:
        """Risk's halt (kill switch): stop every execution, cancel every open order, optionally flatten.

        A cancel-all of every symbol also halts the router: later approvals are ignored."""
        executor = self.executor
        active = {ex.symbol for ex in executor.executions.values()} | set(executor.by_symbol)
        if ev.symbol:
            for ex in list(executor.executions.values()):
                if ex.symbol == ev.symbol:
                    executor.stop(ex, f"cancel all: {ev.reason}")
        else:
            self.halt(ev.reason)
        self.desk.spawn(self._cancel_everything(ev.symbol, also=active, flatten=ev.flatten, reason=ev.reason))

    def halt(self, reason: str) -> None:
        """No new order from now on; every execution ends (its live order cancelled, not replaced). Idempotent."""
        if not self.reason:
            log.warning("router: halted (%s)", reason)
        self.reason = reason or "halted"
        for ex in list(self.executor.executions.values()):
            self.executor.stop(ex, f"halted: {self.reason}")

    async def _cancel_everything(self, symbol: str, *, also: set[str], flatten: bool, reason: str) -> None:
        """Cancel every open order of ``symbol`` ("" = of every symbol the venue reports open orders for,
        plus ``also``: the symbols this router was trading), then optionally flatten positions with
        reduce-only market orders."""
        venue = self.desk.venue
        symbols = {symbol} if symbol else set(also)
        if not symbol:
            try:
                symbols |= {o.symbol for o in await venue.open_orders(None)}
            except Exception as e:  # still cancel the symbols we know of
                self._cancel_all_failed("open orders", e)
        for sym in sorted(symbols):
            try:
                n = await venue.cancel_all(sym)
            except Exception as e:
                self._cancel_all_failed(sym, e)
            else:
                log.warning("router: cancel-all %s (%s): %d open order(s) cancelled", sym, reason, n)
        if flatten:
            for sym, qty in sorted(self.positions.items()):
                if qty != 0.0 and symbol in ("", sym):
                    self._flatten(sym, qty, reason)

    def _cancel_all_failed(self, what: str, e: Exception) -> None:
        self.cancel_all_errors += 1
        log.error("router: cancel-all %s failed (%s: %s)", what, type(e).__name__, e)
        self.desk.bus.publish(Alert(severity="critical", title="cancel all failed", text=f"{what}: {e}",
                                    recv_ns=self.desk.now_ns()))

    def _flatten(self, symbol: str, qty: float, reason: str) -> None:
        executor, now_ns = self.executor, self.desk.now_ns
        filt = executor.filters.get(symbol)
        book = executor.books.get(symbol)
        ref = executor.marks.get(symbol) or (book.mid if book is not None else 0.0)
        intent = OrderIntent(
            intent_id=f"flatten-{symbol}-{now_ns()}", symbol=symbol, side=Side.SELL if qty > 0 else Side.BUY,
            notional=abs(qty) * ref, strategy="kill-switch", reason=reason or "flatten", reduce_only=True,
            urgent=True, recv_ns=now_ns(),
        )
        if filt is None or ref <= 0.0:
            self.desk.deny(intent, abs(qty), 0.0,
                           Denial(filter="INPUT", reason="flatten: no filters or reference price"))
            return
        ex = Execution(intent, abs(qty), [abs(qty)], filt, ref, self.clock.now_s())
        ex.market = True
        executor.start(ex)
