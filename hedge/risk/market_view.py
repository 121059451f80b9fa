"""The risk stage's view of the market links: each symbol's book, and the user-data stream's liveness.

Owns: ``BookRisk`` per symbol (validity, touch, spread, feed lag) from ``BookUpdate`` /
``BookStatus``, and whether the user-data stream (``risk.user_stream``) is up, from its
``FeedStatus`` and ``Heartbeat`` (a change is logged).

Design: a tick only keeps its ``BookUpdate`` (one dict store, no allocation: this runs on every
book tick of every symbol); the ``BookRisk`` is built from it when an intent asks (``book``), the
same figures as if built on the tick.

Must never: publish, or decide anything (``check_order`` reads the view through ``RiskContext``).
"""

from __future__ import annotations

import logging

from hedge.events import BookState, BookStatus, BookUpdate, FeedStatus
from hedge.risk.context import BookRisk

log = logging.getLogger(__name__)


class MarketView:
    def __init__(self, user_stream: str) -> None:
        self.user_stream = user_stream  # FeedStatus.connection / Heartbeat.component of the user-data stream
        self.user_stream_up = False
        self._ticks: dict[str, BookUpdate] = {}  # each symbol's latest book tick
        self._lost: dict[str, BookUpdate] = {}  # the tick a later BookStatus declared not valid

    def on_book(self, ev: BookUpdate) -> None:
        self._ticks[ev.symbol] = ev

    def on_book_status(self, ev: BookStatus) -> None:
        tick = self._ticks.get(ev.symbol)
        if ev.state is not BookState.VALID and tick is not None and tick.valid:
            self._lost[ev.symbol] = tick

    def book(self, symbol: str) -> BookRisk | None:
        """``symbol``'s book as of its latest tick (not valid once a ``BookStatus`` said so since); None before one."""
        ev = self._ticks.get(symbol)
        if ev is None:
            return None
        lag = (ev.recv_ns / 1e6 - ev.ts_ms) if ev.ts_ms > 0 and ev.recv_ns > 0 else 0.0
        return BookRisk(valid=ev.valid and self._lost.get(symbol) is not ev, bid=ev.bid_px, ask=ev.ask_px,
                        spread_bps=ev.spread_bps, lag_ms=lag)

    @property
    def books(self) -> dict[str, BookRisk]:
        """Every symbol's ``book`` (tests, diagnostics; an intent reads its own symbol's)."""
        return {s: b for s in self._ticks if (b := self.book(s)) is not None}

    def on_feed_status(self, ev: FeedStatus) -> None:
        if ev.connection == self.user_stream:
            self.user_stream_status(ev.connected, ev.reason)

    def user_stream_status(self, up: bool, why: str) -> None:
        if up != self.user_stream_up:
            level = logging.INFO if up else logging.WARNING
            log.log(level, "risk: user-data stream %s%s", "up" if up else "DOWN", f" ({why})" if why else "")
        self.user_stream_up = up
