"""The daemon: one engine wired to one venue, as ``hedge run`` runs it.

Owns:
- ``select_venue``: the one place that knows the venues. ``local`` is the in-process local
  exchange reached over loopback sockets with its built-in test keys; ``binance-testnet`` /
  ``binance`` take their keys from ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET``. Every live venue
  is the same ccxt ``BinanceVenue`` (its clock offset measured by a ``OneShot`` service) +
  ``UserStream`` + ``AccountPoller``; only the URLs and keys
  differ. ``dry_run`` keeps the venue's real market data but routes to the ``DryRunVenue`` with a
  paper NAV (there is no user stream, so the stream requirement is lifted for that run).
- ``Daemon``: the wiring order — local exchange (started first: its port is the venue's URL),
  engine (bus, journals, observability), market feed, the venue's services, the decision
  pipeline (``attach_pipeline``: risk, router, signals, the portfolio with its reconciliation,
  kill switch, dead-man switch) — and the lifetime of what the engine does not own (the local
  exchange, the venue's HTTP client), released after the engine's graceful shutdown.
- ``OnceCycle``: ``--once``: connect, sync every book, reconcile (filters, pending orders, the
  account's NAV, the portfolio's first reconciliation), one round of decisions (one feature
  update per symbol), publish, stop; its ``OnceSummary`` is for the command to print.
- ``RUNTIME_FILE`` (``<log_dir>/daemon.json``): pid, venue, the local exchange's URL and the
  absolute path of the kill flag the daemon watches, for operators, ``hedge kill`` and tests (the
  exchange's port is chosen at start); ``LOCK_FILE``: one daemon per log dir.

Must never: print (the command module does), make a trading decision, or start anything that
blocks the engine's start on the market (books sync while the engine already runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

import msgspec

from hedge.app import Engine, Service
from hedge.config import Config
from hedge.events import (
    BookState,
    BookStatus,
    Event,
    Features,
    FeedStatus,
    Nav,
    OrderRequest,
    Reconciled,
    RiskDecision,
)
from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.exchange.server import LocalExchange
from hedge.feeds.connection import Endpoints, endpoints
from hedge.feeds.market import MarketFeed
from hedge.pipeline import Pipeline, attach_pipeline
from hedge.risk.dead_man import CountdownFn
from hedge.state.atomic import atomic_write
from hedge.state.journal import Journals
from hedge.venue.account import AccountPoller, PaperAccount
from hedge.venue.base import Venue
from hedge.venue.binance import BinanceVenue
from hedge.venue.binance_filters import bundled_filters
from hedge.venue.dry_run import DryRunVenue
from hedge.venue.user_stream import UserStream

log = logging.getLogger(__name__)

RUNTIME_FILE = "daemon.json"
LOCK_FILE = "daemon.lock"  # held (flock) by the running daemon: one daemon per log dir
# The account's NAV is polled this many times per risk.nav_freshness_seconds (it must never go stale).
NAV_POLLS_PER_FRESHNESS = 3


class SetupError(Exception):
    """The daemon cannot start as configured (e.g. the venue's keys are missing)."""


class VenueSetup:
    """A venue and what comes with it: market-data endpoints, its services, its dead-man countdown."""

    def __init__(
        self, venue: Venue, market: Endpoints, services: list[Service], *, countdown: CountdownFn | None = None
    ) -> None:
        self.venue = venue
        self.market = market
        self.services = services
        self.countdown = countdown


class OneShot:
    """A supervised one-off task (retried with the engine's backoff until it succeeds once)."""

    def __init__(self, name: str, fn: Callable[[], Coroutine[Any, Any, object]]) -> None:
        self.name = name
        self._fn = fn

    async def run(self) -> None:
        await self._fn()


def select_venue(
    cfg: Config, publish: Callable[[Event], None], *, journals: Journals | None = None, local_port: int = 0,
    env: Mapping[str, str] | None = None,
) -> VenueSetup:
    """The configured venue (see the module docstring); ``SetupError`` when it cannot be built.

    ``journals`` receive a dry run's would-be orders; ``local_port`` is the local exchange's."""
    rt = cfg.runtime
    try:
        market = endpoints(rt.venue, rt.feeds, local_port=local_port, local_host=rt.local_exchange.host)
    except ValueError as e:
        raise SetupError(str(e)) from None
    nav_interval_s = cfg.risk.nav_freshness_seconds / NAV_POLLS_PER_FRESHNESS
    if rt.dry_run:
        if journals is None:
            raise SetupError("a dry run needs journals for the orders it would send")
        paper = PaperAccount(rt.local_exchange.starting_balance)
        return VenueSetup(DryRunVenue(journals, bundled_filters()), market,
                          [AccountPoller(paper, publish, interval_s=nav_interval_s)])
    if rt.venue == "local":
        venue = BinanceVenue(market.rest_base, rt.http, api_key=DEFAULT_API_KEY, api_secret=DEFAULT_API_SECRET,
                             name="local", publish=publish)
    else:
        try:
            venue = BinanceVenue.from_env(market.rest_base, rt.http, name=rt.venue, publish=publish, env=env)
        except ValueError as e:
            raise SetupError(f"venue {rt.venue}: {e}") from None
    services: list[Service] = [
        OneShot("venue-clock", venue.sync_time),  # the server-time offset, without delaying the start
        UserStream(venue, market.ws_base, publish, paths=rt.feeds.stream_paths, connection=cfg.risk.user_stream),
        AccountPoller(venue, publish, interval_s=nav_interval_s),
    ]
    return VenueSetup(venue, market, services, countdown=venue.countdown_cancel_all)


def without_user_stream(cfg: Config) -> Config:
    """``cfg`` for a run that has no user stream (dry run): neither risk nor /health waits for one."""
    rt = cfg.runtime
    return msgspec.structs.replace(
        cfg,
        risk=msgspec.structs.replace(cfg.risk, require_user_stream=False),
        runtime=msgspec.structs.replace(rt, metrics=msgspec.structs.replace(rt.metrics, require_user_stream=False)),
    )


class OnceSummary(msgspec.Struct, kw_only=True):
    ok: bool = False
    problem: str = ""  # why the cycle did not complete
    venue: str = ""
    elapsed_s: float = 0.0
    books_synced: list[str] = []
    filters: int = 0
    nav: float = 0.0
    reconciled: str = ""  # the portfolio's first reconciliation: symbols compared, drifts, adoptions
    features: int = 0  # the round of decisions: one feature update per symbol
    decisions: int = 0
    approved: int = 0
    orders_sent: int = 0
    trading_state: str = ""  # the risk gate's state at the end of the cycle (ACTIVE, REDUCING, HALTED)
    state_reason: str = ""


class OnceCycle:
    """``--once``: one full cycle, then stop the engine (see the module docstring)."""

    name = "once"

    def __init__(self, engine: Engine, pipe: Pipeline, *, user_stream: str | None, timeout_s: float) -> None:
        self.engine = engine
        self.pipe = pipe
        self.symbols = list(engine.cfg.strategy.universe)
        self.user_stream = user_stream
        self.timeout_s = timeout_s
        self.summary = OnceSummary(venue=pipe.venue.name)
        self._synced: set[str] = set()
        self._user_up = user_stream is None
        self._round: set[str] | None = None  # symbols with a feature update in the round (None: not ready yet)
        self._changed = asyncio.Event()
        bus = engine.bus
        bus.subscribe(BookStatus, self._on_book_status)
        bus.subscribe(FeedStatus, self._on_feed_status)
        bus.subscribe(Nav, self._on_nav)
        bus.subscribe(Reconciled, self._on_reconciled)
        bus.subscribe(Features, self._on_features)
        bus.subscribe(RiskDecision, self._on_decision)
        bus.subscribe(OrderRequest, self._on_request)

    def _on_book_status(self, ev: BookStatus) -> None:
        if ev.state is BookState.VALID:
            self._synced.add(ev.symbol)
        else:
            self._synced.discard(ev.symbol)
        self._changed.set()

    def _on_feed_status(self, ev: FeedStatus) -> None:
        if ev.connection == self.user_stream:
            self._user_up = ev.connected
            self._changed.set()

    def _on_nav(self, ev: Nav) -> None:
        self.summary.nav = ev.nav
        self._changed.set()

    def _on_reconciled(self, ev: Reconciled) -> None:
        if not self.summary.reconciled:
            self.summary.reconciled = (f"{ev.symbols} symbols, {ev.drifts} drifts, {ev.adopted_positions} positions "
                                       f"and {ev.adopted_orders} orders adopted, {ev.fills_replayed} fills replayed")
            self._changed.set()

    def _on_features(self, ev: Features) -> None:
        if self._round is not None:
            self._round.add(ev.symbol)
            self.summary.features += 1
            self._changed.set()

    def _on_decision(self, d: RiskDecision) -> None:
        if self._round is not None:
            self.summary.decisions += 1
            self.summary.approved += d.allow

    def _on_request(self, _r: OrderRequest) -> None:
        if self._round is not None:
            self.summary.orders_sent += 1

    def _ready_problem(self) -> str:
        """What the cycle still waits for before deciding ("" = ready)."""
        if not self.pipe.filters:
            return "exchange filters not loaded"
        missing = [s for s in self.symbols if s not in self._synced]
        if missing:
            return f"books not synced: {', '.join(missing)}"
        if not self._user_up:
            return "user stream not connected"
        if self.summary.nav <= 0.0:
            return "no account NAV"
        if not self.summary.reconciled:
            return "portfolio not reconciled"
        return ""

    async def _until(self, done: Callable[[], bool]) -> None:
        """Wait for ``done``: re-checked on every relevant event, and every 0.1 s (filters load silently)."""
        while not done():
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.1)

    async def _cycle(self) -> None:
        await self._until(lambda: not self._ready_problem())
        self._round = set()
        await self._until(lambda: self._round is not None and set(self.symbols) <= self._round)
        await self.pipe.idle()

    async def run(self) -> None:
        t0 = time.monotonic()
        self.summary.problem = "stopped before the cycle completed"
        try:
            await asyncio.wait_for(self._cycle(), self.timeout_s)
            self.summary.ok, self.summary.problem = True, ""
        except TimeoutError:
            self.summary.problem = self._ready_problem() or "no round of decisions within the timeout"
        finally:
            self.summary.elapsed_s = round(time.monotonic() - t0, 3)
            self.summary.books_synced = sorted(self._synced)
            self.summary.filters = len(self.pipe.filters)
            machine = self.pipe.risk.machine
            self.summary.trading_state, self.summary.state_reason = machine.state.value, machine.reason
        self.engine.observability.publisher.flush()
        self.engine.request_stop("once")


