"""The engine: owns the bus, the journals and the supervised services of one hedge process.

Owns: start-up order, supervision (a service that raises is logged, counted and restarted with
backoff 0.4 s -> 6.4 s; it never takes the daemon down), signal handling and graceful
shutdown: on SIGINT/SIGTERM every task is cancelled, the bus closed, the journals flushed and
fsynced, all within ``SHUTDOWN_BUDGET_S``; then the caller's ``release`` (the daemon: its venue
client and local exchange) runs, and only then does /metrics and /health stop serving — they
answer until the process has nothing left to do, so a last scrape sees the final counters.

A service is anything with a ``name`` and an ``async run()`` that works until cancelled (feeds,
the user stream, the state publisher, the local exchange...). The hot path is not a service:
it is the chain of synchronous bus handlers the services publish into.

Must never: do trading logic itself, or swallow a shutdown request.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import msgspec

from hedge.backoff import backoff_delays
from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    Alert,
    BookStatus,
    CancelAll,
    ClosedTrade,
    Event,
    FeedStatus,
    Fill,
    Heartbeat,
    KillSwitch,
    Nav,
    OrderUpdate,
    Position,
    PositionDrift,
    Reconciled,
    TradingStateChange,
)
from hedge.model.clock import Clock, LiveClock
from hedge.reach import level_for
from hedge.state.journal import Journals
from hedge.state.observability import Observability, attach_observability

log = logging.getLogger(__name__)

T = TypeVar("T")

SHUTDOWN_BUDGET_S = 1.5
# The process's GC policy while it runs (``gc_policy``): the gen-0 threshold (CPython's default 700).
GC_GEN0_THRESHOLD = 10_000
HEARTBEAT_S = 1.0

# Events worth a line in logs/events.jsonl (market data is far too frequent: the recorder has it).
JOURNALED_EVENTS: tuple[type[Event], ...] = (
    BookStatus,
    FeedStatus,
    TradingStateChange,
    CancelAll,
    KillSwitch,
    PositionDrift,
    Reconciled,
    Alert,
    OrderUpdate,
    Fill,
    Position,
    Nav,
    ClosedTrade,
)


class Service(Protocol):
    name: str

    async def run(self) -> None: ...


class EngineStats(msgspec.Struct, kw_only=True):
    restarts: dict[str, int] = msgspec.field(default_factory=dict)


class Engine:
    """One hedge process: bus + journals + supervised services."""

    def __init__(self, cfg: Config, *, log_dir: str | Path | None = None, clock: Clock | None = None) -> None:
        """``clock``: the process's one clock, handed to every stage and service (default a
        ``LiveClock``, the daemon's; replay passes its ``EventClock``)."""
        self.cfg = cfg
        self.clock: Clock = clock or LiveClock()
        rt = cfg.runtime
        self.log_dir = Path(log_dir if log_dir is not None else rt.log_dir)
        self.bus = Bus()
        self.journals = Journals(
            self.log_dir,
            max_bytes=rt.journal.max_bytes,
            backups=rt.journal.backups,
            buffer_bytes=rt.journal.buffer_bytes,
            clock=self.clock,
            fsync=rt.journal.fsync,
        )
        self.services: list[Service] = []
        self.stats = EngineStats()
        self._stop: asyncio.Event | None = None
        self._stop_reason = ""
        self._tasks: list[asyncio.Task[None]] = []
        self._surface_tasks: list[asyncio.Task[None]] = []  # /metrics and /health: stopped last
        events = self.journals.writer("events")

        def journal_event(ev: Event) -> None:
            events.write(type(ev).__name__, ev)

        for etype in JOURNALED_EVENTS:
            self.bus.subscribe(etype, journal_event)
        # State files, /metrics + /health, alerts: all fed from the bus (see hedge/state/observability.py).
        self.observability: Observability = attach_observability(self)

    def add_service(self, svc: Service) -> None:
        self.services.append(svc)

    @property
    def stop_reason(self) -> str:
        """Why the engine stopped ("" while it runs): the signal's name (SIGINT, SIGTERM) or the caller's reason."""
        return self._stop_reason

    def request_stop(self, reason: str = "requested") -> None:
        if self._stop is not None and not self._stop.is_set():
            log.info("engine: stopping (%s)", reason)
            self._stop_reason = reason
            self._stop.set()

    async def _supervise(self, svc: Service) -> None:
        delay = backoff_delays(self.cfg.runtime.http.backoff_initial_s, self.cfg.runtime.http.backoff_max_s)
        attempt = 0
        while True:
            started = self.clock.now_s()
            try:
                await svc.run()
                log.info("service %s finished", svc.name)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                n = self.stats.restarts.get(svc.name, 0) + 1
                self.stats.restarts[svc.name] = n
                if self.clock.now_s() - started > 60.0:
                    attempt = 0
                wait = delay(attempt)
                attempt += 1
                # An outage already reported (cannot reach HOST) needs no traceback; anything else does.
                log.log(level_for(exc, logging.ERROR), "service %s failed (restart #%d in %.1fs)", svc.name, n,
                        wait, exc_info=True)
                self.bus.publish(
                    Heartbeat(component=svc.name, ok=False, detail="crashed; restarting", recv_ns=self.clock.now_ns())
                )
                await asyncio.sleep(wait)

    async def _heartbeat(self) -> None:
        while True:
            self.bus.publish(Heartbeat(component="engine", recv_ns=self.clock.now_ns()))
            await asyncio.sleep(HEARTBEAT_S)

    async def run(
        self, *, install_signals: bool = True, release: Callable[[], Awaitable[None]] | None = None
    ) -> int:
        """Run until ``request_stop`` (or SIGINT/SIGTERM); returns the process exit code. ``release``
        runs after the engine's shutdown, while /metrics and /health still answer."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if install_signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.request_stop, signal.Signals(sig).name)
        self.journals.write(
            "events", "engine_started", {"venue": self.cfg.runtime.venue, "dry_run": self.cfg.runtime.dry_run}
        )
        self.bus.start()
        self._tasks = [
            loop.create_task(
                self.journals.run_flusher(self.cfg.runtime.journal.flush_interval_s), name="journal-flusher"
            ),
            loop.create_task(self._heartbeat(), name="heartbeat"),
        ]
        surface = self.observability.server
        for s in self.services:
            task = loop.create_task(self._supervise(s), name=f"service:{s.name}")
            (self._surface_tasks if s is surface else self._tasks).append(task)
        log.info(
            "engine: started (venue=%s, dry_run=%s, services=%s)",
            self.cfg.runtime.venue,
            self.cfg.runtime.dry_run,
            ",".join(s.name for s in self.services) or "none",
        )
        try:
            with gc_policy():  # start-up is over: its objects are never re-scanned
                await self._stop.wait()
        finally:
            await self.shutdown(release)
            if install_signals:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
        return 0

    async def shutdown(self, release: Callable[[], Awaitable[None]] | None = None) -> None:
        """Stop every service, drain the bus, close the journals; then ``release``; then /metrics and
        /health (a scrape during the shutdown is answered, not refused)."""
        try:
            await self._stop_services()
            if release is not None:
                await release()
        finally:
            for t in self._surface_tasks:
                t.cancel()
            if self._surface_tasks:
                await asyncio.wait(self._surface_tasks, timeout=SHUTDOWN_BUDGET_S)
            self._surface_tasks = []

    async def _stop_services(self) -> None:
        t0 = self.clock.now_s()
        for t in self._tasks:
            t.cancel()
        if self._tasks:
            _done, pending = await asyncio.wait(self._tasks, timeout=SHUTDOWN_BUDGET_S)
            for t in pending:
                log.warning("engine: task %s did not stop within %.1fs", t.get_name(), SHUTDOWN_BUDGET_S)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.bus.close(), max(0.1, SHUTDOWN_BUDGET_S - (self.clock.now_s() - t0)))
        self.journals.write("events", "engine_stopped", {"reason": self._stop_reason or "shutdown"})
        self.journals.close()
        log.info("engine: stopped in %.0f ms", (self.clock.now_s() - t0) * 1000)


@contextlib.contextmanager
def gc_policy() -> Iterator[None]:
    """The engine's garbage-collector policy from the end of start-up to shutdown (daemon and replay).

    Why: the hot path allocates few objects that can be in a cycle, yet every 700 of them (CPython's
    default gen-0 threshold) a gen-0 pass runs inside whatever handler crossed it: in the router's
    decision, one every ~38 decisions (~0.5 ms when it cascades into gen 1), and the older generations' passes re-scan
    every object start-up created (config, modules, books, models), which never become garbage.
    So at start ``gc.freeze()`` (O(1): no collection first, that would cost a full pass): what
    start-up left is moved to the permanent generation and never scanned again (a garbage cycle among
    it waits for the unfreeze at exit); and the
    gen-0 threshold is ``GC_GEN0_THRESHOLD`` (10,000: ~14x fewer passes; the garbage cycles waiting
    for one are a few MB at most). Measured: docs/execution.md "Measurements" (bench_router's p99,
    bench_pipeline's replay throughput). On exit the previous thresholds come back and the frozen
    objects are unfrozen (a process that runs several replays collects each one's leftovers).
    Reference counting is untouched: everything without a cycle is freed at once, as before.
    """
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop when it is installed (task wake-ups ~35% cheaper), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    result: T = uvloop.run(main)
    return result
