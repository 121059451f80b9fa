"""The trading-state rules on NAV: drawdowns, staleness, a new UTC day, and the ALT-EXT switch.

Owns: ``alt_ext_disabled`` and the transitions NAV drives: a daily or portfolio drawdown breach
-> REDUCING and ALT-EXT off; stale NAV -> ALT-EXT off; a new UTC day re-arms both when the
daily drawdown was the cause (and nothing is breached any more).

Must never: publish directly (the machine publishes its changes), or read a clock (the caller
passes the time).
"""

from __future__ import annotations

import logging

from hedge.events import TradingState
from hedge.risk.limits import RiskLimits
from hedge.risk.nav import NavTracker
from hedge.risk.reasons import Reason
from hedge.risk.trading_state import TradingStateMachine

log = logging.getLogger(__name__)


class NavRules:
    def __init__(self, nav: NavTracker, machine: TradingStateMachine, limits: RiskLimits) -> None:
        self.nav = nav
        self.machine = machine
        self.limits = limits
        self.alt_ext_disabled = False

    def apply(self, now_ns: int) -> None:
        """Apply the rules to the current NAV."""
        nav, lim = self.nav, self.limits
        now_ms = now_ns // 1_000_000
        daily = nav.daily_drawdown() > lim.daily_dd_limit
        total = nav.portfolio_drawdown() > lim.portfolio_dd_limit
        stale = nav.updated_ms > 0 and nav.nav_health_snapshot(now_ms).age_s > lim.nav_freshness_s
        if nav.new_day:
            nav.new_day = False
            if not (daily or total or stale):
                if self.alt_ext_disabled:
                    log.info("risk: new UTC day, ALT-EXT re-enabled")
                self.alt_ext_disabled = False
                if self.machine.state is TradingState.REDUCING and self.machine.reason == Reason.DAILY_DRAWDOWN:
                    self.machine.set(TradingState.ACTIVE, "new UTC day", now_ns)
        if daily or total or stale:
            if not self.alt_ext_disabled:
                log.warning("risk: ALT-EXT disabled (%s)", "stale NAV" if stale else "drawdown breach")
            self.alt_ext_disabled = True
        if self.machine.state is TradingState.ACTIVE and (daily or total):
            self.machine.set(
                TradingState.REDUCING, Reason.DAILY_DRAWDOWN if daily else Reason.PORTFOLIO_DRAWDOWN, now_ns
            )