def lock_log_dir(log_dir: Path) -> int:
    """One daemon per log dir: an exclusive ``flock`` on ``<log_dir>/daemon.lock`` for the process's
    lifetime (released by the kernel even after a crash). Two daemons on one log dir would write
    the same journals, ledger and pending orders (and trade the same account twice)."""
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(log_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SetupError(f"log dir {log_dir} is not usable: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise SetupError(f"another hedge daemon is running on the log dir {log_dir} (see {log_dir / RUNTIME_FILE}): "
                         "stop it first, or give this one another --log-dir") from None
    return fd


def log_dir_locked(log_dir: Path) -> bool:
    """Whether a running daemon holds ``log_dir``'s lock (see ``lock_log_dir``)."""
    try:
        fd = os.open(log_dir / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock just taken
    return False


def running_exchange_url(log_dir: str | Path) -> str:
    """The URL of the local exchange inside the daemon that writes ``<log_dir>/daemon.json``."""
    if not log_dir_locked(Path(log_dir)):  # daemon.json outlives its daemon: its URL would be dead
        raise SetupError(f"no running daemon's local exchange found in {log_dir} (no daemon holds its lock)")
    path = Path(log_dir) / RUNTIME_FILE
    try:
        url = str(msgspec.json.decode(path.read_bytes()).get("exchange_url", ""))
    except (OSError, msgspec.DecodeError, AttributeError) as e:
        raise SetupError(f"no running daemon's local exchange found in {path} ({e})") from None
    if not url:
        raise SetupError(f"{path} names no local exchange")
    return url


def direct_cancel_all(
    cfg: Config, *, env: Mapping[str, str] | None = None
) -> Callable[[], Coroutine[Any, Any, int]]:
    """``hedge kill --cancel``: cancel every open order of the configured venue over REST, without the
    daemon (the local exchange is found through the running daemon's ``daemon.json``); returns how many."""
    rt = cfg.runtime
    cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(rt, dry_run=False))
    port = 0
    if rt.venue == "local":
        port = int(running_exchange_url(rt.log_dir).rsplit(":", 1)[1])

    async def cancel_all() -> int:
        setup = select_venue(cfg, lambda _ev: None, local_port=port, env=env)
        venue = setup.venue
        try:
            symbols = set(cfg.strategy.universe) | {o.symbol for o in await venue.open_orders(None)}
            n = 0
            for sym in sorted(symbols):
                n += await venue.cancel_all(sym)
            return n
        finally:
            await venue.close()

    return cancel_all


class Daemon:
    """``hedge run``: build, run until stopped, release (see the module docstring)."""

    def __init__(self, cfg: Config, *, env: Mapping[str, str] | None = None) -> None:
        self.cfg = without_user_stream(cfg) if cfg.runtime.dry_run else cfg
        self.env = os.environ if env is None else env
        self.exchange: LocalExchange | None = None
        self.engine: Engine | None = None
        self.pipeline: Pipeline | None = None
        self.setup: VenueSetup | None = None
        self.once: OnceCycle | None = None
        self._lock_fd: int | None = None

    async def start(self) -> Engine:
        """Wire everything (the local exchange is already listening when this returns)."""
        cfg = self.cfg
        rt = cfg.runtime
        self._lock_fd = lock_log_dir(Path(rt.log_dir))
        port = 0
        if rt.venue == "local":
            try:
                self.exchange = LocalExchange.from_config(rt.local_exchange)
                port = await self.exchange.start()
            except (OSError, ValueError) as e:
                raise SetupError(f"local exchange: {e}") from None
        engine = self.engine = Engine(cfg)
        setup = self.setup = select_venue(cfg, engine.bus.publish, journals=engine.journals, local_port=port,
                                              env=self.env)
        events = engine.journals.writer("events")
        engine.add_service(MarketFeed(rt.feeds, cfg.strategy.universe, engine.bus, setup.market,
                                      journal=events.write))
        for svc in setup.services:
            engine.add_service(svc)
        try:
            # The in-process local exchange opens a fresh paper account at every start, and so does a
            # dry run: the risk memory of an earlier run (day-start NAV, high-water mark) and its ledger
            # (positions that account held: read back, they were "drift" and REDUCING) are not about
            # this account. A dry run must also leave the live run's files in the same log dir alone.
            fresh_account = rt.venue == "local" or rt.dry_run
            self.pipeline = attach_pipeline(engine, setup.venue, countdown_cancel_all=setup.countdown,
                                            persist_risk=not fresh_account, persist_ledger=not fresh_account)
        except ValueError as e:  # an unreadable portfolio ledger file names itself
            raise SetupError(str(e)) from None
        if rt.once:
            has_stream = any(isinstance(s, UserStream) for s in setup.services)
            self.once = OnceCycle(engine, self.pipeline, user_stream=cfg.risk.user_stream if has_stream else None,
                                  timeout_s=rt.once_timeout_s)
            engine.add_service(self.once)
        self._write_runtime_file(engine.log_dir)
        return engine

    def _write_runtime_file(self, log_dir: Path) -> None:
        info = {"pid": os.getpid(), "venue": self.cfg.runtime.venue, "dry_run": self.cfg.runtime.dry_run,
                "exchange_url": self.exchange.base_url if self.exchange is not None else "",
                "kill_flag": str(Path(self.cfg.risk.kill_switch.flag_file).resolve()),  # what `hedge kill` must write
                "started_ns": time.time_ns()}
        log_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(log_dir / RUNTIME_FILE, msgspec.json.encode(info))
        if self.exchange is not None:
            log.info("daemon: local exchange at %s (see %s)", self.exchange.base_url, log_dir / RUNTIME_FILE)

    async def run(self, *, install_signals: bool = True) -> int:
        """Start, run until stopped (signal, ``--once``), then release; returns the exit code."""
        try:
            engine = await self.start()
            rc = await engine.run(install_signals=install_signals)
        finally:
            await self.close()
        if self.once is not None and not self.once.summary.ok:
            return 1
        return rc

    async def close(self) -> None:
        if self.setup is not None:
            await self.setup.venue.close()
        if self.exchange is not None:
            await self.exchange.stop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the log dir's lock
            self._lock_fd = None
