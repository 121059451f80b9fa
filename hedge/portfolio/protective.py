"""Protective stops (feature ``exchange_stop_orders``): each open position's stop level also rests at
the exchange as a STOP_MARKET, so that a dead process (crash, network loss) keeps its stop-loss.

Owns: when a position asks for its protective stop, and for a new one. The router places,
replaces and cancels the order itself (``hedge.router.protective``: one live stop per symbol,
``closePosition``, cancel-then-place, cancelled when the exchange reports the position flat).

Rules:
- A protective stop is an ``OrderIntent(reduce_only=True, stop_price=<level>)`` through
  ``check_order`` like every order: allowed while REDUCING; vetoed while HALTED — the stops already
  resting stay (the router's halt leaves them; they only reduce risk), only the kill switch's
  ``CancelAll`` removes them, as the operator asked.
- Asked for once the first reconciliation is done (``ready``), for every position with a stop
  level: at once when it has none, again when its stop moved by at least
  ``portfolio.protective_stop_min_move_bps`` from the level resting at the exchange (breakeven,
  trailing: the level only ratchets in the position's favour), and again when the last one is not
  resting (vetoed, rejected -2021, cancelled elsewhere) after ``portfolio.exit_retry_s``.
- Intent ids ``pstop-<symbol>-<position key>-<n>``; ``n`` is written to the ledger before the
  intent is published (write-ahead, like the exits), so a restart never reuses one.
- ``check`` runs on every tick of a held symbol: two float comparisons when nothing is due.

Must never: send an order itself, or ask for a second stop while the last one is still being placed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hedge.events import OrderIntent, OrderStatus, Side
from hedge.model.clock import Clock
from hedge.portfolio.ledger import Entry

log = logging.getLogger(__name__)

STOP_PREFIX = "pstop-"
REASON = "protective_stop"


def stop_intent_id(symbol: str, key: str, attempt: int) -> str:
    return f"{STOP_PREFIX}{symbol}-{key}-{attempt}"


class ProtectiveStops:
    def __init__(
        self,
        entries: dict[str, Entry],
        *,
        min_move_bps: float,
        retry_s: float,
        publish: Callable[[OrderIntent], None],
        write_ahead: Callable[[], object],  # raises OSError when it cannot write
        changed: Callable[[], None],
        clock: Clock,
    ) -> None:
        self.entries = entries
        self.min_move = min_move_bps * 1e-4
        self.retry_ms = int(retry_s * 1000)
        self.publish = publish
        self.write_ahead = write_ahead
        self.changed = changed
        self.clock = clock
        self.requests = 0
        self.write_failures = 0

    def check(self, e: Entry, tick_ns: int = 0) -> None:
        """Ask for ``e``'s protective stop when one is due (see the module docstring)."""
        want = e.levels.stop
        if want <= 0.0 or e.qty == 0.0:
            return
        if e.stop_live and abs(want - e.stop_px) < want * self.min_move:
            return  # resting, and the stop has not moved far enough to be worth a cancel/replace
        if not e.stop_live and e.stop_intent and self.clock.now_ms() - e.stop_ms < self.retry_ms:
            return  # the last request is still on its way (or was refused only recently)
        self._request(e, want, tick_ns)

    def _request(self, e: Entry, level: float, tick_ns: int) -> None:
        previous = (e.stop_attempts, e.stop_intent, e.stop_px, e.stop_ms, e.stop_live)
        e.stop_attempts += 1
        e.stop_intent = stop_intent_id(e.symbol, e.key, e.stop_attempts)
        e.stop_px, e.stop_ms, e.stop_live = level, self.clock.now_ms(), False
        try:
            self.write_ahead()
        except OSError as exc:
            e.stop_attempts, e.stop_intent, e.stop_px, e.stop_ms, e.stop_live = previous
            self.write_failures += 1
            log.error("portfolio: cannot persist protective stop of %s (%s); not sent", e.symbol, exc)
            return
        self.requests += 1
        qty = abs(e.qty)
        self.publish(OrderIntent(
            intent_id=e.stop_intent, symbol=e.symbol, side=Side.SELL if e.qty > 0.0 else Side.BUY,
            notional=qty * level, strategy=e.strategy, reason=REASON, reduce_only=True, limit_px=level,
            stop_price=level, tick_ns=tick_ns, recv_ns=self.clock.now_ns(),
        ))

    def on_order_update(self, intent_id: str, status: OrderStatus) -> None:
        """An order of a protective-stop intent changed: is the position's current stop resting?"""
        if not intent_id.startswith(STOP_PREFIX):
            return
        for e in self.entries.values():
            if e.stop_intent == intent_id:
                live = status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
                if live != e.stop_live:
                    e.stop_live = live
                    if not live:
                        e.stop_ms = self.clock.now_ms()  # retried after retry_s
                    self.changed()
                return

    def sync(self, resting_intents: set[str]) -> None:
        """Reconciliation's open orders: a position's stop is resting only if the exchange lists it."""
        for e in self.entries.values():
            live = bool(e.stop_intent) and e.stop_intent in resting_intents
            if live != e.stop_live:
                e.stop_live = live
                self.changed()
