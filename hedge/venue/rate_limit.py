"""The venue client's request budget: Binance's weight and order-count headers, 429 and 418.

Owns: ``RequestBudget``, which reads ``X-MBX-USED-WEIGHT-1M`` and ``X-MBX-ORDER-COUNT-10S`` from
every response, refuses a request *before* it is sent when it would take the used share above
``weight_budget`` (0.80) of the limit (the limits come from exchangeInfo ``rateLimits``), and
after a 429 (honour ``Retry-After``) or a 418 (banned: nothing at all until the ban ends) refuses
every request until the time is up.

Design: refusing raises ``RateLimited`` with the seconds to wait, so the caller decides: reads
wait and retry, the router reschedules an order. Budgets reset with Binance's windows (the
minute, the 10 s slot), judged by the local clock. Headers are case-insensitive.

Must never: send a request during a ban, or sleep itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from hedge.model.clock import Clock, LiveClock
from hedge.venue.errors import RateLimited

DEFAULT_WEIGHT_LIMIT_1M = 2400
DEFAULT_ORDER_LIMIT_10S = 300
_BAN_DEFAULT_S = 120.0  # a 418 without Retry-After: Binance bans for 2 min at least
BAN_END_MARGIN_S = 0.05  # what waits for a ban's end resumes this long after it (the check here is strict)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    v = headers.get(name)
    if v is None:
        low = name.lower()
        v = next((val for k, val in headers.items() if k.lower() == low), None)
    return v


class RequestBudget:
    def __init__(
        self,
        *,
        budget: float = 0.80,
        weight_limit_1m: int = DEFAULT_WEIGHT_LIMIT_1M,
        order_limit_10s: int = DEFAULT_ORDER_LIMIT_10S,
        clock: Clock | None = None,
    ) -> None:
        self.budget = budget
        self.weight_limit_1m = weight_limit_1m
        self.order_limit_10s = order_limit_10s
        self.clock: Clock = clock or LiveClock()
        self.used_weight = 0
        self.used_orders = 0
        self._weight_window = -1
        self._order_window = -1
        self.blocked_until = 0.0  # wall-clock seconds
        self.banned = False
        self.refused = 0

    @property
    def weight_used_share(self) -> float:
        if int(self.clock.now_s() // 60) != self._weight_window:
            return 0.0
        return self.used_weight / self.weight_limit_1m if self.weight_limit_1m else 0.0

    def check(self, *, order: bool) -> None:
        """Raise ``RateLimited`` if this request must not be sent now."""
        now = self.clock.now_s()
        if now < self.blocked_until:
            self.refused += 1
            raise RateLimited(
                "banned (418) until the ban ends" if self.banned else "backing off after 429",
                http_status=418 if self.banned else 429, retry_after_s=self.blocked_until - now, banned=self.banned,
            )
        self.banned = False
        if order:
            slot = int(now // 10)
            if slot == self._order_window and self.used_orders >= self.budget * self.order_limit_10s:
                self.refused += 1
                raise RateLimited("order-count budget used", http_status=0, retry_after_s=(slot + 1) * 10 - now)
            return
        minute = int(now // 60)
        if minute == self._weight_window and self.used_weight >= self.budget * self.weight_limit_1m:
            self.refused += 1
            raise RateLimited("request-weight budget used", http_status=0, retry_after_s=(minute + 1) * 60 - now)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Take the counters of one response (any status)."""
        now = self.clock.now_s()
        w = _header(headers, "X-MBX-USED-WEIGHT-1M")
        if w is not None and w.strip().isdigit():
            self.used_weight, self._weight_window = int(w), int(now // 60)
        o = _header(headers, "X-MBX-ORDER-COUNT-10S")
        if o is not None and o.strip().isdigit():
            self.used_orders, self._order_window = int(o), int(now // 10)
        if status in (418, 429):
            ra = _header(headers, "Retry-After")
            try:
                wait = float(ra) if ra is not None else (_BAN_DEFAULT_S if status == 418 else 1.0)
            except ValueError:
                wait = _BAN_DEFAULT_S if status == 418 else 1.0
            self.blocked_until = max(self.blocked_until, now + wait)
            self.banned = self.banned or status == 418

    @staticmethod
    def retry_after(headers: Mapping[str, str]) -> float:
        ra = _header(headers, "Retry-After")
        try:
            return float(ra) if ra is not None else 0.0
        except ValueError:
            return 0.0
