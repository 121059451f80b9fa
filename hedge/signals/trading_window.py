"""The UTC trading window (runtime.yaml ``trading_window``) evaluated on event time.

Owns: "may new exposure be opened at exchange time ``ts_ms``?" — minute of day in
[start, end) on one of ``days`` (0 = Monday). ``start > end`` wraps midnight (22:00-02:00);
``start == end`` is an empty window. Integer arithmetic on the timestamp, no datetime objects,
no wall clock, so that replays decide exactly as they did live.

Must never: gate exits (reduce-only intents are not screened by it).
"""

from __future__ import annotations

from hedge.config import TradingWindow

_MS_PER_MIN = 60_000
_MS_PER_DAY = 86_400_000
_WEEK = frozenset(range(7))


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


class WindowGate:
    __slots__ = ("_days", "_end", "_start", "always")

    def __init__(self, window: TradingWindow) -> None:
        self._start = _minutes(window.start)
        self._end = _minutes(window.end)
        self._days = frozenset(window.days)
        # open at every moment (00:00-24:00 on every day, the default): the screener then skips ``open_at``
        self.always = self._start <= 0 and self._end >= 1440 and self._days >= _WEEK

    def open_at(self, ts_ms: int) -> bool:
        minute = (ts_ms // _MS_PER_MIN) % 1440
        weekday = (ts_ms // _MS_PER_DAY + 3) % 7  # 1970-01-01 was a Thursday
        start, end = self._start, self._end
        if start <= end:
            inside = start <= minute < end
        else:  # wraps midnight: the late part belongs to the day it started on
            inside = minute >= start or minute < end
            if minute < end:
                weekday = (weekday - 1) % 7
        return inside and weekday in self._days
