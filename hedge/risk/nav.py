"""NAV: the futures wallet's value in USDT (wallet balance + unrealized PnL) and its health.

Owns: the latest NAV reading, where it came from and when; the day-start NAV (first reading of
each UTC day), the high-water mark, and the periodic return history the CVaR gate reads.

Design: only the exchange's own numbers count — ``Nav`` events (from account updates and
reconciliations) taken as they are, or ``Balance`` (USDT) plus the ``Position`` unrealized PnL
of every symbol summed here when a venue reports those separately. Age is measured from the
last exchange reading on the local clock; a reading that is too old vetoes every order (see
``check_order``). Spot or other wallets are never counted.

The day-start NAV is the first reading of each UTC day. ``restore`` carries the day start, the
high-water mark and the return history over a restart (``hedge.risk.persisted`` decides what is
still valid); the NAV itself never is: it is re-read from the exchange.

Must never: estimate NAV from the engine's own fills or prices, or reset the high-water mark.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from hedge.events import Balance, Nav, Position
from hedge.risk.context import NavHealth
from hedge.risk.limits import MS_PER_DAY

NAV_ASSET = "USDT"


class NavTracker:
    """Keeps NAV, day-start NAV, the high-water mark and the return history current."""

    def __init__(self, *, return_period_s: float = 3600.0, return_window: int = 720) -> None:
        self.value = 0.0
        self.source = ""
        self.updated_ms = 0
        self.day_start_nav = 0.0
        self.hwm = 0.0
        self._day = -1
        self._wallet = 0.0
        self._upnl: dict[str, float] = {}
        self._period_ms = int(return_period_s * 1000)
        self._sample_nav = 0.0
        self._sample_ms = 0
        self._returns: deque[float] = deque(maxlen=return_window)
        self.returns: tuple[float, ...] = ()  # rebuilt once per period, so contexts can share it
        self.new_day = False  # set when the last reading opened a new UTC day

    @property
    def day(self) -> int:
        """The UTC day (``ms // MS_PER_DAY``) ``day_start_nav`` belongs to; -1 before the first reading."""
        return self._day

    @property
    def sample(self) -> tuple[float, int]:
        """The NAV and time (ms) the next return will be measured from (0, 0 before the first reading)."""
        return self._sample_nav, self._sample_ms

    def restore(
        self, *, day: int, day_start_nav: float, hwm: float, returns: Sequence[float], sample: tuple[float, int]
    ) -> None:
        """Carry a previous process's memory over (before the first reading). ``day`` -1 = no day start."""
        self._day, self.day_start_nav = (day, day_start_nav) if day >= 0 and day_start_nav > 0.0 else (-1, 0.0)
        self.hwm = max(self.hwm, hwm)
        self._returns.extend(returns)
        self.returns = tuple(self._returns)
        self._sample_nav, self._sample_ms = sample

    def on_nav(self, ev: Nav, now_ms: int) -> None:
        self._wallet = ev.wallet_balance
        self._set(ev.nav, ev.source, now_ms)

    def on_balance(self, ev: Balance, now_ms: int) -> None:
        if ev.asset != NAV_ASSET:
            return
        self._wallet = ev.wallet_balance
        self._set(self._wallet + sum(self._upnl.values()), "account_update", now_ms)

    def on_position(self, ev: Position, now_ms: int) -> None:
        self._upnl[ev.symbol] = ev.unrealized_pnl
        if self.updated_ms > 0:  # a wallet balance is known: NAV = wallet + unrealized PnL
            self._set(self._wallet + sum(self._upnl.values()), "account_update", now_ms)

    def _set(self, nav: float, source: str, now_ms: int) -> None:
        self.value = nav
        self.source = source
        self.updated_ms = now_ms
        day = now_ms // MS_PER_DAY
        self.new_day = day != self._day
        if self.new_day:
            self._day = day
            self.day_start_nav = nav
        self.hwm = max(self.hwm, nav)
        if self._sample_ms == 0:
            self._sample_nav, self._sample_ms = nav, now_ms
        elif now_ms - self._sample_ms >= self._period_ms and self._sample_nav > 0.0:
            self._returns.append(nav / self._sample_nav - 1.0)
            self.returns = tuple(self._returns)
            self._sample_nav, self._sample_ms = nav, now_ms

    def nav_health_snapshot(self, now_ms: int) -> NavHealth:
        """Value, age (s; infinite before the first reading), source and time of the last reading."""
        age = (now_ms - self.updated_ms) / 1000.0 if self.updated_ms > 0 else float("inf")
        return NavHealth(value=self.value, age_s=age, source=self.source, updated_ms=self.updated_ms)

    # No reading yet (a restart carried the day start and HWM over): no drawdown is known. A NAV
    # of 0 there is "not read", not "lost everything" (``nav_missing`` vetoes meanwhile).

    def daily_drawdown(self) -> float:
        return 1.0 - self.value / self.day_start_nav if self.day_start_nav > 0.0 and self.updated_ms > 0 else 0.0

    def portfolio_drawdown(self) -> float:
        return 1.0 - self.value / self.hwm if self.hwm > 0.0 and self.updated_ms > 0 else 0.0
