"""The exit scanner: on every book tick, move each open position's exit levels and, when one is
hit, ask for a reduce-only exit — through risk and the router like every other order.

Owns: the per-tick check (``on_book``, a synchronous bus handler), the exit intents and the
rule "one live exit per position".

Design:
- ``on_book`` costs a dict lookup when the symbol has no position, and a few float comparisons
  when it has one and nothing triggers: no event is built, nothing is published or written.
  A stop that ratchets marks the ledger dirty (written later, coalesced) and publishes the
  position's new ``LedgerPosition``.
- An exit is an ``OrderIntent(reduce_only=True)``: ``urgent`` for stops (the router goes straight
  to an IOC), maker-first for a take-profit. Its notional is the position's quantity at the
  exit price plus a hair, so risk clips it to exactly the position (``reduce_only_clip``) and the
  router never rounds it down below the position's size.
- Intent ids are deterministic: ``exit-<symbol>-<position key>-<attempt>``. The attempt number
  is written to the ledger file *before* the intent is published (write-ahead), so a restarted
  process continues with the next number and never reuses an id the router may already have
  executed. If that write fails no exit is published (and the next tick tries again).
- One live exit per position: a new attempt is issued only when the previous one has no
  working order and showed no sign of life (its request, an update of its orders) for
  ``portfolio.exit_retry_s`` — e.g. a vetoed exit, an IOC that found no liquidity within the
  slippage cap, or an attempt whose orders a crash left behind (the router cancels those). Risk
  counts working orders in the worst case, so a second reduce-only order that would over-close a
  position is vetoed (``nothing_to_reduce``) anyway.
- The time stop (``exits.time_stop``): a position still open ``exits.horizon_s`` after its opening
  fill (book event time against the fill's time) is closed like a stop (urgent), so the trade
  the portfolio manages is the one the calibrator labelled.
- Nothing is asked for before the first reconciliation (``ready``): levels still move.
- With ``protect`` (feature ``exchange_stop_orders``) a tick that triggers nothing also lets the
  position ask for its protective stop at the exchange (``hedge.portfolio.protective``).

Must never: send or size an order itself, bypass ``check_order``, or issue a second exit for a
position while one is working.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hedge.config import ExitParams
from hedge.events import BookUpdate, LedgerPosition, OrderIntent, OrderUpdate, Side
from hedge.model.clock import Clock
from hedge.portfolio.exits import ExitKind, update
from hedge.portfolio.ledger import Entry, Ledger
from hedge.portfolio.protective import ProtectiveStops

log = logging.getLogger(__name__)

EXIT_PREFIX = "exit-"
_PAD = 1.0 + 1e-6  # notional padding: risk clips an exit to exactly the position


def exit_intent_id(symbol: str, key: str, attempt: int) -> str:
    return f"{EXIT_PREFIX}{symbol}-{key}-{attempt}"


class ExitScanner:
    def __init__(
        self,
        ledger: Ledger,
        params: ExitParams,
        *,
        trailing: bool,
        retry_s: float,
        publish: Callable[[OrderIntent | LedgerPosition], None],
        write_ahead: Callable[[], object],  # raises OSError when it cannot write
        changed: Callable[[], None],
        clock: Clock,
        protect: ProtectiveStops | None = None,
    ) -> None:
        self.ledger = ledger
        self.protect = protect  # feature exchange_stop_orders: the stop also rests at the exchange
        self.entries = ledger.entries
        self.params = params
        self.time_stop_ms = int(params.horizon_s * 1000) if params.time_stop else 0
        self.trailing = trailing
        self.retry_ms = int(retry_s * 1000)
        self.publish = publish
        self.write_ahead = write_ahead
        self.changed = changed
        self.clock = clock
        self.ready = False
        self.exits = 0
        self.by_kind: dict[str, int] = {}
        self.write_failures = 0
        self._working: dict[str, set[str]] = {}  # exit intent id -> its orders not yet final

    # ------------------------------------------------------------------ per tick

    def on_book(self, u: BookUpdate) -> None:
        e = self.entries.get(u.symbol)
        if e is None or not u.valid:
            return
        lv = e.levels
        px = u.bid_px if lv.sign > 0 else u.ask_px
        if not px > 0.0:
            return
        stop = lv.stop
        kind = update(lv, px, self.params, self.trailing)
        if kind is None and self.time_stop_ms and u.ts_ms - e.opened_ms >= self.time_stop_ms:
            kind = ExitKind.TIME_STOP
        if lv.stop != stop:
            self.changed()
            self.publish(self.ledger.event(u.symbol))
        if not self.ready:
            return
        if kind is not None:
            self._exit(e, kind, px, u)
        elif self.protect is not None:
            self.protect.check(e, u.recv_ns)

    def _exit(self, e: Entry, kind: ExitKind, px: float, u: BookUpdate) -> None:
        now = self.clock.now_ms()
        if e.exit_intent and (self._working.get(e.exit_intent) or now - e.exit_ms < self.retry_ms):
            return  # one live exit per position
        previous = (e.exit_attempts, e.exit_intent, e.exit_ms)
        e.exit_attempts += 1
        e.exit_intent = exit_intent_id(e.symbol, e.key, e.exit_attempts)
        e.exit_ms = now
        try:
            self.write_ahead()
        except OSError as exc:
            e.exit_attempts, e.exit_intent, e.exit_ms = previous
            self.write_failures += 1
            log.error("portfolio: cannot persist exit of %s (%s); not sent", e.symbol, exc)
            return
        self.exits += 1
        self.by_kind[kind.value] = self.by_kind.get(kind.value, 0) + 1
        qty = abs(e.qty)
        self.publish(
            OrderIntent(
                intent_id=e.exit_intent,
                symbol=e.symbol,
                side=Side.SELL if e.qty > 0.0 else Side.BUY,
                notional=qty * px * _PAD,
                strategy=e.strategy,
                reason=kind.value,
                reduce_only=True,
                urgent=kind.urgent,
                limit_px=px,
                tick_ns=u.recv_ns,
                ts_ms=u.ts_ms,
                recv_ns=self.clock.now_ns(),
            )
        )

    # ------------------------------------------------------------------ the exits' orders

    def on_order(self, cid: str, intent_id: str) -> None:
        """An order of an exit attempt was sent (or found working at the exchange)."""
        e = self._owner(intent_id)
        if e is not None:
            self._working.setdefault(intent_id, set()).add(cid)
            e.exit_ms = self.clock.now_ms()

    def on_order_update(self, u: OrderUpdate, intent_id: str) -> None:
        e = self._owner(intent_id)
        if e is None:
            self._working.pop(intent_id, None)
            return
        e.exit_ms = self.clock.now_ms()
        working = self._working.get(intent_id)
        if working is None:
            working = self._working[intent_id] = set()
        if u.status.is_final:
            working.discard(u.client_order_id)
        else:
            working.add(u.client_order_id)

    def sync_working(self, open_orders: dict[str, str]) -> None:
        """The exchange's open orders (client order id -> intent id) replace the working sets:
        an order the exchange no longer lists is final even if its last update was missed."""
        working: dict[str, set[str]] = {}
        for cid, iid in open_orders.items():
            if self._owner(iid) is not None:
                working.setdefault(iid, set()).add(cid)
        self._working = working

    def _owner(self, intent_id: str) -> Entry | None:
        if not intent_id.startswith(EXIT_PREFIX):
            return None
        for e in self.entries.values():
            if e.exit_intent == intent_id:
                return e
        return None

