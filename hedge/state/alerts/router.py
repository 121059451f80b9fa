"""The alert router: which engine events become alerts, and at what severity.

Owns: the rules. Passed through: every ``Alert`` event. Derived (published back on the bus as
``Alert`` events so they are journaled too): trading state REDUCING (warning) / HALTED
(critical) / back to ACTIVE (info); kill switch engaged (critical) or released (info); position
drift found (warning); a 418 ban (critical); the user-data stream down (critical) and restored
(info); daily drawdown reaching ``risk.daily_dd_limit`` (critical, once until it recovers).
The same title again within ``dedup_s`` is counted as deduplicated and not sent.

Must never: block (it hands alerts to ``AlertDispatcher.offer``), decide anything about
trading, or put a secret in an alert.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hedge.bus import Bus
from hedge.events import (
    Alert,
    FeedStatus,
    KillSwitch,
    PositionDrift,
    RateLimit,
    RiskSnapshot,
    TradingState,
    TradingStateChange,
)
from hedge.model.clock import Clock, LiveClock
from hedge.state.alerts.dispatcher import AlertDispatcher

_STATE_SEVERITY = {TradingState.HALTED: "critical", TradingState.REDUCING: "warning", TradingState.ACTIVE: "info"}


class AlertRouter:
    def __init__(
        self,
        bus: Bus,
        dispatcher: AlertDispatcher,
        *,
        daily_dd_limit: float,
        user_stream: str = "user",
        dedup_s: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        self.bus = bus
        self.dispatcher = dispatcher
        self.daily_dd_limit = daily_dd_limit
        self.user_stream = user_stream
        self.dedup_s = dedup_s
        self.clock: Clock = clock or LiveClock()
        self._last_sent: dict[str, float] = {}
        self._dd_fired = False
        self._user_down = False

    def attach(self) -> None:
        subs: tuple[tuple[type[Any], Callable[[Any], None]], ...] = (
            (Alert, self.on_alert),
            (TradingStateChange, self.on_trading_state),
            (KillSwitch, self.on_kill_switch),
            (PositionDrift, self.on_drift),
            (RateLimit, self.on_rate_limit),
            (FeedStatus, self.on_feed_status),
            (RiskSnapshot, self.on_risk),
        )
        for etype, handler in subs:
            self.bus.subscribe(etype, handler)

    def raise_alert(self, severity: str, title: str, text: str) -> None:
        self.bus.publish(Alert(severity=severity, title=title, text=text, recv_ns=self.clock.now_ns()))

    def on_alert(self, ev: Alert) -> None:
        stats = self.dispatcher.stats
        stats.raised += 1
        now = self.clock.now_s()
        last = self._last_sent.get(ev.title)
        if last is not None and now - last < self.dedup_s:
            stats.deduplicated += 1
            return
        self._last_sent[ev.title] = now
        self.dispatcher.offer(ev)

    def on_trading_state(self, ev: TradingStateChange) -> None:
        if ev.state is ev.previous:
            return
        text = f"{ev.previous.value} -> {ev.state.value}: {ev.reason}"
        self.raise_alert(_STATE_SEVERITY[ev.state], f"trading {ev.state.value}", text)

    def on_kill_switch(self, ev: KillSwitch) -> None:
        if ev.engaged:
            self.raise_alert("critical", "kill switch engaged", ev.reason or "kill switch engaged")
        else:
            self.raise_alert("info", "kill switch released", ev.reason or "kill switch released")

    def on_drift(self, ev: PositionDrift) -> None:
        if ev.resolved:
            return
        self.raise_alert(
            "warning",
            f"position drift {ev.symbol}",
            f"{ev.symbol}: ledger {ev.local_qty:g} vs exchange {ev.exchange_qty:g}",
        )

    def on_rate_limit(self, ev: RateLimit) -> None:
        if ev.status == 418:
            self.raise_alert(
                "critical", "venue ban (418)", f"all requests halted; retry after {ev.retry_after_s:g} s"
            )

    def on_feed_status(self, ev: FeedStatus) -> None:
        if ev.connection != self.user_stream:
            return
        if not ev.connected and not self._user_down:
            self._user_down = True
            self.raise_alert("critical", "user stream down", ev.reason or "user-data stream disconnected")
        elif ev.connected and self._user_down:
            self._user_down = False
            self.raise_alert("info", "user stream restored", ev.reason or "user-data stream connected")

    def on_risk(self, ev: RiskSnapshot) -> None:
        if ev.daily_drawdown >= self.daily_dd_limit > 0.0:
            if not self._dd_fired:
                self._dd_fired = True
                self.raise_alert(
                    "critical",
                    "daily drawdown limit",
                    f"daily drawdown {ev.daily_drawdown:.2%} >= limit {self.daily_dd_limit:.2%} (NAV {ev.nav:,.2f})",
                )
        elif self._dd_fired:
            self._dd_fired = False
