"""The risk stage's ``RiskSnapshot``: NAV, drawdowns, exposures, VaR/CVaR, open orders, trading state.

Owns: building the snapshot (exposures at the latest marks as multiples of NAV, VaR/CVaR of the
return history once it holds ``cvar_min_samples``) and publishing it at most every
``SNAPSHOT_INTERVAL_NS`` on the stage's clock (the state files, /metrics and the drawdown alert
read it).

Must never: change the risk view, or publish more often than the interval.
"""

from __future__ import annotations

from hedge.bus import Bus
from hedge.events import RiskSnapshot
from hedge.model.clock import Clock
from hedge.risk.check import historical_cvar, historical_var
from hedge.risk.exposure import Exposure
from hedge.risk.limits import RiskLimits
from hedge.risk.nav import NavTracker
from hedge.risk.trading_state import TradingStateMachine

SNAPSHOT_INTERVAL_NS = 250_000_000


class SnapshotPublisher:
    def __init__(
        self,
        bus: Bus,
        clock: Clock,
        *,
        nav: NavTracker,
        exposure: Exposure,
        machine: TradingStateMachine,
        limits: RiskLimits,
    ) -> None:
        self.bus = bus
        self.clock = clock
        self.nav = nav
        self.exposure = exposure
        self.machine = machine
        self.limits = limits
        self._published_ns = -SNAPSHOT_INTERVAL_NS  # when the last RiskSnapshot was published

    def build(self, now_ns: int) -> RiskSnapshot:
        """The risk view now: exposures at the latest marks as multiples of NAV, VaR/CVaR of the returns."""
        nav = self.nav
        value = nav.value
        gross = net = 0.0
        for p in self.exposure.positions.values():
            x = p.qty * p.mark
            gross += abs(x)
            net += x
        lim = self.limits
        enough = len(nav.returns) >= lim.cvar_min_samples
        return RiskSnapshot(
            nav=value, peak_nav=nav.hwm, drawdown=nav.portfolio_drawdown(), daily_drawdown=nav.daily_drawdown(),
            gross_exposure=gross / value if value > 0.0 else 0.0, net_exposure=net / value if value > 0.0 else 0.0,
            var=historical_var(nav.returns, lim.cvar_alpha) if enough else 0.0,
            cvar=historical_cvar(nav.returns, lim.cvar_alpha) if enough else 0.0,
            open_orders=len(self.exposure.orders), state=self.machine.state, reason=self.machine.reason,
            ts_ms=now_ns // 1_000_000, recv_ns=now_ns,
        )

    def publish(self) -> None:
        """Publish a snapshot unless one was published within the interval."""
        now = self.clock.now_ns()
        if now - self._published_ns >= SNAPSHOT_INTERVAL_NS:
            self._published_ns = now
            self.bus.publish(self.build(now))
