"""What a feed saw of the market messages it did not publish: last-seen stamps and feed lag.

Owns: ``TickerSeen``, the figures the operator surfaces need of the bookTicker frames the
dispatcher keeps off the bus (the last receive time overall and per symbol, and the feed lag when
asked), and ``TickerStamp``, the lean record a Parquet tape yields for such a row.

Design: a bookTicker (~3/4 of the messages) is read by nobody in the engine but telemetry, which
only stamps its time and observes its lag. So when the bus has no other subscriber for BookTicker
(``Bus.publish_needed``; telemetry subscribes passively) the dispatcher does those few writes here,
with the same arithmetic as telemetry's market handler, and telemetry reads this object when a
surface asks (pull: at a scrape or a state publish), merging it with what it saw on the bus. A
published BookTicker is never also written here: each message is counted exactly once.

The lag histogram is telemetry's own, handed over at wiring (``lag``; None = not tracked, as in a
replay): any object with the buckets' ``bounds``, their ``counts``, ``count`` and ``sum``
(``LagSink``), so this package never imports the operator surfaces.

Must never: import hedge.state, allocate per message beyond the dict slot of a new symbol, or
decide anything.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec


class LagSink(Protocol):
    """A feed-lag histogram (telemetry's): a count per bucket (by upper bound, the last one +Inf)."""

    @property
    def bounds(self) -> Sequence[float]: ...

    counts: list[int]
    count: int
    sum: float


def _no_clock() -> int:
    return 0


class TickerSeen:
    """The last receive times of the unpublished bookTicker messages, and their feed lag."""

    __slots__ = ("by_symbol", "lag", "last_ns", "now")

    def __init__(self) -> None:
        self.last_ns = 0  # the last one's receive time (0: none yet)
        self.by_symbol: dict[str, int] = {}  # the last receive time by symbol (stamped ones only)
        self.lag: LagSink | None = None  # set at wiring by a reader that tracks the feed lag
        self.now: Callable[[], int] = _no_clock  # the reader's clock: the stamp of an unstamped message

    def follow(self, now: Callable[[], int], lag: LagSink | None) -> None:
        """Wiring: the reader's clock, and its lag histogram (None: the lag is not tracked)."""
        self.now = now
        self.lag = lag

    def saw(self, symbol: str, ts_ms: int, recv_ns: int) -> None:
        """One message: as telemetry's market handler would count its BookTicker."""
        if not recv_ns:
            self.last_ns = self.now()
            return
        self.last_ns = recv_ns
        self.by_symbol[symbol] = recv_ns
        lag_h = self.lag
        if ts_ms and lag_h is not None:
            lag = recv_ns * 1e-9 - ts_ms * 1e-3
            if not lag > 0.0:
                lag = 0.0
            lag_h.counts[bisect_left(lag_h.bounds, lag)] += 1
            lag_h.count += 1
            lag_h.sum += lag


class TickerStamp(msgspec.Struct, frozen=True, gc=False):
    """A tape's bookTicker row when nobody needs the BookTicker: what ``TickerSeen`` reads."""

    recv_ns: int
    symbol: str
    ts_ms: int
