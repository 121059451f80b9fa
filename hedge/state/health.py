"""/health: is this process fit to trade right now, and if not, why.

Owns: the liveness rules. Healthy means every configured symbol has live market data and a
VALID book, no market-data connection is down, the user-data stream is live (when required),
the NAV reading is fresh, no component's last heartbeat was a failure, and the venue has not
banned this IP (a 418: "venue banned (418) until <ISO time>", until that time has passed).
Anything else is unhealthy with one human-readable reason per failed rule.

Design: event-driven. The verdict is computed on request from what ``Telemetry`` recorded from
FeedStatus, BookStatus, Heartbeat and Nav events and from their ages (``recv_ns``), so a feed
that publishes ``FeedStatus(connected=False)`` or a book that publishes ``BookStatus(INVALID)``
turns /health 503 at once, and the next good event turns it back. Thresholds come from config
(runtime.metrics.feed_stale_s, risk.nav_freshness_seconds).

Must never: change trading state (it reports; the risk stage decides), or raise on odd input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import msgspec

from hedge.events import BookState, Nav
from hedge.model.clock import iso_utc
from hedge.state.telemetry import Telemetry


class HealthReport(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    reasons: list[str]
    checked_ns: int


@dataclasses.dataclass(frozen=True)
class HealthRules:
    symbols: tuple[str, ...]
    feed_stale_s: float = 10.0
    nav_fresh_s: float = 90.0
    user_stream: str = "user"
    require_user_stream: bool = True


class HealthMonitor:
    def __init__(self, telemetry: Telemetry, rules: HealthRules) -> None:
        self.t = telemetry
        self.rules = rules

    def evaluate(self, now_ns: int | None = None) -> HealthReport:
        now = now_ns if now_ns is not None else self.t.clock.now_ns()
        reasons: list[str] = []
        reasons += self._feeds(now)
        reasons += self._books()
        reasons += self._user_stream()
        reasons += self._nav(now)
        reasons += self._components()
        reasons += self._ban(now)
        return HealthReport(ok=not reasons, reasons=reasons, checked_ns=now)

    def _feeds(self, now: int) -> list[str]:
        r = self.rules
        out = [
            f"feed {conn} disconnected" + (f": {st.reason}" if st.reason else "")
            for conn, st in sorted(self.t.feed_status.items())
            if conn != r.user_stream and not st.connected
        ]
        for sym in r.symbols:
            last = self.t.last_data_ns.get(sym)
            if last is None:
                out.append(f"no market data for {sym} yet")
            elif (age := (now - last) * 1e-9) > r.feed_stale_s:
                out.append(f"feed stale: no market data for {sym} for {age:.1f} s (limit {r.feed_stale_s:g} s)")
        return out

    def _books(self) -> list[str]:
        out: list[str] = []
        books = self.t.books
        for sym in _union(self.rules.symbols, sorted(books)):
            st = books.get(sym)
            if st is None:
                out.append(f"book {sym} not synced yet")
            elif st.state is not BookState.VALID:
                out.append(f"book {sym} {st.state.value}" + (f": {st.reason}" if st.reason else ""))
        return out

    def _user_stream(self) -> list[str]:
        r = self.rules
        if not r.require_user_stream:
            return []
        st = self.t.feed_status.get(r.user_stream)
        if st is None:
            return ["user stream not connected yet"]
        if not st.connected:
            return ["user stream down" + (f": {st.reason}" if st.reason else "")]
        beat = self.t.components.get(r.user_stream)
        if beat is not None and not beat.ok:
            return ["user stream down" + (f": {beat.detail}" if beat.detail else "")]
        return []

    def _nav(self, now: int) -> list[str]:
        last = self.t.last_seen_ns.get(Nav)
        if last is None:
            return ["no NAV reading yet"]
        age = (now - last) * 1e-9
        if age > self.rules.nav_fresh_s:
            return [f"NAV stale: {age:.1f} s old (limit {self.rules.nav_fresh_s:g} s)"]
        return []

    def _components(self) -> list[str]:
        return [
            f"component {name} failing" + (f": {hb.detail}" if hb.detail else "")
            for name, hb in sorted(self.t.components.items())
            if not hb.ok and name != self.rules.user_stream
        ]

    def _ban(self, now: int) -> list[str]:
        until = self.t.banned_until_ms
        if until * 1_000_000 <= now:
            return []
        return [f"venue banned (418) until {iso_utc(until)}: no request is sent; the router's cancels go out "
                "the moment the ban ends"]


def _union(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return list(dict.fromkeys((*first, *second)))
