"""Telemetry: the counters, latency histograms and last-seen times every operator surface reads.

Owns: what is counted from bus events — messages and last-event times by type, feed lag,
tick -> decision, decision -> order sent and order-ack latency, vetoes by reason, orders by
outcome, the exit pipeline, feed/book/component liveness, parse errors, gaps, resyncs,
reconnects, throttling and event-loop lag. The Prometheus collector, the state files and /health
all read this one object, so the three surfaces can never disagree.

Design: every handler is a plain synchronous bus subscriber doing a few dict/list operations
(no prometheus-client call, no logging, no allocation beyond the event itself), so the per-tick
cost stays well under a microsecond (``scripts/bench_state.py`` measures it). Only market-data
events and the universal last-seen stamp run per tick; everything else is per decision or
rarer. Maps keyed by ids are bounded.

Orders by outcome count each (client order id, status) once: the same state of an order reaches
the bus twice when the router publishes what it learnt over REST and the user stream reports it
too. The statuses already counted per order are remembered for the ``OUTCOME_MEMORY`` most
recently updated orders (an order is refreshed on every update, so only long-finished orders
are forgotten).

BookTicker (~3/4 of the market messages) is subscribed passively (``Bus.subscribe(passive=True)``):
a published one is counted here as ever, but telemetry alone does not make the feed build them.
The feed's dispatcher counts the others itself (``hedge.feeds.seen.TickerSeen``, ``watch_feed``)
with the same arithmetic, in this object's own containers (``last_seen_ns``, ``last_data_ns``,
``feed_lag`` while tracked, the clock), handed over at wiring: no event, no call per message, and
the surfaces read exactly the figures they read when every bookTicker was published. (A pull —
separate counters merged when a surface reads them — cannot tell which of two stamps of a symbol
came last when receive times step back, so it was not exact.)

Market data is the bulk of the events (~87% of a replay's): each market type gets its own closure
(``market_handler``) with the histogram's ``observe`` inlined (the same stamps, buckets and
sequential sum as calling ``observe``).
Deferring the work instead (buffering the events and folding them in batches with numpy) was
measured and is slower in a full replay: events kept alive by a buffer no longer recycle hot
allocator blocks (the decoder's next allocation misses cache, whole arenas are freed and
refaulted), which costs more than the handler saves.

Must never: block, await, log per event, or decide anything (it only counts what others did).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from hedge.bus import Bus
from hedge.events import (
    BookStatus,
    BookTicker,
    DepthDiff,
    Event,
    FeedStats,
    FeedStatus,
    Fill,
    Heartbeat,
    MarkPrice,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    RateLimit,
    RiskDecision,
    Trade,
)
from hedge.model.clock import Clock, LiveClock
from hedge.state.histogram import Histogram

# Ids waiting for their next lifecycle step (intent -> its first request, request -> its first answer;
# older ones are forgotten: that one latency sample is lost, nothing else). Safe: each step follows
# within milliseconds to seconds, and a vetoed intent is dropped at its veto; 4,096 is >= 3.4 min of
# orders at Binance's order-rate limit. Was 10,000: the intents that never became an order (filtered,
# ignored) filled it over an hour of a lively strategy.
PENDING_CAP = 4096
# Orders whose counted outcomes are remembered (least recently updated forgotten). Safe: the second
# report of a state (REST answer vs user stream, a reconciliation's query) comes within seconds of the
# first, and 4,096 updated orders take >= 3.4 min even at Binance's order-rate limit (1,200/min); an
# order is refreshed on each update, so a resting one stays. Bounded so that a soak's RSS levels off
# within minutes (was 50,000: ~6 MB, never full in an hour of a lively strategy).
OUTCOME_MEMORY = 4096
_NOT_AN_OUTCOME = frozenset({OrderStatus.PENDING, OrderStatus.PARTIALLY_FILLED})
_OUTCOME_BIT = {status: 1 << i for i, status in enumerate(OrderStatus)}


class VetoWindow:
    """Vetoes by reason within the last ``window_s``: the difference between the cumulative counts now
    and a copy taken about ``window_s`` ago. Copies are taken when a surface asks (``recent``, every
    state interval), at most one per ``step_s``: nothing on the decision path."""

    def __init__(self, counts: dict[str, int], *, window_s: float = 60.0, step_s: float = 5.0) -> None:
        self.counts = counts
        self.window_ns = int(window_s * 1e9)
        self.step_ns = int(step_s * 1e9)
        self._copies: deque[tuple[int, dict[str, int]]] = deque()

    def recent(self, now_ns: int) -> tuple[dict[str, int], float]:
        """(vetoes by reason since the oldest copy within the window, the seconds that covers)."""
        copies = self._copies
        if not copies or now_ns - copies[-1][0] >= self.step_ns:
            copies.append((now_ns, dict(self.counts)))
        while len(copies) > 1 and now_ns - copies[1][0] >= self.window_ns:
            copies.popleft()
        since_ns, then = copies[0]
        diff = {k: n - then.get(k, 0) for k, n in self.counts.items() if n > then.get(k, 0)}
        return dict(sorted(diff.items(), key=lambda kv: -kv[1])), round((now_ns - since_ns) * 1e-9, 1)


def _event_types() -> list[type[Event]]:
    """Every concrete subclass of Event defined so far (depth-first; each once)."""
    out: list[type[Event]] = []
    stack = list(Event.__subclasses__())
    while stack:
        t = stack.pop()
        if t not in out:
            out.append(t)
            stack.extend(t.__subclasses__())
    return out


MarketEvent = DepthDiff | Trade | BookTicker | MarkPrice


class FeedSeen(Protocol):
    """A feed that counts its unpublished market messages in telemetry's containers (``TickerSeen``)."""

    def follow(self, now: Callable[[], int], lag: Histogram | None, by_type: dict[type[Event], int],
               by_symbol: dict[str, int]) -> None: ...


