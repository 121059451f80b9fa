"""What a reconciliation does with each symbol's verdict: adopt, force, flag, or resolve drift.

Owns: the symbols in drift, and the action on each (confirmed) verdict of a reconciliation: a
symbol that agrees loses its unconfirmed flag and, if it was drifting, its drift is published
resolved; a position the ledger did not know is adopted as external (``Alert``); a different
quantity is drift, the exchange's is taken; a symbol the exchange did not report keeps its
ledger entry, flagged unconfirmed, also as drift. Drift is published as ``PositionDrift``.

Must never: read an unreported symbol as flat, fetch from the exchange or send an order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hedge.events import Alert, Event, Position, PositionDrift
from hedge.model.clock import Clock
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.reconcile import Mismatch

log = logging.getLogger(__name__)


class DriftResolver:
    """Acts on a reconciliation's verdicts (see the module docstring)."""

    def __init__(self, ledger: Ledger, publish: Callable[[Event], None], changed: Callable[[], None],
                 clock: Clock) -> None:
        self.ledger = ledger
        self.publish = publish
        self.changed = changed  # the ledger changed: the store writes it
        self.clock = clock
        self.drifting: set[str] = set()

    def agreed(self, sym: str) -> None:
        """The exchange confirms the ledger's ``sym``."""
        e = self.ledger.entries.get(sym)
        if e is not None and e.unconfirmed:
            e.unconfirmed = False
            self.changed()
        if sym in self.drifting:
            self.drifting.discard(sym)
            q = self.ledger.qty(sym)
            self.publish(PositionDrift(symbol=sym, local_qty=q, exchange_qty=q, resolved=True,
                                       recv_ns=self.clock.now_ns()))

    def act(self, m: Mismatch, now_ms: int) -> bool:
        """Resolve one confirmed difference; True when it was an adoption rather than drift."""
        sym = m.symbol
        self.changed()
        if not m.reported:
            e = self.ledger.entries[sym]
            e.unconfirmed = True
            log.error("portfolio: %s held in the ledger (%g) but not reported by the exchange", sym, m.local_qty)
            self._drift(m)
            return False
        pos = Position(symbol=sym, qty=m.exchange_qty, entry_price=m.exchange_entry)
        if m.local_qty == 0.0:
            self.publish(self.ledger.adopt(pos, now_ms))
            log.warning("portfolio: adopted external position %s %g @ %g", sym, m.exchange_qty, m.exchange_entry)
            self.publish(Alert(
                severity="warning", title=f"external position {sym}",
                text=f"{sym}: the exchange holds {m.exchange_qty:g} @ {m.exchange_entry:g} that hedge did not open; "
                     "adopted as external with default exits", recv_ns=self.clock.now_ns(),
            ))
            return True
        log.error("portfolio: drift on %s: ledger %g, exchange %g; taking the exchange's", sym, m.local_qty,
                  m.exchange_qty)
        self.publish(self.ledger.force(pos, now_ms))
        self._drift(m)
        return False

    def _drift(self, m: Mismatch) -> None:
        self.drifting.add(m.symbol)
        self.publish(PositionDrift(symbol=m.symbol, local_qty=m.local_qty, exchange_qty=m.exchange_qty,
                                   reported=m.reported, recv_ns=self.clock.now_ns()))
