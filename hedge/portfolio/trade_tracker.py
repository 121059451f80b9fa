"""The trade list's feed: every fill the ledger applies (``book``: the ledger first), with what the
portfolio knows about it, into the round-trip builder; every closed trade published as a ``ClosedTrade``.

Owns: the attribution of a fill to a trade's context —
- entry: the ledger entry after the fill (its key, strategy, entry reason, and the stop distance
  per unit its exit levels set: the trade's risk);
- exit reason, from the order's intent: a reduce-only intent's own reason (the exit scanner's
  ``take_profit``/``stop_loss``/``breakeven_stop``/``trailing_stop``, ``protective_stop``), by id
  prefix when the intent was not seen (``exit`` after a restart, ``protective_stop``, the
  kill switch's ``flatten``), ``signal`` for a strategy's own order that reduced or flipped the
  position, ``external`` for an order hedge did not send, ``liquidation``;
- excursions: the best and worst exit prices the position's levels saw before the fill;
- keeping the builder in step with the ledger: the ledger's entries are seeded at start (a
  restart), and a position that changed without a fill (drift forced, adopted) is re-seeded from
  the ledger before the next fill is booked (the trade the builder had is dropped, with a warning:
  its exit was never seen, so it has no PnL to report).

Must never: do I/O or decide anything (it only listens and publishes ``ClosedTrade``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hedge.events import ClosedTrade, Fill, LedgerPosition, OrderIntent
from hedge.portfolio.ledger import QTY_EPS, Entry, Ledger
from hedge.portfolio.protective import REASON as PROTECTIVE_STOP
from hedge.portfolio.protective import STOP_PREFIX
from hedge.portfolio.round_trips import FillContext, RoundTrips
from hedge.portfolio.scanner import EXIT_PREFIX

log = logging.getLogger(__name__)

FLATTEN_PREFIX = "flatten-"  # the kill switch's flatten intents (hedge.router.halt)
_REASONS_KEPT = 4096


class TradeTracker:
    def __init__(self, ledger: Ledger, publish: Callable[[ClosedTrade], None]) -> None:
        self.ledger = ledger
        self.publish = publish
        self.trips = RoundTrips()
        self.closed = 0
        self._reasons: dict[str, str] = {}  # reduce-only intent id -> its reason (bounded)
        for e in ledger.entries.values():
            self._seed(e)

    def on_intent(self, intent: OrderIntent) -> None:
        if intent.reduce_only:
            self._reasons[intent.intent_id] = intent.reason
            if len(self._reasons) > _REASONS_KEPT:
                del self._reasons[next(iter(self._reasons))]

    def book(self, fill: Fill) -> LedgerPosition | None:
        """The ledger applies ``fill`` (its new line, None for a duplicate), then the trade list books it."""
        sym = fill.symbol
        prior = self.ledger.entries.get(sym)  # mutated in place by the ledger: read what is needed first
        held = prior.qty if prior is not None else 0.0
        if abs(self.trips.qty(sym) - held) > QTY_EPS:
            dropped = self.trips.drop(sym)
            if dropped is not None:
                log.warning("portfolio: trade %s %s (%g) left out of the trade list: its position changed "
                            "without a fill (drift or adoption)", sym, dropped.key, dropped.qty)
            if prior is not None:
                self._seed(prior)
        best, worst = (prior.levels.best, prior.levels.worst) if prior is not None else (0.0, 0.0)
        line = self.ledger.apply_fill(fill)
        if line is None:
            return None
        after = self.ledger.entries.get(sym)
        ctx = FillContext(
            key=after.key if after is not None else "",
            strategy=after.strategy if after is not None else "",
            entry_reason=after.reason if after is not None else "",
            exit_reason=self.exit_reason(fill),
            risk_per_unit=after.levels.risk if after is not None else 0.0,
            best=best,
            worst=worst,
        )
        for trip in self.trips.apply(fill, ctx):
            self.closed += 1
            log.info("portfolio: trade closed %s %s %g @ %g -> %g (%s): net %+.4f USDT%s", trip.symbol, trip.side,
                     trip.qty, trip.entry_price, trip.exit_price, trip.exit_reason, trip.net_pnl,
                     f", {trip.r_multiple:+.2f}R" if trip.r_multiple is not None else "")
            self.publish(trip)
        return line

    def exit_reason(self, fill: Fill) -> str:
        """Why an order that reduced a position was sent (see the module docstring)."""
        if fill.liquidation:
            return "liquidation"
        state = self.ledger.state
        tag = state.tags.get(fill.client_order_id or state.order_ids.get(fill.exchange_order_id, ""))
        if tag is None or tag.external:
            return "external"
        iid = tag.intent_id
        reason = self._reasons.get(iid)
        if reason:
            return reason
        if iid.startswith(EXIT_PREFIX):
            return "exit"
        if iid.startswith(STOP_PREFIX):
            return PROTECTIVE_STOP
        if iid.startswith(FLATTEN_PREFIX):
            return "flatten"
        return "signal"

    def _seed(self, e: Entry) -> None:
        ctx = FillContext(key=e.key, strategy=e.strategy, entry_reason=e.reason, risk_per_unit=e.levels.risk,
                          best=e.levels.best, worst=e.levels.worst)
        self.trips.seed(e.symbol, e.qty, e.entry_price, ctx, opened_ms=e.opened_ms, realized=e.realized_pnl,
                        fees=e.fees)
