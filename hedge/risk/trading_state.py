"""The trading state: ACTIVE (everything the limits allow), REDUCING (only exposure-reducing
orders), HALTED (only cancels).

Owns: the current state, why and since when, and the rule of which transitions are allowed.
Every transition is handed to ``publish`` as a ``TradingStateChange`` (reason and time).

Design: HALTED is sticky for the life of the process — it comes from the kill switch, and only
an operator restart (after removing the flag file) lifts it. REDUCING is entered on a drawdown
breach and left only by the rule that put it there clearing (a new UTC day for the daily
drawdown; never automatically for the portfolio drawdown). ``check_order`` re-checks the
drawdowns itself, so an order is safe even before the state has moved. A drawdown's REDUCING
outlives a restart (``hedge.risk.persisted`` carries it over); HALTED comes back from the flag
file, REDUCING for another cause does not come back.

Must never: decide on an order (``check_order`` does), or leave HALTED by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hedge.events import TradingState, TradingStateChange

log = logging.getLogger(__name__)


class TradingStateMachine:
    def __init__(self, publish: Callable[[TradingStateChange], None], now_ns: int) -> None:
        self._publish = publish
        self.state = TradingState.ACTIVE
        self.reason = "start"
        self.since_ns = now_ns

    def set(self, state: TradingState, reason: str, now_ns: int) -> bool:
        """Move to ``state``; False (and nothing published) when already there or leaving HALTED."""
        if state is self.state or self.state is TradingState.HALTED:
            return False
        previous = self.state
        self.state, self.reason, self.since_ns = state, reason, now_ns
        log.warning("trading state %s -> %s (%s)", previous, state, reason)
        self._publish(
            TradingStateChange(previous=previous, state=state, reason=reason, ts_ms=now_ns // 1_000_000, recv_ns=now_ns)
        )
        return True
