"""Rate limits of the local exchange: request weight per IP, order counts per account, bans.

Owns: fixed-window counters for ``REQUEST_WEIGHT`` (1 minute) and ``ORDERS`` (10 seconds and
1 minute), the values of the ``X-MBX-USED-WEIGHT-1M`` / ``X-MBX-ORDER-COUNT-10S|1M`` headers, the
429 answer (with Retry-After) when a limit is exceeded and the 418 ban when a client keeps sending
requests after being told to stop, and the count of requests answered 418 (tests prove with it that
a banned client stays silent until its ban ends).

Must never: sleep or block; it only counts and answers.
"""

from __future__ import annotations

import msgspec

from hedge.exchange import errors

BAN_AFTER_REJECTS = 5  # requests refused with 429 within one window before the 418 ban
BAN_MS = 120_000


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    weight_1m: int = 6000
    orders_10s: int = 300
    orders_1m: int = 1200


UNLIMITED = Limits(weight_1m=1 << 40, orders_10s=1 << 40, orders_1m=1 << 40)


class _Window:
    __slots__ = ("count", "length_ms", "start_ms")

    def __init__(self, length_ms: int) -> None:
        self.length_ms = length_ms
        self.start_ms = 0
        self.count = 0

    def add(self, now_ms: int, n: int) -> int:
        start = now_ms - now_ms % self.length_ms
        if start != self.start_ms:
            self.start_ms, self.count = start, 0
        self.count += n
        return self.count

    def retry_after_s(self, now_ms: int) -> int:
        return max(1, (self.start_ms + self.length_ms - now_ms + 999) // 1000)


class RateLimiter:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._weight: dict[str, _Window] = {}
        self._rejects: dict[str, _Window] = {}
        self._orders10: dict[str, _Window] = {}
        self._orders60: dict[str, _Window] = {}
        self._banned_until: dict[str, int] = {}
        self.banned_requests = 0  # requests answered 418 (the ban's first answer included)

    def charge(self, ip: str, weight: int, now_ms: int) -> int:
        """Count a request's weight; returns the weight used in this minute or raises 429/418."""
        until = self._banned_until.get(ip, 0)
        if now_ms < until:
            self.banned_requests += 1
            raise errors.too_many_requests(until)
        win = self._weight.setdefault(ip, _Window(60_000))
        used = win.add(now_ms, weight)
        if used > self.limits.weight_1m:
            rej = self._rejects.setdefault(ip, _Window(60_000)).add(now_ms, 1)
            if rej > BAN_AFTER_REJECTS:
                self.ban(ip, now_ms + BAN_MS)
                self.banned_requests += 1
                raise errors.too_many_requests(now_ms + BAN_MS)
            raise errors.too_many_requests()
        return used

    def retry_after_s(self, ip: str, now_ms: int) -> int:
        until = self._banned_until.get(ip, 0)
        if now_ms < until:
            return max(1, (until - now_ms + 999) // 1000)
        win = self._weight.get(ip)
        return win.retry_after_s(now_ms) if win else 1

    def used_weight(self, ip: str) -> int:
        win = self._weight.get(ip)
        return win.count if win else 0

    def ban(self, ip: str, until_ms: int) -> None:
        self._banned_until[ip] = until_ms

    def count_order(self, account: str, now_ms: int) -> tuple[int, int]:
        """Count one order request; returns (10 s count, 1 min count) or raises -1015 with 429."""
        c10 = self._orders10.setdefault(account, _Window(10_000)).add(now_ms, 1)
        c60 = self._orders60.setdefault(account, _Window(60_000)).add(now_ms, 1)
        if c10 > self.limits.orders_10s or c60 > self.limits.orders_1m:
            raise errors.too_many_orders()
        return c10, c60

    def order_counts(self, account: str) -> tuple[int, int]:
        a, b = self._orders10.get(account), self._orders60.get(account)
        return (a.count if a else 0), (b.count if b else 0)
