"""The event bus: typed topics, synchronous fan-out on the hot path, explicit backpressure elsewhere.

Owns: routing of every published event to its subscribers, per-topic ordering, the isolation of
a failing subscriber, and the backpressure policy of each asynchronous subscription.

Design (the figures are this machine's, see docs/architecture.md):
- A topic is an event *type* (subscribing to a base class receives its subclasses), optionally
  narrowed to one symbol. Routes are resolved once per concrete type and cached.
- **Synchronous handlers run inline on ``publish``.** A sync fan-out to 4 handlers costs ~0.5 us,
  while every asyncio task wake-up costs 2.3-3.5 us and a chain of 4 queues halves pipeline
  throughput. So decode -> book -> signals -> risk -> router decision is a chain of plain calls.
- **Coroutine stages** (REST calls, file writes, network sends: anything that awaits I/O) get a
  bounded inbox drained by a task the bus owns. The policy is explicit per subscription:
  ``BLOCK`` (``publish_async`` waits for room; a synchronous ``publish`` never blocks the hot path,
  so it appends past the bound and counts an ``overflow``), ``DROP_OLDEST`` (bounded, counts
  ``dropped``), or ``CONFLATE`` (a latest-value slot per key, e.g. per symbol; counts
  ``conflated``) for consumers that only need the newest state.
- **Ordering**: a publish made from inside a handler is queued and dispatched after the current
  event has reached every subscriber, so all subscribers of a topic see its events in publish
  order (global FIFO), even under re-entrant publishing.
- **The urgent lane** (``subscribe(..., urgent=True)``: the order path, risk's and the router's
  subscriptions; issue 23). Without it, an order waits on every tick behind the cold observers of the
  events queued before it (features, signals, telemetry, the tape: ~30-45 us live). The guarantees:
  1. An event published from inside a handler reaches its urgent handlers as soon as the event being
     dispatched has reached all of its subscribers: before any queued event's other deliveries.
  2. Urgent deliveries keep FIFO among themselves (one urgent queue, in publish order; what an urgent
     handler publishes joins its end), so an urgent subscriber sees its events in publish order: an exit
     intent and an entry intent of one tick are both risk checked before either is routed, as without the lane.
  3. The other subscribers (handlers and inboxes) see exactly the sequence they would without the
     lane: the event keeps its FIFO place for them, and what an urgent handler published is queued at
     that handler's place in the event's subscriber order (as if it had run there).
  4. An outermost publish (nothing queued ahead of it) runs every handler in subscription order.
  5. A failing urgent handler is isolated and counted like any other; what it published before
     raising is delivered.
  What the lane changes is only *when* an urgent handler runs relative to the other subscribers of
  queued events. So a component is urgent in all of its subscriptions or in none (its events then keep
  their order among themselves), and it must not read state that a non-urgent subscriber writes. One
  order does change: an event that an observer of a queued event publishes reaches the urgent handlers
  after what the lane already ran (e.g. a ``Position`` the portfolio publishes on a fill queued before an
  intent reaches the router after that intent's decision; without the lane, before it). Hence guarantee 3
  holds given the same publications by the urgent handlers; the replay fingerprints check it end to end.
  An urgent event's route is resolved when it is published (its count too), a plain event's when it is
  dispatched. An urgent subscription takes no ``symbol`` (the order path needs none; the lane's walk stays one tuple).
- **Isolation**: a handler or stage that raises is logged (rate-limited) and counted; the bus
  and the other subscribers go on.
- ``drain()`` waits until every stage has processed everything published so far, including
  what stages published while draining (replay and tests rely on it).
- **Events nobody needs**: ``publish_needed(type)`` tells a hot-path publisher whether to build an
  event at all (if not, the publish is counted as made). A ``passive`` subscriber receives what is
  published but does not make it needed: an observer whose figures the publisher keeps otherwise
  (telemetry's bookTicker counts, kept by the feed's dispatcher).
- **Cascade timing** (opt-in, ``time_cascades``; the shadow pipeline's cost per tick): every n-th
  outermost publish of chosen types is timed with everything it published in turn; ``timing`` is
  True meanwhile. Off, it costs ``publish`` one attribute test.
- **Per-event cost** (a replay publishes ~83k events for 72k raw messages, most of them market
  messages with one or two handlers): ``publish`` delivers the event and everything published
  meanwhile in one inline loop (no frame per event); a route's handlers are one tuple walked
  directly — with per-symbol subscribers and no inbox, one tuple per symbol (the plain handlers
  then that symbol's: the same order) — and inboxes are only looked at when the route has some
  (``_Route.rest``, resolved once). Compiled (setup.py HOT_MODULES), ``bus.pxd`` makes ``_Route`` and
  ``Bus`` cdef classes, so that walk reads C fields (untyped, the compiled bus was no faster than the
  pure one; typed, a replay's dispatch is ~6% of its CPU cheaper); a ``Bus`` still takes new attributes.
  Without an urgent subscription the lane costs a publish one type test and one flag test per event
  (``bench_bus``: within 1%); with one, a re-entrant publish resolves its route (a dict lookup) and an
  urgent event carries a ``_Deferred`` (its observers' delivery, with what its urgent handlers published).

Clock: the bus stamps nothing; its direct reads are ``time.monotonic()``, which throttles the
handler-error log line (real time between operator log lines, never an event), and
``time.perf_counter()`` around a timed cascade (a duration measurement; tests/unit/model/test_clock_usage.py).

Must never: await on the synchronous path, drop an event silently, or let a subscriber's
exception reach the publisher.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

import msgspec

from hedge.events import Event

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[E], None]
AsyncHandler = Callable[[E], Awaitable[None]]
KeyFn = Callable[[E], Hashable]

_LOG_EVERY_S = 10.0


class Policy(enum.Enum):
    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"
    CONFLATE = "conflate"


class InboxStats(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    policy: str
    depth: int
    maxsize: int
    delivered: int
    dropped: int
    conflated: int
    overflow: int
    errors: int


class BusStats(msgspec.Struct, frozen=True, kw_only=True):
    published: dict[str, int]
    handler_errors: dict[str, int]
    inboxes: list[InboxStats]


def _symbol_of(event: Event) -> Hashable:
    return getattr(event, "symbol", None)


class Inbox(Generic[E]):
    """A bounded single-consumer FIFO (or, with ``CONFLATE``, a latest-value slot per key)."""

    def __init__(self, name: str, maxsize: int, policy: Policy, key: KeyFn[E] | None = None) -> None:
        if maxsize < 1:
            raise ValueError(f"inbox {name!r}: maxsize must be >= 1, got {maxsize}")
        self.name = name
        self.maxsize = maxsize
        self.policy = policy
        self._key: KeyFn[E] = key or _symbol_of
        self._fifo: deque[E] = deque()
        self._slots: dict[Hashable, E] = {}
        self._getter: asyncio.Future[None] | None = None
        self._space_waiters: deque[asyncio.Future[None]] = deque()
        self._unfinished = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.delivered = 0
        self.dropped = 0
        self.conflated = 0
        self.overflow = 0
        self.errors = 0

    def __len__(self) -> int:
        return len(self._slots) if self.policy is Policy.CONFLATE else len(self._fifo)

    @property
    def unfinished(self) -> int:
        """Items queued or being processed."""
        return self._unfinished

    def full(self) -> bool:
        return len(self) >= self.maxsize

    def offer(self, event: E) -> None:
        """Enqueue without waiting, applying the policy. Never raises, never blocks."""
        if self.policy is Policy.CONFLATE:
            k = self._key(event)
            if k in self._slots:
                self._slots[k] = event  # keeps the key's place in line
                self.conflated += 1
                return
            if len(self._slots) >= self.maxsize:
                self.overflow += 1
            self._slots[k] = event
        else:
            if len(self._fifo) >= self.maxsize:
                if self.policy is Policy.DROP_OLDEST:
                    self._fifo.popleft()
                    self._unfinished -= 1
                    self.dropped += 1
                else:
                    self.overflow += 1
            self._fifo.append(event)
        self._unfinished += 1
        self._idle.clear()
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    async def wait_for_room(self) -> None:
        """Wait until the inbox is below its bound (used by ``Bus.publish_async`` for BLOCK)."""
        while self.full():
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._space_waiters.append(fut)
            try:
                await fut
            finally:
                if not fut.done():
                    fut.cancel()

    def get_nowait(self) -> E | None:
        """The next item, or None when empty (the stage loop's fast path: no await, no wake-up)."""
        if self.policy is Policy.CONFLATE:
            if not self._slots:
                return None
            event = self._slots.pop(next(iter(self._slots)))
        else:
            if not self._fifo:
                return None
            event = self._fifo.popleft()
        if self._space_waiters:
            self._wake_one_putter()
        return event

    def _wake_one_putter(self) -> None:
        while self._space_waiters:
            waiter = self._space_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def get(self) -> E:
        while not (self._slots if self.policy is Policy.CONFLATE else self._fifo):
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        event = self.get_nowait()
        assert event is not None
        return event

    def task_done(self) -> None:
        self._unfinished -= 1
        self.delivered += 1
        if self._unfinished <= 0:
            self._unfinished = 0
            self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()

    def stats(self) -> InboxStats:
        return InboxStats(
            name=self.name,
            policy=self.policy.value,
            depth=len(self),
            maxsize=self.maxsize,
            delivered=self.delivered,
            dropped=self.dropped,
            conflated=self.conflated,
            overflow=self.overflow,
            errors=self.errors,
        )


class _Route:
    """Everything one concrete event type is delivered to, resolved once."""

    __slots__ = ("blocking", "by_symbol", "count", "handlers", "inboxes", "keyed_handlers", "keyed_inboxes", "name",
                 "needed", "observers", "rest", "urgent")

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.handlers: tuple[Handler[Any], ...] = ()
        self.inboxes: tuple[Inbox[Any], ...] = ()
        self.keyed_handlers: dict[Hashable, tuple[Handler[Any], ...]] = {}
        self.keyed_inboxes: dict[Hashable, tuple[Inbox[Any], ...]] = {}
        self.blocking: tuple[Inbox[Any], ...] = ()
        # A route without inboxes: its handlers for each symbol, the plain ones then that symbol's, in
        # one tuple (one walk, no second lookup). Else empty, and ``rest`` is set: the inboxes and
        # per-symbol subscribers are delivered by ``Bus._deliver_rest`` after the plain handlers.
        self.by_symbol: dict[Hashable, tuple[Handler[Any], ...]] = {}
        self.rest = False
        self.needed = False  # a subscriber that is not ``passive``: the event must be built
        # The urgent lane: the urgent handlers (subscription order), and ``handlers`` with each of them
        # replaced by None (the place where what it published is queued for the others). Else both empty.
        self.urgent: tuple[Handler[Any], ...] = ()
        self.observers: tuple[Handler[Any] | None, ...] = ()


class _Deferred:
    """A re-entrant event whose urgent handlers run ahead: queued in its FIFO place for its other
    subscribers, with what each urgent handler published (one list per urgent handler, in order)."""

    __slots__ = ("event", "published", "route")

    def __init__(self, event: Event, route: _Route) -> None:
        self.event = event
        self.route = route
        self.published: list[list[Any]] = []


class Stage:
    """A coroutine subscriber: an inbox and the task (owned by the bus) that drains it."""

    def __init__(self, name: str, inbox: Inbox[Any], handler: AsyncHandler[Any]) -> None:
        self.name = name
        self.inbox = inbox
        self.handler = handler
        self.task: asyncio.Task[None] | None = None


class _Sub:
    __slots__ = ("handler", "inbox", "passive", "symbol", "topic", "urgent")

    def __init__(
        self, topic: type[Event], symbol: Hashable, handler: Handler[Any] | None, inbox: Inbox[Any] | None,
        passive: bool = False, urgent: bool = False,
    ) -> None:
        self.topic = topic
        self.symbol = symbol
        self.handler = handler
        self.inbox = inbox
        self.passive = passive
        self.urgent = urgent


class Bus:
    """Typed publish/subscribe. See the module docstring for the guarantees."""

    def __init__(self) -> None:
        self._subs: list[_Sub] = []
        self._routes: dict[type[Event], _Route] = {}
        self._stages: list[Stage] = []
        self._pending: deque[Any] = deque()  # events, and ``_Deferred`` for the urgent ones
        self._dispatching = False
        self._lanes = False  # some subscription is urgent
        self._urgent: deque[_Deferred] = deque()  # the urgent lane: events whose urgent handlers are due
        self._capture: list[Any] | None = None  # while an urgent handler runs: what it publishes
        self._running = False
        self._folded: dict[str, int] = {}
        self.handler_errors: dict[str, int] = {}
        self._last_error_log: dict[str, float] = {}
        self._timed: frozenset[type[Event]] = frozenset()  # cascade timing (``time_cascades``): off
        self._time_every = self._time_left = 0
        self._observe: Callable[[float], None] | None = None
        self.timing = False  # True while a timed cascade runs

    # ------------------------------------------------------------------ subscribing

    def subscribe(self, topic: type[E], handler: Handler[E], *, symbol: str | None = None,
                  passive: bool = False, urgent: bool = False) -> None:
        """Run ``handler`` inline on every published ``topic`` event (optionally one symbol's).
        ``passive``: it receives what is published, but does not by itself make a publisher build
        the event (``publish_needed``; an observer whose figures the publisher keeps otherwise).
        ``urgent``: the urgent lane (module docstring): a re-entrant event reaches it ahead of queued events."""
        if urgent and symbol is not None:
            raise ValueError(f"an urgent subscription takes no symbol ({_name_of(handler)}, {symbol!r})")
        self._subs.append(_Sub(topic, symbol, handler, None, passive, urgent))
        self._lanes = self._lanes or urgent
        self._invalidate()

    def stage(
        self,
        name: str,
        topics: type[E] | tuple[type[E], ...],
        handler: AsyncHandler[E],
        *,
        maxsize: int = 1024,
        policy: Policy = Policy.BLOCK,
        key: KeyFn[E] | None = None,
        symbol: str | None = None,
    ) -> Stage:
        """Deliver ``topics`` to the coroutine ``handler`` through a bounded inbox with ``policy``."""
        inbox: Inbox[E] = Inbox(name, maxsize, policy, key)
        for topic in topics if isinstance(topics, tuple) else (topics,):
            self._subs.append(_Sub(topic, symbol, None, inbox))
        self._invalidate()
        st = Stage(name, inbox, handler)
        self._stages.append(st)
        if self._running:
            self._start_stage(st)
        return st

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the stage tasks (call from inside the running loop)."""
        self._running = True
        for st in self._stages:
            if st.task is None:
                self._start_stage(st)

    async def close(self) -> None:
        """Cancel every stage task and wait for them to end."""
        self._running = False
        tasks = [st.task for st in self._stages if st.task is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for st in self._stages:
            st.task = None

    def _start_stage(self, st: Stage) -> None:
        st.task = asyncio.get_running_loop().create_task(self._run_stage(st), name=f"stage:{st.name}")

    async def _run_stage(self, st: Stage) -> None:
        inbox, handler = st.inbox, st.handler
        get_nowait = inbox.get_nowait
        while True:
            event = get_nowait()
            if event is None:
                event = await inbox.get()
            try:
                await handler(event)
            except asyncio.CancelledError:
                inbox.task_done()
                raise
            except Exception as exc:
                inbox.errors += 1
                self._failed(f"stage:{st.name}", event, exc)
            inbox.task_done()

    # ------------------------------------------------------------------ publishing

    def time_cascades(self, types: tuple[type[Event], ...], every: int, observe: Callable[[float], None]) -> None:
        """Time every ``every``-th outermost publish of one of ``types`` (the event and all it published in turn,
        dispatched before ``publish`` returns) and pass the seconds to ``observe``."""
        self._timed = frozenset(types)
        self._time_every = self._time_left = every
        self._observe = observe

    def publish(self, event: Event) -> None:
        """Deliver ``event`` now to sync handlers and inboxes. Never blocks, never raises."""
        if self._dispatching:
            if self._lanes:
                self._queue(event)
            else:
                self._pending.append(event)
            return
        timed = False
        if self._timed and type(event) in self._timed:
            self._time_left -= 1
            if self._time_left <= 0:
                self._time_left = self._time_every
                timed = self.timing = True
                t0 = time.perf_counter()
        # One loop, inline, for the event and what its handlers publish in turn (no frame per event:
        # most events are raw market messages with one or two handlers).
        routes, pending, lanes = self._routes, self._pending, self._lanes
        item: Any = event  # the event, then what the queue holds: events and ``_Deferred``
        self._dispatching = True
        try:
            while True:
                if type(item) is _Deferred:
                    self._deliver_deferred(item)
                else:
                    event = item
                    route = routes.get(type(event)) or self._resolve(type(event))
                    route.count += 1
                    handlers = route.handlers
                    if route.by_symbol:
                        handlers = route.by_symbol.get(getattr(event, "symbol", None), handlers)
                    for h in handlers:
                        try:
                            h(event)
                        except Exception as exc:
                            self._failed(_name_of(h), event, exc)
                    if route.rest:
                        self._deliver_rest(route, event)
                if lanes and self._urgent:
                    self._run_urgent()
                if not pending:
                    break
                item = pending.popleft()
        finally:
            self._dispatching = False
        if timed:
            self.timing = False
            assert self._observe is not None
            self._observe(time.perf_counter() - t0)

    def publish_needed(self, etype: type[Event]) -> bool:
        """Must an ``etype`` event be built and published? False when no subscriber but passive ones
        would receive it (nor a timed cascade start with it): that publish is then counted as made,
        so that a hot-path publisher may skip building events nobody reads and the stats stay the same."""
        route = self._routes.get(etype) or self._resolve(etype)
        if route.needed or etype in self._timed:
            return True
        route.count += 1
        return False

    def wants(self, etype: type[Event]) -> bool:
        """Would ``publish_needed(etype)`` say True now? (Asked once, not counted as a publish.)"""
        route = self._routes.get(etype) or self._resolve(etype)
        return route.needed or etype in self._timed

    async def publish_async(self, event: Event) -> None:
        """Like ``publish``, but first wait for room in every BLOCK inbox on the event's route."""
        route = self._routes.get(type(event)) or self._resolve(type(event))
        for inbox in route.blocking:
            if inbox.full():
                await inbox.wait_for_room()
        self.publish(event)

    def _queue(self, event: Event) -> None:
        """A re-entrant publish with urgent subscriptions somewhere: an urgent event joins the urgent
        lane (and its FIFO place as a ``_Deferred``); while an urgent handler runs, what it publishes
        is kept for its place in the event's subscriber order instead of the queue's end."""
        item: Any = event
        route = self._routes.get(type(event)) or self._resolve(type(event))
        if route.urgent:
            route.count += 1  # counted now: ``route`` is current (a subscription may replace it before it runs)
            item = _Deferred(event, route)
            self._urgent.append(item)
        capture = self._capture
        if capture is not None:
            capture.append(item)
        else:
            self._pending.append(item)

    def _run_urgent(self) -> None:
        """Drain the urgent lane (FIFO; what urgent handlers publish that is urgent joins its end)."""
        urgent = self._urgent
        while urgent:
            item = urgent.popleft()
            event = item.event
            for h in item.route.urgent:
                published: list[Any] = []
                item.published.append(published)
                self._capture = published
                try:
                    h(event)
                except Exception as exc:
                    self._failed(_name_of(h), event, exc)
                finally:
                    self._capture = None

    def _deliver_deferred(self, item: _Deferred) -> None:
        """An urgent event in its FIFO place: its other subscribers, and at each urgent handler's place
        what that handler published (queued now, as if it had run here)."""
        route, event, pending = item.route, item.event, self._pending
        slot = 0
        for h in route.observers:
            if h is None:
                pending.extend(item.published[slot])
                slot += 1
                continue
            try:
                h(event)
            except Exception as exc:
                self._failed(_name_of(h), event, exc)
        self._deliver_rest(route, event)

    def _deliver_rest(self, route: _Route, event: Event) -> None:
        """Inboxes and per-symbol subscribers (after the route's plain handlers)."""
        for inbox in route.inboxes:
            inbox.offer(event)
        if route.keyed_handlers or route.keyed_inboxes:
            sym = getattr(event, "symbol", None)
            for h in route.keyed_handlers.get(sym, ()):
                try:
                    h(event)
                except Exception as exc:
                    self._failed(_name_of(h), event, exc)
            for inbox in route.keyed_inboxes.get(sym, ()):
                inbox.offer(event)

    def _resolve(self, etype: type[Event]) -> _Route:
        route = _Route(etype.__name__)
        mro = set(etype.__mro__)
        handlers: list[Handler[Any]] = []
        urgent: list[Handler[Any]] = []
        observers: list[Handler[Any] | None] = []
        inboxes: list[Inbox[Any]] = []
        keyed_h: dict[Hashable, list[Handler[Any]]] = {}
        keyed_i: dict[Hashable, list[Inbox[Any]]] = {}
        for sub in self._subs:
            if sub.topic not in mro:
                continue
            route.needed = route.needed or not sub.passive
            if sub.symbol is None:
                if sub.handler is not None:
                    handlers.append(sub.handler)
                    if sub.urgent:
                        urgent.append(sub.handler)
                    observers.append(None if sub.urgent else sub.handler)
                elif sub.inbox is not None and sub.inbox not in inboxes:
                    inboxes.append(sub.inbox)
            elif sub.handler is not None:
                keyed_h.setdefault(sub.symbol, []).append(sub.handler)
            elif sub.inbox is not None:
                keyed_i.setdefault(sub.symbol, []).append(sub.inbox)
        route.handlers = tuple(handlers)
        if urgent:
            route.urgent, route.observers = tuple(urgent), tuple(observers)
        route.inboxes = tuple(inboxes)
        route.keyed_handlers = {k: tuple(v) for k, v in keyed_h.items()}
        route.keyed_inboxes = {k: tuple(v) for k, v in keyed_i.items()}
        every = list(inboxes) + [i for v in keyed_i.values() for i in v]
        route.blocking = tuple(i for i in every if i.policy is Policy.BLOCK)
        if route.inboxes or route.keyed_inboxes:
            route.rest = True
        else:
            route.by_symbol = {k: route.handlers + v for k, v in route.keyed_handlers.items()}
        self._routes[etype] = route
        return route

    def _invalidate(self) -> None:
        # Routes are rebuilt lazily; fold their publish counts so that stats survive.
        for route in self._routes.values():
            self._folded[route.name] = self._folded.get(route.name, 0) + route.count
        self._routes.clear()

    def _failed(self, where: str, event: Event, exc: Exception) -> None:
        self.handler_errors[where] = self.handler_errors.get(where, 0) + 1
        now = time.monotonic()
        if now - self._last_error_log.get(where, -_LOG_EVERY_S) >= _LOG_EVERY_S:
            self._last_error_log[where] = now
            log.error(
                "bus: %s raised on %s (%d errors so far)",
                where,
                type(event).__name__,
                self.handler_errors[where],
                exc_info=exc,
            )

    # ------------------------------------------------------------------ waiting and stats

    async def drain(self, limit_s: float | None = None) -> None:
        """Wait until every stage has processed everything published, transitively."""

        async def _until_quiet() -> None:
            while True:
                busy = [st.inbox for st in self._stages if st.inbox.unfinished]
                if not busy:
                    await asyncio.sleep(0)  # let stages that were just woken run once
                    if not any(st.inbox.unfinished for st in self._stages):
                        return
                    continue
                for inbox in busy:
                    await inbox.wait_idle()

        await asyncio.wait_for(_until_quiet(), limit_s)

    def published(self) -> dict[str, int]:
        out = dict(self._folded)
        for route in self._routes.values():
            out[route.name] = out.get(route.name, 0) + route.count
        return out

    def stats(self) -> BusStats:
        return BusStats(
            published=self.published(),
            handler_errors=dict(self.handler_errors),
            inboxes=[st.inbox.stats() for st in self._stages],
        )


def _name_of(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
