"""What a feed saw of the market messages it did not publish: last-seen stamps and feed lag.

Owns: ``TickerSeen``, the figures the operator surfaces need of the bookTicker frames the
dispatcher keeps off the bus (the last receive time overall and per symbol, and the feed lag when
asked), and ``TickerStamp``, the lean record a Parquet tape yields for such a row.

Design: a bookTicker (~3/4 of the messages) is read by nobody in the engine but telemetry, which
only stamps its time and observes its lag. So when the bus has no other subscriber for BookTicker
(``Bus.publish_needed``; telemetry subscribes passively) the dispatcher makes those few writes here,
with the same arithmetic as telemetry's market handler, instead of building an event, publishing it
and running a handler. A published BookTicker is never also counted here: each message once.

Where the writes land: telemetry hands its own containers over at wiring (``follow``: its
last-seen dicts, its feed-lag histogram or None when not tracked, its clock), so the surfaces read
exactly what they read when every bookTicker was published. Merging separate counters when a
surface reads them (pull) was the first design, and is not exact: the last data of a symbol is
the stamp of its last message, of any type, and a merge cannot tell which of two stamps came last
when receive times step back (a recording's are allowed to, within ``TIME_SLACK_NS``). The lag
histogram is any object with ``observe`` (``LagSink``), so this package never imports the operator
surfaces.

Must never: import hedge.state, allocate per message beyond the dict slot of a new symbol, or
decide anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import msgspec

from hedge.events import BookTicker, Event


class LagSink(Protocol):
    """A feed-lag histogram (telemetry's)."""

    def observe(self, value: float) -> None: ...


def _no_clock() -> int:
    return 0


class TickerSeen:
    """Where the unpublished bookTicker messages are counted: last-seen stamps and feed lag."""

    __slots__ = ("by_symbol", "by_type", "lag", "now")

    def __init__(self) -> None:
        self.by_type: dict[type[Event], int] = {}  # the last receive time by event type (BookTicker here)
        self.by_symbol: dict[str, int] = {}  # the last receive time of market data by symbol
        self.lag: LagSink | None = None  # the feed-lag histogram (None: the lag is not tracked)
        self.now: Callable[[], int] = _no_clock  # the stamp of a message received without one

    @property
    def last_ns(self) -> int:
        """The last bookTicker's receive time (0: none counted here)."""
        return self.by_type.get(BookTicker, 0)

    def follow(self, now: Callable[[], int], lag: LagSink | None, by_type: dict[type[Event], int],
               by_symbol: dict[str, int]) -> None:
        """Wiring: count in the reader's containers (telemetry's), on its clock, into its lag
        histogram (None: not tracked). Stamps so far stay where they were."""
        self.now, self.lag, self.by_type, self.by_symbol = now, lag, by_type, by_symbol

    def saw(self, symbol: str, ts_ms: int, recv_ns: int) -> None:
        """One bookTicker: counted as telemetry's market handler counts a published one."""
        if not recv_ns:
            self.by_type[BookTicker] = self.now()
            return
        self.by_type[BookTicker] = recv_ns
        self.by_symbol[symbol] = recv_ns
        if ts_ms and self.lag is not None:  # live only (a replay does not track it): a call is cheap there
            lag = recv_ns * 1e-9 - ts_ms * 1e-3
            self.lag.observe(lag if lag > 0.0 else 0.0)


class TickerStamp(msgspec.Struct, frozen=True, gc=False):
    """A tape's bookTicker row when nobody needs the BookTicker: what ``TickerSeen`` reads."""

    recv_ns: int
    symbol: str
    ts_ms: int
