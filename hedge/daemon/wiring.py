"""``Daemon``: the daemon's wiring, its run and its release.

Owns: the wiring order — the log dir's lock, the local exchange (started first: its port is the
venue's URL), engine (bus, journals, observability), market feed, the venue's services, the
decision pipeline (``attach_pipeline``: risk, router, signals, the portfolio with its
reconciliation, kill switch, dead-man switch), the order tape (a log line per order, fill and
veto burst), the decision path's cache warming when ``features.warm_decision_path``
(``hedge.daemon.warm``), the BTC model's job when ``features.btc_model``, the shadow pipeline when
``features.shadow_pipeline`` is on (a candidate configuration deciding on the same ticks, sending
nothing), the pre-trade gate on the
pipeline's risk stage when ``runtime.gate.enabled``, the remote gate risk asks when
``risk.gate_url`` is set, the ``--once`` cycle (or the ``--minutes`` run and its report),
``daemon.json``, the warning when a kill flag makes it start HALTED (logged first, with the command that clears it)
— the calibrator check first (``hedge.config.calibration_check``: a real venue refuses an
unfitted or stale calibrator) — and the lifetime of what the engine does not own (the local exchange, the venue's HTTP
client, the lock), released after the engine's graceful shutdown.

Must never: print (the command module does), make a trading decision, or start anything that
blocks the engine's start on the market (books sync while the engine already runs).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from hedge.app import Engine
from hedge.bus import Bus
from hedge.config import Config
from hedge.config.calibration_check import calibrator_problems, refuses
from hedge.daemon.errors import SetupError
from hedge.daemon.gate import embedded_gate
from hedge.daemon.lock import lock_log_dir, write_runtime_file
from hedge.daemon.once import OnceCycle
from hedge.daemon.report import BoundedRun, Recorder
from hedge.daemon.venues import VenueSetup, select_venue, without_user_stream
from hedge.daemon.warm import DecisionWarmer
from hedge.exchange.server import LocalExchange
from hedge.feeds.market import MarketFeed
from hedge.gate.app import GateServer
from hedge.gate.remote import RemoteGate, RemoteGateCollector
from hedge.model.clock import LiveClock
from hedge.pipeline import Pipeline, attach_pipeline
from hedge.risk.kill_switch import halted_notice, kill_flag_path, read_flag
from hedge.shadow.candidate import candidate_config
from hedge.shadow.cost import ShadowCostCollector
from hedge.shadow.pipeline import ShadowPipeline
from hedge.state.allocator import AllocatorPolicy
from hedge.state.btc_model.job import BtcModelJob
from hedge.state.btc_model.market import Market
from hedge.state.memory_probe import MemoryProbe
from hedge.state.tape import OrderTape
from hedge.venue.user_stream import UserStream

log = logging.getLogger(__name__)


class Daemon:
    """``hedge run``: build, run until stopped, release (see the module docstring)."""

    def __init__(self, cfg: Config, *, env: Mapping[str, str] | None = None, minutes: float = 0.0,
                 recorder: Callable[[Bus], Recorder] | None = None) -> None:
        self.cfg = without_user_stream(cfg) if cfg.runtime.dry_run else cfg
        self.env = os.environ if env is None else env
        self.exchange: LocalExchange | None = None
        self.engine: Engine | None = None
        self.pipeline: Pipeline | None = None
        self.setup: VenueSetup | None = None
        self.once: OnceCycle | None = None
        self.minutes = minutes  # > 0 (with ``recorder``): stop after this long (``--minutes``) and report the run
        self._recorder = recorder
        self.bounded: BoundedRun | None = None
        self.gate: GateServer | None = None
        self.remote_gate: RemoteGate | None = None
        self._lock_fd: int | None = None
        self._released = False

    async def start(self) -> Engine:
        """Wire everything (the local exchange is already listening when this returns)."""
        cfg = self.cfg
        rt = cfg.runtime
        self._warn_if_halted()  # the first line an operator reads when a flag halts this daemon
        self._check_calibrator()
        self._lock_fd = lock_log_dir(Path(rt.log_dir))
        port = 0
        if rt.venue == "local":
            try:
                self.exchange = LocalExchange.from_config(rt.local_exchange)
                port = await self.exchange.start()
            except (OSError, ValueError) as e:
                raise SetupError(f"local exchange: {e}") from None
        engine = self.engine = Engine(cfg)
        setup = self.setup = select_venue(cfg, engine.bus.publish, clock=engine.clock, journals=engine.journals,
                                          local_port=port, env=self.env)
        events = engine.journals.writer("events")
        feed = MarketFeed(rt.feeds, cfg.strategy.universe, engine.bus, setup.market, journal=events.write,
                          clock=engine.clock)
        engine.observability.telemetry.watch_feed(feed.dispatcher.tickers)  # the bookTickers it does not publish
        engine.add_service(feed)
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
        if rt.features.shadow_pipeline:  # after the live pipeline: it decides on a tick first
            sh = rt.shadow
            shadow = ShadowPipeline(
                cfg, candidate_config(cfg, self.env), engine.bus, engine.journals, clock=engine.clock,
                log_dir=engine.log_dir, book_of=lambda s: feed.dispatcher.book(s).book,
                candidate_name=sh.config_dir or sh.overlay, live_features=self.pipeline.signals.features,
            )
            engine.add_service(shadow)
            engine.observability.registry.register(ShadowCostCollector(shadow.cost))  # its cost per tick, /metrics
        engine.add_service(OrderTape(engine.bus, engine.clock))  # the terminal's line per order, fill, veto burst
        if rt.features.warm_decision_path:  # the risk check and router decision rehearsed every 2 ms (cache warming)
            p = self.pipeline
            engine.add_service(DecisionWarmer((p.signals.rehearse, p.risk.rehearse, p.router.rehearse),
                                              cfg.strategy.universe))
        if rt.features.btc_model:  # the 4h/daily BTC readings, sent as alerts (REST klines, off the tick path)
            engine.add_service(BtcModelJob(Market(setup.market.rest_base, timeout_s=rt.btc_model.timeout_s),
                                           engine.bus.publish, rt.btc_model, engine.log_dir, engine.clock))
        if rt.features.malloc_trim:  # glibc: heap fragmentation was the soak's RSS growth (docs/operations.md)
            engine.add_service(AllocatorPolicy())
        if rt.features.tracemalloc:  # a diagnosis (scripts/soak.py --tracemalloc): SIGUSR2 snapshots
            engine.add_service(MemoryProbe(Path(rt.log_dir)))
        if cfg.risk.gate_url:
            self.remote_gate = self.pipeline.risk.remote = RemoteGate(cfg, clock=engine.clock, env=self.env)
            engine.observability.registry.register(RemoteGateCollector(self.remote_gate))  # on the daemon's /metrics
        if rt.gate.enabled:
            try:
                self.gate = embedded_gate(engine, self.pipeline.risk, self.env)
            except ValueError as e:  # a public address without a token
                raise SetupError(str(e)) from None
            engine.add_service(self.gate)
        if rt.once:
            has_stream = any(isinstance(s, UserStream) for s in setup.services)
            self.once = OnceCycle(engine, self.pipeline, user_stream=cfg.risk.user_stream if has_stream else None,
                                  timeout_s=rt.once_timeout_s)
            engine.add_service(self.once)
        elif self.minutes > 0 and self._recorder is not None:
            self.bounded = BoundedRun(engine, self._recorder, minutes=self.minutes, venue=rt.venue)
            engine.add_service(self.bounded)
        self._write_runtime_file(engine)
        return engine

    @property
    def kill_flag(self) -> Path:
        """The kill flag this daemon watches (in its log dir unless configured absolute)."""
        return kill_flag_path(self.cfg.risk.kill_switch.flag_file, self.cfg.runtime.log_dir)

    def _check_calibrator(self) -> None:
        """Real orders on a real venue are never gated by an unfitted or stale calibrator; elsewhere: a warning."""
        problems = calibrator_problems(self.cfg, LiveClock().now_ms())
        if problems and refuses(self.cfg):
            raise SetupError(f"refusing to trade on {self.cfg.runtime.venue}: " + "; ".join(problems))
        for p in problems:
            log.warning("calibrator: %s", p)

    def _warn_if_halted(self) -> None:
        """A flag left from before halts the daemon as soon as it starts: say so first, and how to clear it."""
        flag = read_flag(self.kill_flag)
        if flag is not None:
            log.warning("starting HALTED: %s", halted_notice(flag, self.kill_flag, self.cfg.runtime.log_dir,
                                                            LiveClock().now_ns()))

    def _write_runtime_file(self, engine: Engine) -> None:
        rt = self.cfg.runtime
        write_runtime_file(engine.log_dir, venue=rt.venue, dry_run=rt.dry_run,
                           exchange_url=self.exchange.base_url if self.exchange is not None else "",
                           kill_flag=str(self.kill_flag.resolve()),
                           started_ns=engine.clock.now_ns())

    async def run(self, *, install_signals: bool = True) -> int:
        """Start, run until stopped (signal, ``--once``), then release; returns the exit code."""
        try:
            engine = await self.start()
            # Released while /metrics and /health still answer: they stop last.
            rc = await engine.run(install_signals=install_signals, release=self.close)
        finally:
            await self.close()
        if self.once is not None and not self.once.summary.ok:
            return 1
        return rc

    async def close(self) -> None:
        """Release the venue client, the remote gate's client, the local exchange and the lock (once; a second
        call does nothing)."""
        if self._released:
            return
        self._released = True
        if self.remote_gate is not None:
            await self.remote_gate.close()
        if self.setup is not None:
            await self.setup.venue.close()
        if self.exchange is not None:
            await self.exchange.stop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the log dir's lock
            self._lock_fd = None
