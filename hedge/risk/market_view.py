"""The risk stage's view of the market links: each symbol's book, and the user-data stream's liveness.

Owns: ``BookRisk`` per symbol (validity, touch, spread, feed lag) from ``BookUpdate`` /
``BookStatus``, and whether the user-data stream (``risk.user_stream``) is up, from its
``FeedStatus`` and ``Heartbeat`` (a change is logged).

Must never: publish, or decide anything (``check_order`` reads the view through ``RiskContext``).
"""

from __future__ import annotations

import logging

import msgspec

from hedge.events import BookState, BookStatus, BookUpdate, FeedStatus
from hedge.risk.context import BookRisk

log = logging.getLogger(__name__)


class MarketView:
    def __init__(self, user_stream: str) -> None:
        self.user_stream = user_stream  # FeedStatus.connection / Heartbeat.component of the user-data stream
        self.user_stream_up = False
        self.books: dict[str, BookRisk] = {}

    def on_book(self, ev: BookUpdate) -> None:
        lag = (ev.recv_ns / 1e6 - ev.ts_ms) if ev.ts_ms > 0 and ev.recv_ns > 0 else 0.0
        self.books[ev.symbol] = BookRisk(
            valid=ev.valid, bid=ev.bid_px, ask=ev.ask_px, spread_bps=ev.spread_bps, lag_ms=lag
        )

    def on_book_status(self, ev: BookStatus) -> None:
        book = self.books.get(ev.symbol)
        if ev.state is not BookState.VALID and book is not None and book.valid:
            self.books[ev.symbol] = msgspec.structs.replace(book, valid=False)

    def on_feed_status(self, ev: FeedStatus) -> None:
        if ev.connection == self.user_stream:
            self.user_stream_status(ev.connected, ev.reason)

    def user_stream_status(self, up: bool, why: str) -> None:
        if up != self.user_stream_up:
            level = logging.INFO if up else logging.WARNING
            log.log(level, "risk: user-data stream %s%s", "up" if up else "DOWN", f" ({why})" if why else "")
        self.user_stream_up = up