def _remember(table: dict[str, int], key: str, value: int) -> None:
    if len(table) >= PENDING_CAP:
        del table[next(iter(table))]
    table[key] = value


class Telemetry:
    """Counters fed by bus events; read by the collector, the state publisher and /health."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or LiveClock()  # the engine's: every age the surfaces report is measured on it
        self.feed_lag = Histogram()
        self._track_feed_lag = True
        self._feeds: list[FeedSeen] = []  # the feeds that count here the market messages they do not publish
        self.tick_to_decision = Histogram()
        self.decision_to_send = Histogram()
        self.order_ack = Histogram()
        self.loop_lag = Histogram()
        self.loop_lag_last_s = 0.0
        self.loop_lag_max_s = 0.0
        self.last_seen_ns: dict[type[Event], int] = {}
        self.last_data_ns: dict[str, int] = {}  # market data by symbol
        self.vetoes: dict[str, int] = {}
        self.veto_window = VetoWindow(self.vetoes)
        self.allowed = 0
        self.vetoed = 0
        self.orders_by_outcome: dict[str, int] = {}
        self.requests_sent = 0
        self.exit_intents = 0
        self.exit_by_reason: dict[str, int] = {}
        self.exit_orders_sent = 0
        self.exit_fills = 0
        self.feed_status: dict[str, FeedStatus] = {}
        self.feed_status_ns: dict[str, int] = {}
        self.feed_stats: dict[str, FeedStats] = {}
        self.books: dict[str, BookStatus] = {}
        self.books_ns: dict[str, int] = {}
        self.components: dict[str, Heartbeat] = {}
        self.throttled_429 = 0
        self.banned_418 = 0
        self.banned_until_ms = 0  # the end of the latest 418 ban (wall-clock ms; 0 = never banned)
        self._intent_ns: dict[str, int] = {}
        self._sent_ns: dict[str, int] = {}
        self._exit_coids: dict[str, int] = {}
        self._outcomes_counted: dict[str, int] = {}  # client order id -> bitmask of statuses counted

    def attach(self, bus: Bus) -> None:
        # Market data gets one handler per type doing both the last-seen stamp and the feed lag;
        # every other event type (known when attaching) gets the bare stamp.
        # BookTicker passively: a feed keeps the figures of those it does not publish (``watch_feed``).
        market: tuple[type[Any], ...] = (DepthDiff, Trade, BookTicker, MarkPrice)
        for etype in market:
            bus.subscribe(etype, self.market_handler(etype), passive=etype is BookTicker)
        for etype in _event_types():
            if not issubclass(etype, market):
                bus.subscribe(etype, self.on_any)
        subs: tuple[tuple[type[Any], Callable[[Any], None]], ...] = (
            (RiskDecision, self.on_decision),
            (OrderIntent, self.on_intent),
            (OrderRequest, self.on_request),
            (OrderUpdate, self.on_order_update),
            (Fill, self.on_fill),
            (FeedStatus, self.on_feed_status),
            (FeedStats, self.on_feed_stats),
            (BookStatus, self.on_book_status),
            (Heartbeat, self.on_heartbeat),
            (RateLimit, self.on_rate_limit),
        )
        for etype, handler in subs:
            bus.subscribe(etype, handler)

    def watch_feed(self, seen: FeedSeen) -> None:
        """Let a feed (its ``TickerSeen``) count here the bookTickers it does not publish: it stamps
        ``last_seen_ns``/``last_data_ns`` and observes ``feed_lag`` (while tracked) as
        ``market_handler`` would, in these very containers, handed over now (see the module doc)."""
        self._feeds.append(seen)
        self._hand_over(seen)

    def _hand_over(self, seen: FeedSeen) -> None:
        seen.follow(self.clock.now_ns, self.feed_lag if self._track_feed_lag else None,
                    self.last_seen_ns, self.last_data_ns)

    @property
    def track_feed_lag(self) -> bool:
        """A replay sets False: its feed lag is the recording's, and nothing serves it (no /metrics;
        no state file holds it), so the per-message lag maths is skipped (~3% of a replay's CPU)."""
        return self._track_feed_lag

    @track_feed_lag.setter
    def track_feed_lag(self, on: bool) -> None:
        self._track_feed_lag = on
        for seen in self._feeds:
            self._hand_over(seen)

    # ------------------------------------------------------------------ per tick

    def on_any(self, ev: Event) -> None:
        self.last_seen_ns[type(ev)] = ev.recv_ns or self.clock.now_ns()

    def market_handler(self, etype: type[Event]) -> Callable[[MarketEvent], None]:
        """The handler of market events of ``etype``: the last-seen stamp of the type and of the
        symbol, and the feed lag (clamped at 0) into ``feed_lag`` with ``observe`` inlined — about
        half the cost of a method doing the same (no ``type()`` call, no ``observe`` frame, every
        container a closure variable)."""
        seen, data, lag_h, now = self.last_seen_ns, self.last_data_ns, self.feed_lag, self.clock.now_ns
        counts, bounds = lag_h.counts, lag_h.bounds

        def on(ev: MarketEvent) -> None:
            recv = ev.recv_ns
            if not recv:
                seen[etype] = now()
                return
            seen[etype] = recv
            data[ev.symbol] = recv
            ts = ev.ts_ms
            if ts and self._track_feed_lag:
                lag = recv * 1e-9 - ts * 1e-3
                if not lag > 0.0:
                    lag = 0.0
                counts[bisect_left(bounds, lag)] += 1
                lag_h.count += 1
                lag_h.sum += lag

        on.__qualname__ = f"Telemetry.on_market[{etype.__name__}]"
        return on

    # ------------------------------------------------------------------ per decision

    def on_decision(self, ev: RiskDecision) -> None:
        if ev.allow:
            self.allowed += 1
            return
        self.vetoed += 1
        self._intent_ns.pop(ev.intent.intent_id, None)  # no request will follow
        vetoes = self.vetoes
        for reason in ev.reasons or ("unspecified",):
            vetoes[reason] = vetoes.get(reason, 0) + 1

    def on_intent(self, ev: OrderIntent) -> None:
        if ev.recv_ns:
            _remember(self._intent_ns, ev.intent_id, ev.recv_ns)
            if ev.tick_ns:
                self.tick_to_decision.observe(max(0.0, (ev.recv_ns - ev.tick_ns) * 1e-9))
        if ev.reduce_only:
            self.exit_intents += 1
            self.exit_by_reason[ev.reason] = self.exit_by_reason.get(ev.reason, 0) + 1

    def on_request(self, ev: OrderRequest) -> None:
        self.requests_sent += 1
        if ev.recv_ns:
            decided = self._intent_ns.pop(ev.intent_id, 0)
            if decided:
                self.decision_to_send.observe(max(0.0, (ev.recv_ns - decided) * 1e-9))
            _remember(self._sent_ns, ev.client_order_id, ev.recv_ns)
        if ev.reduce_only:
            self.exit_orders_sent += 1
            _remember(self._exit_coids, ev.client_order_id, 1)

    def on_order_update(self, ev: OrderUpdate) -> None:
        status = ev.status
        if status not in _NOT_AN_OUTCOME:
            self._count_outcome(ev.client_order_id, status)
        if status is not OrderStatus.PENDING and status is not OrderStatus.UNKNOWN:
            sent = self._sent_ns.pop(ev.client_order_id, 0)
            if sent and ev.recv_ns:
                self.order_ack.observe(max(0.0, (ev.recv_ns - sent) * 1e-9))
        if status.is_final:
            self._exit_coids.pop(ev.client_order_id, None)

    def _count_outcome(self, cid: str, status: OrderStatus) -> None:
        counted = self._outcomes_counted
        bit = _OUTCOME_BIT[status]
        mask = counted.pop(cid, 0)  # re-inserted below: most recently updated last
        if not mask and len(counted) >= OUTCOME_MEMORY:
            del counted[next(iter(counted))]
        counted[cid] = mask | bit
        if not mask & bit:
            self.orders_by_outcome[status.value] = self.orders_by_outcome.get(status.value, 0) + 1

    def on_fill(self, ev: Fill) -> None:
        if ev.client_order_id in self._exit_coids:
            self.exit_fills += 1

    # ------------------------------------------------------------------ liveness

    def on_feed_status(self, ev: FeedStatus) -> None:
        self.feed_status[ev.connection] = ev
        self.feed_status_ns[ev.connection] = ev.recv_ns or self.clock.now_ns()

    def on_feed_stats(self, ev: FeedStats) -> None:
        self.feed_stats[ev.connection] = ev

    def on_book_status(self, ev: BookStatus) -> None:
        self.books[ev.symbol] = ev
        self.books_ns[ev.symbol] = ev.recv_ns or self.clock.now_ns()

    def on_heartbeat(self, ev: Heartbeat) -> None:
        self.components[ev.component] = ev

    def on_rate_limit(self, ev: RateLimit) -> None:
        if ev.status == 418:
            self.banned_418 += 1
            self.banned_until_ms = max(self.banned_until_ms, ev.banned_until_ms)
        else:
            self.throttled_429 += 1

    def observe_loop_lag(self, lag_s: float) -> None:
        self.loop_lag_last_s = lag_s
        self.loop_lag_max_s = max(self.loop_lag_max_s, lag_s)
        self.loop_lag.observe(lag_s)

    # ------------------------------------------------------------------ derived totals

    def parse_errors(self) -> dict[str, int]:
        return {c: s.parse_errors for c, s in self.feed_stats.items()}

    def gaps(self) -> dict[str, int]:
        return {c: s.gaps for c, s in self.feed_stats.items()}

    def feed_handler_errors(self) -> dict[str, int]:
        return {c: s.handler_errors for c, s in self.feed_stats.items()}

    def reconnects(self) -> dict[str, int]:
        """Per websocket connection, from its FeedStatus (a feed's FeedStats totals would count them twice)."""
        return {c: st.reconnects for c, st in self.feed_status.items()}

    def resyncs(self) -> dict[str, int]:
        """Book resyncs by symbol (cumulative counts carried by BookStatus)."""
        return {sym: st.resyncs for sym, st in self.books.items()}

    def last_event_ages_s(self, now_ns: int) -> dict[str, float]:
        return {t.__name__: round((now_ns - ns) * 1e-9, 3) for t, ns in self.last_seen_ns.items()}
