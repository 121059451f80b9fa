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
A 418 ban (``RateLimit``) halts the router at once ("venue ban (418) until T"; its executions'
live orders are cancelled by the desk, whose retry waits for the ban's end). A cancel-all (and its
flatten) asked for during a ban is queued, not tried: any request would extend the ban. The queue
goes out the moment the ban ends (a timer; a later 418 moves it on), in the order it was asked;
a cancel-all that meets a ban on its way is queued again whole (cancels are idempotent).

Must never: send anything but cancels and reduce-only flatten orders, send anything while the
venue's ban lasts, drop a cancel-all asked for during a ban, or un-halt.
"""

from __future__ import annotations

import logging

import msgspec

from hedge.events import Alert, CancelAll, OrderIntent, RateLimit, Side
from hedge.model.clock import Clock, Timer, iso_utc
from hedge.router.desk import OrderDesk
from hedge.router.execution import Execution
from hedge.router.executor import Executor
from hedge.router.filters import Denial
from hedge.venue.errors import RateLimited
from hedge.venue.rate_limit import BAN_END_MARGIN_S

log = logging.getLogger(__name__)


class _Queued(msgspec.Struct, frozen=True):
    """A cancel-all asked for during a ban: ``symbol`` ("" = every symbol), ``also``, ``flatten``, ``reason``."""

    symbol: str
    also: frozenset[str]
    flatten: bool
    reason: str


class Halt:
    """The kill switch's side of the router (see the module docstring)."""

    def __init__(self, desk: OrderDesk, executor: Executor, *, clock: Clock) -> None:
        self.desk = desk
        self.executor = executor
        self.clock = clock
        self.reason = ""  # once ``halt`` was called: nothing new is sent
        self.positions: dict[str, float] = {}  # the exchange's signed position per symbol
        self.cancel_all_errors = 0
        self.banned_until_ms = 0  # the venue's 418 ban ends then (wall-clock ms)
        self.queued: list[_Queued] = []  # cancel-alls waiting for the ban's end
        self._ban_timer: Timer | None = None

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
        req = _Queued(ev.symbol, frozenset(active), ev.flatten, ev.reason)
        if self.ban_left_s() > 0.0:
            self._queue(req)
        else:
            self.desk.spawn(self._cancel_everything(req))

    def on_rate_limit(self, ev: RateLimit) -> None:
        """A 418: halted at once; nothing goes out until the ban ends, then the queued cancel-alls do."""
        if ev.status != 418 or ev.banned_until_ms <= 0:
            return
        self.banned_until_ms = max(self.banned_until_ms, ev.banned_until_ms)
        self.halt(f"venue ban (418) until {iso_utc(self.banned_until_ms)}")
        if self.queued:
            self._arm()

    def ban_left_s(self) -> float:
        return (self.banned_until_ms - self.clock.now_ms()) / 1000.0

    def _queue(self, req: _Queued) -> None:
        self.queued.append(req)
        log.warning("router: cancel-all %s (%s) queued: the venue bans this IP until %s; it goes out then",
                    req.symbol or "of every symbol", req.reason, iso_utc(self.banned_until_ms))
        self._arm()

    def _arm(self) -> None:
        if self._ban_timer is not None:
            self._ban_timer.cancel()
        self._ban_timer = self.clock.call_later(max(0.0, self.ban_left_s()) + BAN_END_MARGIN_S, self._ban_over)

    def _ban_over(self) -> None:
        self._ban_timer = None
        if self.ban_left_s() > 0.0:  # extended meanwhile
            self._arm()
            return
        queued, self.queued = self.queued, []
        log.warning("router: the venue's ban is over; sending %d queued cancel-all(s)", len(queued))
        for req in queued:
            self.desk.spawn(self._cancel_everything(req))

    def halt(self, reason: str) -> None:
        """No new order from now on; every execution ends (its live order cancelled, not replaced). Idempotent."""
        if not self.reason:
            log.warning("router: halted (%s)", reason)
        self.reason = reason or "halted"
        for ex in list(self.executor.executions.values()):
            self.executor.stop(ex, f"halted: {self.reason}")

    async def _cancel_everything(self, req: _Queued) -> None:
        """Cancel every open order of ``req.symbol`` ("" = of every symbol the venue reports open orders
        for, plus ``req.also``: the symbols this router was trading), then optionally flatten positions
        with reduce-only market orders. A ban met on the way queues the whole request again."""
        venue = self.desk.venue
        symbol, reason = req.symbol, req.reason
        symbols = {symbol} if symbol else set(req.also)
        try:
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
        except RateLimited as e:
            self.banned_until_ms = max(self.banned_until_ms, self.clock.now_ms() + round(e.retry_after_s * 1000))
            self._queue(req)
            return
        if req.flatten:
            for sym, qty in sorted(self.positions.items()):
                if qty != 0.0 and symbol in ("", sym):
                    self._flatten(sym, qty, reason)

    def _cancel_all_failed(self, what: str, e: Exception) -> None:
        """Count and alert a failed call; a ban is re-raised (the whole cancel-all waits for its end)."""
        if isinstance(e, RateLimited) and e.banned:
            raise e
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
