"""The portfolio stage: the ledger, its reconciliation with the exchange and the exit scanner on
the bus, as one supervised service.

Owns: the wiring and the reconciliation schedule:
- Synchronous subscriptions: ``OrderIntent``/``OrderRequest`` (tag orders with their intent and
  strategy), ``Fill`` (the ledger, then the trade list: ``hedge.portfolio.trade_tracker``, which
  publishes a ``ClosedTrade`` per closed trade), ``OrderUpdate`` (the exits' working orders), ``BookUpdate``
  (the exit scanner), ``FeedStatus`` of the user stream (a reconnect schedules a reconciliation),
  ``RateLimit`` (the end of a 418 ban schedules a reconciliation: "ban-end").
- The constructor loads the ledger file; ``run()`` publishes every entry as ``LedgerPosition``, reconcile (retrying
  with backoff until the exchange answers), publish ``Reconciled`` — the risk stage vetoes every
  order until then — and then reconcile every ``portfolio.reconcile_interval_s`` and after each
  user-stream reconnect, while the store writes changes.
- Every fill a reconciliation fetches goes to the fill journal (source ``reconcile``; once per
  trade id, whoever saw it first) before the ledger books it.
- After a reconciliation (acted on by ``hedge.portfolio.drift``): exchange positions the ledger
  did not know are adopted (external, ``Alert``); a difference confirmed by a second fetch is
  drift: the exchange's quantity is taken (``PositionDrift`` unresolved -> the risk stage goes
  REDUCING; the alert router alerts), and a symbol the exchange did not report keeps its ledger
  entry, flagged unconfirmed, also as drift.
  Open orders are republished as ``OrderUpdate`` so risk counts them; external ones are tagged
  (``Alert``). Positions without a take-profit or a stop are flagged (``Alert``, once per symbol
  until it is fixed). Each reconciliation beats a ``Heartbeat`` (component ``portfolio``); a
  failed one beats ``ok=False`` and is retried with backoff.
- Feature ``exchange_stop_orders``: each position's stop also rests at the exchange
  (``hedge.portfolio.protective``); its orders' updates and reconciliation's open orders tell
  whether it rests. A protective stop found at the exchange carries an engine client order id,
  so it is never tagged external (the router adopts it as the symbol's protective stop).
- Time comes from the injected ``Clock`` (event time in replay). ``persist=False`` keeps the
  ledger in memory; only then may ``start_flat`` open trading without a fetch (replay's fresh
  simulated account, which provably starts flat and reports everything on the bus).

Must never: send an order (exits go out as intents, through risk and the router), publish
``Reconciled`` before the exchange has answered (or, in memory, before ``start_flat``), or treat
an unreported symbol as flat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from hedge.backoff import backoff_delays
from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    Alert,
    BookUpdate,
    FeedStatus,
    Fill,
    Heartbeat,
    LedgerPosition,
    OrderIntent,
    OrderRequest,
    OrderUpdate,
    RateLimit,
    Reconciled,
)
from hedge.model.clock import Clock, LiveClock
from hedge.portfolio.drift import DriftResolver
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.protective import ProtectiveStops
from hedge.portfolio.reconcile import Comparison, compare, fetch
from hedge.portfolio.scanner import ExitScanner
from hedge.portfolio.store import LEDGER_FILE, LedgerStore
from hedge.portfolio.trade_tracker import TradeTracker
from hedge.reach import level_for
from hedge.state.fill_journal import RECONCILE, FillJournal
from hedge.venue.base import Venue
from hedge.venue.errors import VenueError
from hedge.venue.rate_limit import BAN_END_MARGIN_S

log = logging.getLogger(__name__)


class PortfolioStage:
    name = "portfolio"

    def __init__(
        self,
        bus: Bus,
        venue: Venue,
        cfg: Config,
        *,
        path: str | Path | None = None,
        clock: Clock | None = None,
        persist: bool = True,
        fill_journal: FillJournal | None = None,
    ) -> None:
        """``fill_journal``: where reconciliation's fills are journaled (None: a rig without journals)."""
        self.bus = bus
        self.fill_journal = fill_journal
        self.venue = venue
        self.cfg = cfg
        self.pcfg = cfg.runtime.portfolio
        self.clock: Clock = clock or LiveClock()
        self.path = Path(path) if path is not None else Path(cfg.runtime.log_dir) / "state" / LEDGER_FILE
        exits = cfg.strategy.exits
        self.persist = persist  # False: an in-memory ledger (replay), nothing read or written
        self.ledger = Ledger(exits, LedgerStore.load(self.path) if persist else None)
        self.store = LedgerStore(self.path, self.ledger.state, clock=self.clock,
                                 interval_s=self.pcfg.persist_interval_s)
        write_ahead = self.store.save_now if persist else _nothing
        self.protect = ProtectiveStops(
            self.ledger.entries,
            min_move_bps=self.pcfg.protective_stop_min_move_bps,
            retry_s=self.pcfg.exit_retry_s,
            publish=bus.publish,
            write_ahead=write_ahead,
            changed=self.store.mark_dirty,
            clock=self.clock,
        ) if cfg.runtime.features.exchange_stop_orders else None
        self.scanner = ExitScanner(
            self.ledger,
            exits,
            trailing=cfg.runtime.features.trailing_stop,
            retry_s=self.pcfg.exit_retry_s,
            publish=bus.publish,
            write_ahead=write_ahead,
            changed=self.store.mark_dirty,
            clock=self.clock,
            protect=self.protect,
        )
        self.trades = TradeTracker(self.ledger, bus.publish)  # the trade list: a ClosedTrade per closed trade
        self.user_stream = cfg.risk.user_stream
        self.drift = DriftResolver(self.ledger, bus.publish, self.store.mark_dirty, self.clock)
        self._user_up: bool | None = None
        self._wake = asyncio.Event()
        self._flagged: set[str] = set()  # symbols already alerted for missing TP/SL
        self._trigger = "start"

    @property
    def ready(self) -> bool:
        return self.scanner.ready

    def attach(self) -> None:
        sub = self.bus.subscribe
        sub(OrderIntent, self.on_intent)
        sub(OrderRequest, self.on_request)
        sub(Fill, self.on_fill)
        sub(OrderUpdate, self.on_order_update)
        sub(BookUpdate, self.scanner.on_book)
        sub(FeedStatus, self.on_feed_status)
        sub(RateLimit, self.on_rate_limit)

    # ------------------------------------------------------------------ bus handlers (sync)

    def on_intent(self, intent: OrderIntent) -> None:
        self.trades.on_intent(intent)
        if not intent.reduce_only:
            self.ledger.on_intent(intent)

    def on_request(self, req: OrderRequest) -> None:
        if self.ledger.on_order(req):
            self.store.mark_dirty()
        self.scanner.on_order(req.client_order_id, req.intent_id)

    def on_fill(self, fill: Fill) -> None:
        line = self.apply_fill(fill)
        if line is not None:
            self.store.mark_dirty()
            self.bus.publish(line)
        if fill.liquidation:  # an external fill like any other for the ledger, but someone must know
            log.error("portfolio: %s liquidated by the exchange: %s %g @ %g", fill.symbol, fill.side.value,
                      fill.qty, fill.price)
            self.bus.publish(Alert(
                severity="critical", title=f"liquidation {fill.symbol}",
                text=f"the exchange liquidated {fill.symbol}: {fill.side.value} {fill.qty:g} @ {fill.price:g} "
                     f"(order {fill.client_order_id}, realized {fill.realized_pnl:.2f}, fee {fill.fee:.2f})",
                recv_ns=self.clock.now_ns(),
            ))

    def apply_fill(self, fill: Fill) -> LedgerPosition | None:
        """The ledger books the fill (None: a duplicate), then the trade list."""
        return self.trades.book(fill)

    def on_order_update(self, u: OrderUpdate) -> None:
        tag = self.ledger.state.tags.get(u.client_order_id)
        if tag is None:
            return
        if self.ledger.on_exchange_id(u.client_order_id, u.exchange_order_id):
            self.store.mark_dirty()
        if tag.intent_id:
            self.scanner.on_order_update(u, tag.intent_id)
            if self.protect is not None:
                self.protect.on_order_update(tag.intent_id, u.status)

    def on_feed_status(self, ev: FeedStatus) -> None:
        if ev.connection != self.user_stream:
            return
        if ev.connected and self._user_up is False:
            self.request("reconnect")
        self._user_up = ev.connected

    def on_rate_limit(self, ev: RateLimit) -> None:
        """A 418 ban: nothing can be fetched until it ends; reconcile the moment it has."""
        if ev.status == 418 and ev.banned_until_ms > 0:
            wait_s = (ev.banned_until_ms - self.clock.now_ms()) / 1000.0 + BAN_END_MARGIN_S
            self.clock.call_later(wait_s, lambda: self.request("ban-end"))

    def request(self, trigger: str) -> None:
        """Schedule a reconciliation as soon as the running one (if any) ends."""
        self._trigger = trigger
        self._wake.set()

    # ------------------------------------------------------------------ service

    async def run(self) -> None:
        for sym in sorted(self.ledger.entries):
            self.bus.publish(self.ledger.event(sym))
        loop = asyncio.get_running_loop()
        writer = loop.create_task(self.store.run(), name="portfolio-store") if self.persist else None
        try:
            delay = backoff_delays(self.cfg.runtime.http.backoff_initial_s, self.cfg.runtime.http.backoff_max_s)
            attempt = 0
            while True:
                trigger, self._trigger = self._trigger, "periodic"
                self._wake.clear()
                try:
                    await self.reconcile(trigger)
                    attempt = 0
                except (VenueError, OSError) as exc:
                    wait = delay(attempt)
                    attempt += 1
                    log.log(level_for(exc), "portfolio: reconciliation (%s) failed (%s); again in %.1fs", trigger, exc,
                            wait)
                    self.bus.publish(Heartbeat(component=self.name, ok=False, detail=f"reconciliation failed: {exc}",
                                               recv_ns=self.clock.now_ns()))
                    self._trigger = trigger
                    await asyncio.sleep(wait)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.pcfg.reconcile_interval_s)
        finally:
            if writer is not None:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)
                try:
                    self.store.save_now()
                except OSError as exc:
                    log.error("portfolio: final ledger write failed: %s", exc)

    def start_flat(self, trigger: str) -> Reconciled:
        """Open trading without fetching, for a venue that provably starts flat with no order and
        reports everything on the bus (replay's fresh simulated account, with an in-memory ledger)."""
        if self.persist or self.ledger.entries:
            raise RuntimeError("start_flat is only for an in-memory ledger that holds nothing")
        now = self.clock.now_ms()
        self.ledger.state.reconciled_ms = now
        done = Reconciled(trigger=trigger, symbols=len(self.symbols()), ts_ms=now, recv_ns=self.clock.now_ns())
        self.scanner.ready = True
        self.bus.publish(done)
        return done

    def symbols(self) -> list[str]:
        return sorted(set(self.cfg.strategy.universe) | set(self.ledger.entries))

    def _since(self, symbols: list[str]) -> dict[str, int]:
        """Where each symbol's fills are fetched from: the last successful reconciliation (what came
        before it was already compared), else the symbol's newest known fill or the ledger's last
        save; minus ``fills_margin_s``. Nothing for a ledger with no history at all."""
        margin = int(self.pcfg.fills_margin_s * 1000)
        state = self.ledger.state
        saved_ms = state.saved_ns // 1_000_000
        out: dict[str, int] = {}
        for sym in symbols:
            last = state.reconciled_ms or state.last_fill_ms.get(sym, 0) or saved_ms
            if last > 0:
                out[sym] = max(0, last - margin)
        return out

    async def reconcile(self, trigger: str) -> Reconciled:
        """One reconciliation: fetch, apply missed fills, confirm differences, act, publish ``Reconciled``."""
        symbols = self.symbols()
        since = self._since(symbols)  # once: both fetches look at the same history
        started_ms = self.clock.now_ms()
        cmp = await self._compare(symbols, since)
        if cmp.mismatches:
            await asyncio.sleep(self.pcfg.reconcile_confirm_s)
            again = await self._compare(symbols, since)
            again.adopted_orders = cmp.adopted_orders + again.adopted_orders
            again.fills_replayed += cmp.fills_replayed
            cmp = again
        now = self.clock.now_ms()
        drifts = adopted = 0
        for sym in cmp.agreed:
            self.drift.agreed(sym)
        for m in cmp.mismatches:
            if self.drift.act(m, now):
                adopted += 1
            else:
                drifts += 1
        for o in cmp.adopted_orders:
            self.bus.publish(Alert(
                severity="warning", title=f"external order {o.symbol}",
                text=f"{o.symbol}: open order {o.client_order_id} ({o.side} {o.qty:g} @ {o.price:g}) was not "
                     "sent by hedge; adopted as external", recv_ns=self.clock.now_ns(),
            ))
        missing = self.ledger.missing_levels()
        if set(missing) - self._flagged:
            self.bus.publish(Alert(
                severity="warning", title="positions without TP/SL",
                text=f"no take-profit or no stop on: {', '.join(missing)} (check strategy.exits)",
                recv_ns=self.clock.now_ns(),
            ))
        self._flagged = set(missing)
        self.ledger.state.reconciled_ms = started_ms
        self.store.mark_dirty()
        done = Reconciled(
            trigger=trigger, symbols=len(symbols), drifts=drifts, adopted_positions=adopted,
            adopted_orders=len(cmp.adopted_orders), fills_replayed=cmp.fills_replayed,
            ts_ms=now, recv_ns=self.clock.now_ns(),
        )
        self.scanner.ready = True
        self.bus.publish(done)
        self.bus.publish(Heartbeat(component=self.name, recv_ns=done.recv_ns))
        return done

    async def _compare(self, symbols: list[str], since: dict[str, int]) -> Comparison:
        snap = await fetch(self.venue, symbols, since, self.clock.now_ms())
        if self.fill_journal is not None:
            for f in snap.fills:
                self.fill_journal.record(f, RECONCILE)
        cmp = compare(self.ledger, snap, symbols, self.pcfg.qty_tolerance, apply_fill=self.apply_fill)
        for line in cmp.lines:
            self.bus.publish(line)
        if cmp.lines or cmp.adopted_orders:
            self.store.mark_dirty()
        tags = self.ledger.state.tags
        for o in snap.open_orders:  # risk counts every working order; the exits learn theirs
            self.bus.publish(o)
        working = {
            o.client_order_id: tag.intent_id
            for o in snap.open_orders
            if (tag := tags.get(o.client_order_id)) is not None and tag.intent_id
        }
        self.scanner.sync_working(working)
        if self.protect is not None:
            self.protect.sync(set(working.values()))
        for p in snap.positions.values():
            self.bus.publish(p)
        return cmp


def _nothing() -> None:
    """The write-ahead of an in-memory ledger."""
