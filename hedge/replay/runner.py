"""The replay driver: recordings -> feeds -> the daemon's pipeline -> the simulated venue, in event time.

Owns: assembling one replay — an ``Engine`` (bus, journals, state files: as live, under the
replay's log directory), the feeds' ``ReplaySource``, the ``SimVenue`` on the local exchange's
matching engine, the pipeline from ``hedge.pipeline.build_pipeline`` (the daemon's own builder),
a ``DecisionRecorder`` and, with ``features.shadow_pipeline``, the ``ShadowPipeline`` (a candidate
configuration on the same lines, sending nothing) — and running it line by line:

1. the ``EventClock`` moves to the line's recorded receive time; router timers and simulated
   latencies due before it fire first, one due time after the other, and the venue calls each
   one causes finish before the next (so the outcome never depends on when the loop got to run);
2. the line is published (decode -> book sync -> venue matching -> risk/router/signals, all
   synchronous bus handlers);
3. if a venue call was started (an order, a cancel), the event loop runs until every call is done
   or held by the simulated latency — so an order placed on a tick reaches the matching engine
   before the next recorded line, whatever the machine's speed.

``interrupt()`` (``hedge replay`` calls it on Ctrl-C, from a signal handler) stops the run after
the line being handled; the summary then covers the lines replayed so far and says so.

Nothing reads the wall clock except the optional ``speed`` pacing and the events/s figure, so the
same recordings and configuration give the same decisions, fills and fingerprint every time, and
the same journals and state files byte for byte (the speed is printed, not journaled).
A replay starts from a fresh simulated account: the pending-orders record of an earlier replay
in the same directory is discarded (nothing of it can be live on a new simulated exchange), and
neither the portfolio's ledger nor the risk gate's memory (``state/risk_state.json``) is read or
written: a replay never starts from a live daemon's day-start NAV or high-water mark.

Must never: share state between two runs, or let a wall-clock reading into an event.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from itertools import chain
from pathlib import Path

from hedge.app import Engine, gc_policy
from hedge.config import Config
from hedge.config.calibration_check import calibrator_problems
from hedge.feeds.input_report import input_problems, no_snapshot
from hedge.feeds.recording import Record, ReplaySource
from hedge.model.clock import EventClock
from hedge.pipeline import PENDING_FILE, Pipeline, build_pipeline
from hedge.replay.calibration_report import CalibrationReport
from hedge.replay.performance import PerformanceRecorder, performance
from hedge.replay.summary import DecisionRecorder, ReplaySummary, journaled
from hedge.router.tca_stats import tca_block
from hedge.shadow.candidate import candidate_config
from hedge.shadow.pipeline import ShadowPipeline
from hedge.state.trade_csv import TRADES_FILE
from hedge.venue.sim import ACCOUNT, SimVenue

log = logging.getLogger(__name__)

MAX_SETTLE_STEPS = 100_000  # loop turns before a venue call that never settles is a bug
PROGRESS_EVERY = 4096  # lines between two ``on_progress`` calls



def _tidy(x: float) -> float:
    """A summary figure without binary float noise (0.015000000000000001 -> 0.015): 10 decimals."""
    return round(x, 10) + 0.0  # + 0.0: no "-0.0"

class Replay:
    """One replay run (see the module docstring). Build, then ``await run()`` once."""

    def __init__(
        self,
        cfg: Config,
        files: Sequence[str | Path],
        *,
        log_dir: str | Path,
        speed: float | None = None,
        wall_clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        """``speed`` None = as fast as possible, else a multiple of real time, paced with ``wall_clock``
        and ``sleep`` (injectable: a test paces adversarially without waiting). ``on_progress`` is
        called with the number of lines handled so far every ``PROGRESS_EVERY`` lines (a progress
        bar; it must not touch the run)."""
        self.on_progress = on_progress
        rt = cfg.runtime
        self._wall_clock = wall_clock
        self._sleep = sleep
        self.cfg = cfg
        self.files = [str(f) for f in files]
        self.log_dir = Path(log_dir)
        self.speed = speed if speed is not None and speed > 0 else None
        self.latency_ms = rt.replay.latency_ms
        self.clock = EventClock()
        self.engine = Engine(cfg, log_dir=self.log_dir, clock=self.clock)  # the one clock: every stamp in event time
        self.engine.journals.group.fsync = False  # a pure simulation: the same journal lines, no disk round trip
        self.engine.observability.publisher.fsync = False  # and the same state files
        self.engine.observability.telemetry.track_feed_lag = False  # served by /metrics only: not in a replay
        bus = self.engine.bus
        self.source = ReplaySource(self.files, bus, imbalance_levels=rt.feeds.imbalance_levels,
                                   symbols=cfg.strategy.universe)
        dispatcher = self.source.dispatcher
        self.engine.observability.telemetry.watch_feed(dispatcher.tickers)  # the bookTickers it does not publish
        ex = rt.local_exchange
        self.venue = SimVenue(
            bus,
            cfg.strategy.universe,
            clock=self.clock,
            book_of=lambda s: dispatcher.book(s).book,
            balance=ex.starting_balance,
            maker_fee=ex.maker_fee,
            taker_fee=ex.taker_fee,
            latency_s=rt.replay.latency_ms / 1000.0,
            account_interval_s=rt.replay.account_interval_s,
            user_stream=cfg.risk.user_stream,
        )
        self.venue.attach()  # before the pipeline: the exchange matches a tick before the engine sees it
        (self.log_dir / PENDING_FILE).unlink(missing_ok=True)
        (self.log_dir / TRADES_FILE).unlink(missing_ok=True)  # this run's trade list only
        self.pipeline: Pipeline = build_pipeline(
            cfg, bus, self.engine.journals, self.venue, clock=self.clock, log_dir=self.log_dir,
            rng=random.Random(0), persist_ledger=False, persist_risk=False,
        )
        self.pipeline.router.tca.keep_all()  # the summary's tca block aggregates every execution
        self.recorder = DecisionRecorder(bus)
        self.shadow: ShadowPipeline | None = None
        if rt.features.shadow_pipeline:  # after the live pipeline: the live one decides on a tick first
            sh = rt.shadow
            self.shadow = ShadowPipeline(
                cfg, candidate_config(cfg), bus, self.engine.journals, clock=self.clock, log_dir=self.log_dir,
                book_of=lambda s: dispatcher.book(s).book, candidate_name=sh.config_dir or sh.overlay,
                live_features=self.pipeline.signals.features,
            )
        self.perf = PerformanceRecorder(bus)
        self.calibration = CalibrationReport(bus)
        for problem in calibrator_problems(cfg, 0):  # 0: a replay's data has no age
            log.warning("replay: calibrator: %s", problem)
        self.start_nav = ex.starting_balance
        self.interrupted = False

    def interrupt(self) -> None:
        """Stop after the line being handled (safe from a signal handler: it only sets a flag)."""
        self.interrupted = True

    @property
    def in_flight(self) -> int:
        """Venue calls started and neither finished nor held by the simulated latency (the shadow's too)."""
        own = self.pipeline.in_flight - self.venue.waiting
        return own if self.shadow is None else own + self.shadow.in_flight

    async def _settle(self) -> None:
        """Run the loop until every venue call is finished or held by the simulated latency."""
        pipe = self.pipeline
        steps = 0
        while self.in_flight > 0:
            await asyncio.sleep(0)
            steps += 1
            if steps > MAX_SETTLE_STEPS:
                raise RuntimeError(f"replay: {pipe.in_flight} venue call(s) never settle")

    async def run(self) -> ReplaySummary:
        engine, clock, source = self.engine, self.clock, self.source
        records = source.records()
        first = next(records, None)
        engine.journals.write("events", "replay_started", {"files": self.files, "latency_ms": self.latency_ms})
        log.info("replay: started on %s", ", ".join(self.files))
        engine.bus.start()
        t0 = time.perf_counter()
        try:
            if first is not None:
                clock.advance_to_ns(first.recv_ns)
                await self.pipeline.start()
                self.pipeline.portfolio.start_flat("replay")  # a fresh simulated account: nothing to reconcile
                self.venue.start()
                if self.shadow is not None:
                    await self.shadow.start()
                with gc_policy():  # the engine's GC policy (hedge/app.py), from the end of start-up
                    await self._run(chain((first,), records), first.recv_ns)
                # The account as it ends, so the state files (NAV, positions, PnL) equal the summary.
                self.venue.publish_account(self.venue.symbols)
            stats = source.finish(t0)
            if self.shadow is not None and first is not None:
                self.shadow.finish()
            self.pipeline.router.tca.close()  # the executions whose last markout is past the recording's end
            summary = self.summary()
            engine.journals.write("events", "replay_finished", journaled(summary))
        finally:  # journals, pending record and state files are closed even when the replay fails
            await engine.bus.close()
            self.pipeline.router.pending.close()
            engine.observability.publisher.flush()
            engine.journals.close()
        log.info("replay: %s%d events in %.2fs (%s events/s), fingerprint %s",
                 "INTERRUPTED after " if summary.interrupted else "", summary.events, stats.wall_s,
                 f"{summary.events_per_s:,.0f}", summary.fingerprint[:16])
        if not summary.interrupted:  # a replay stopped early proves nothing about the symbols it has
            self._warn_input()
        return summary

    def _warn_input(self) -> None:
        """Say what is wrong with the input (mostly bad lines; a book with diffs but no snapshot), and
        name a universe symbol the recording has no book data for: it cannot trade (not a silent 0)."""
        fs = self.source.feed_stats()
        for problem in input_problems(self.files, self.source.stats, fs, "hedge replay"):
            log.warning("replay: %s", problem)
        synced = {sym for sym, b in fs.books.items() if b.snapshots_applied or b.diffs_applied}
        missing = [sym for sym in self.cfg.strategy.universe
                   if sym not in synced and not no_snapshot(fs.books[sym])]  # that one is said above
        if missing:
            others = sorted(synced | set(fs.other_symbols))  # outside the universe: counted, not replayed
            log.warning("replay: the recording has no book data for %s (universe), so nothing of it could trade; "
                        "it has: %s (set strategy.universe and symbols.yaml to trade those)",
                        ", ".join(missing), ", ".join(others) or "none")

    async def _run(self, records: Iterator[Record], first_ns: int) -> None:
        clock, handle, settle = self.clock, self.source.handle, self._settle
        step = clock.step
        speed = self.speed
        router = self.pipeline.router
        shadow = self.shadow.pipeline.router if self.shadow is not None else router
        wall, sleep = self._wall_clock, self._sleep
        progress, every = self.on_progress, PROGRESS_EVERY
        start = wall()
        for n, rec in enumerate(records):
            if self.interrupted:
                break
            if progress is not None and n % every == 0:
                progress(n)
            ns = rec.recv_ns
            if speed is not None:  # wall-clock pacing only: everything is settled, nothing can run meanwhile
                due = (ns - first_ns) / 1e9 / speed - (wall() - start)
                if due > 0:
                    await sleep(due)
            if step(ns):  # a timer is due first
                await self._timers_until(ns)
                clock.advance_to_ns(ns)
            handle(rec)
            if router.in_flight or shadow.in_flight:  # plain attributes: this runs for every line
                await settle()
        await settle()

    async def _timers_until(self, ns: int) -> None:
        """Fire the timers due by ``ns`` one due time after the other, settling the venue calls each
        caused before the next (a maker timeout's cancel and taker order happen at the timeout's time)."""
        clock = self.clock
        while (t := clock.next_due_ns()) is not None and t <= ns:
            clock.advance_to_ns(t)
            if self.in_flight > 0:
                await self._settle()

    def summary(self) -> ReplaySummary:
        st, fs, rec, venue = self.source.stats, self.source.feed_stats(), self.recorder, self.venue
        engine = venue.engine
        wallet, upnl, _, _ = engine.totals(ACCOUNT)
        events = sum(fs.messages.values())
        bad = dict(sorted({**st.bad_kinds, **fs.parse_errors}.items()))
        return ReplaySummary(
            files=self.files,
            symbols=list(self.cfg.strategy.universe),
            lines=st.lines,
            bad_lines=sum(bad.values()),
            bad_lines_by_kind=bad,
            damaged_files=dict(st.damaged),
            events=events,
            recorded_s=round((st.last_recv_ns - st.first_recv_ns) / 1e9, 3),
            wall_s=round(st.wall_s, 3),
            events_per_s=round(events / st.wall_s) if st.wall_s > 0 else 0.0,
            book_gaps=fs.gaps,
            book_resyncs=fs.resyncs,
            snapshots_unattributed=st.snapshots_unattributed,
            symbols_dropped=dict(sorted(fs.other_symbols.items())),
            intents=rec.intents,
            approved=rec.approved,
            reduced=rec.reduced,
            vetoed=rec.vetoed,
            vetoes=dict(sorted(rec.vetoes.items())),
            orders=rec.orders,
            cancels=rec.cancels,
            orders_filled=rec.orders_filled,
            fills=rec.fills,
            maker_fills=rec.maker_fills,
            filled_qty=_tidy(rec.filled_qty),
            traded_notional=_tidy(rec.traded_notional),
            maker_ratio=_tidy(rec.maker_ratio),
            fees=_tidy(rec.fees),
            realized_pnl=_tidy(rec.realized_pnl),
            unrealized_pnl=_tidy(upnl),
            pnl=_tidy(wallet + upnl - self.start_nav),
            start_nav=self.start_nav,
            end_nav=_tidy(wallet + upnl),
            max_drawdown=rec.max_drawdown,
            positions={s: _tidy(venue.account.position(s).amount) for s in self.cfg.strategy.universe},
            open_orders=len(engine.open_orders(ACCOUNT)),
            latency_ms=self.latency_ms,
            fingerprint=rec.fingerprint,
            interrupted=self.interrupted,
            performance=performance(
                self.perf.trips, list(self.pipeline.portfolio.trades.trips.open.values()), self.perf.navs,
                start_ns=st.first_recv_ns, end_ns=st.last_recv_ns, start_nav=self.start_nav,
                trades_csv=str(self.engine.observability.trade_csv.path),
            ),
            calibration=self.calibration.result(),
            tca=tca_block(self.pipeline.router.tca.done),
        )
