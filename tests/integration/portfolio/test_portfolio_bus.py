"""The portfolio on a real Bus with the real risk stage, router and dry-run venue (files on disk):
no order before the first reconciliation, an exit through risk and the router, drift -> REDUCING
and an alert, external orders and positions adopted, an unreported symbol never read as flat,
fills missed by a crash replayed (and journaled once, with their source), a user-stream reconnect
reconciling again.

The account side (positions and fills the exchange reports) is scripted on top of the dry-run
venue, which never fills; the same scenarios against the local exchange need the ccxt venue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec
import pytest

from hedge.bus import Bus
from hedge.config import Config, PortfolioConfig, exit_profile
from hedge.events import (
    Alert,
    BookUpdate,
    Event,
    FeedStatus,
    Fill,
    Heartbeat,
    LedgerPosition,
    Nav,
    OrderIntent,
    OrderRequest,
    OrderType,
    Position,
    PositionDrift,
    Reconciled,
    RiskDecision,
    Side,
    TradingState,
)
from hedge.model.clock import EventClock
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.stage import PortfolioStage
from hedge.portfolio.store import LedgerStore
from hedge.risk.reasons import Reason
from hedge.risk.stage import RiskStage
from hedge.router.stage import RouterStage
from hedge.state.alerts.dispatcher import AlertDispatcher
from hedge.state.alerts.router import AlertRouter
from hedge.state.fill_journal import FILLS_JOURNAL, FillJournal
from hedge.state.journal import Journals, read_journal
from hedge.venue.binance_filters import bundled_filters
from hedge.venue.dry_run import DryRunVenue
from hedge.venue.errors import Retryable
from tests.kit.config import make_config
from tests.kit.wait import wait_for
from tests.unit.risk.helpers import risk_config

PX = 30_000.0
SYM = "BTCUSDT"


class Account(DryRunVenue):
    """The dry-run venue with a scripted account: the positions and fills the exchange reports."""

    def __init__(self, journals: Journals) -> None:
        super().__init__(journals, bundled_filters())
        self.held: dict[str, Position] = {}
        self.fills: list[Fill] = []
        self.unreported: set[str] = set()
        self.failures = 0  # the next positions() calls that fail like an overloaded exchange

    async def positions(self, symbols: Sequence[str] | None = None) -> list[Position]:
        if self.failures:
            self.failures -= 1
            raise Retryable("Service Unavailable.", http_status=503)
        out = []
        for s in symbols or list(self.held):
            if s not in self.unreported:
                out.append(self.held.get(s) or Position(symbol=s, qty=0.0, entry_price=0.0))
        return out

    async def recent_fills(self, symbol: str, since_ms: int) -> list[Fill]:
        return [f for f in self.fills if f.symbol == symbol and f.ts_ms >= since_ms]


def config(tmp_path: Path) -> Config:
    pf = PortfolioConfig(reconcile_confirm_s=0.01, reconcile_interval_s=60.0, exit_retry_s=1.0, persist_interval_s=0.01)
    return make_config(tmp_path, base=risk_config(), runtime__portfolio=pf, strategy__exits=exit_profile("classic"))


class Rig:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.cfg = config(tmp_path)
        self.bus = Bus()
        self.journals = Journals(tmp_path)
        self.fills = FillJournal(self.journals.writer(FILLS_JOURNAL))
        self.bus.subscribe(Fill, self.fills.on_fill)  # as hedge.pipeline wires it
        self.venue = Account(self.journals)
        self.risk = RiskStage(self.bus, self.cfg)
        self.risk.attach()
        self.router = RouterStage(self.bus, self.venue, self.journals, self.cfg, backoff=lambda n: 0.01)
        AlertRouter(self.bus, AlertDispatcher([]), daily_dd_limit=0.1).attach()
        self.seen: list[Event] = []
        self.news = asyncio.Event()
        for t in (Reconciled, PositionDrift, Alert, RiskDecision, OrderRequest, OrderIntent, LedgerPosition, Heartbeat):
            self.bus.subscribe(t, self.saw)
        self.portfolio: PortfolioStage | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> PortfolioStage:
        self.router.set_filters(await self.venue.load_filters())  # as hedge.pipeline starts it
        self.router.recover()
        self.portfolio = PortfolioStage(self.bus, self.venue, self.cfg, fill_journal=self.fills)
        self.portfolio.attach()
        self.task = asyncio.create_task(self.portfolio.run())
        self.market()
        return self.portfolio

    def market(self, px: float = PX) -> None:
        self.bus.publish(Nav(nav=100_000.0, wallet_balance=100_000.0, unrealized_pnl=0.0, source="reconcile"))
        self.bus.publish(FeedStatus(connection="user", connected=True))
        self.book(px)

    def book(self, px: float) -> None:
        self.bus.publish(BookUpdate(symbol=SYM, update_id=int(px * 10), valid=True, bid_px=px, bid_qty=5.0,
                                    ask_px=px + 0.1, ask_qty=5.0, mid=px + 0.05, micro=px, imbalance=0.0,
                                    spread_bps=0.03, recv_ns=time.time_ns()))

    def saw(self, ev: Event) -> None:
        self.seen.append(ev)
        self.news.set()

    async def until(self, t: type[Event], n: int = 1) -> list[Event]:
        """The events of type ``t`` once there are ``n``, re-counted whenever the rig saw an event."""
        await wait_for(lambda: len(self.of(t)) >= n, 30, what=f"{n} {t.__name__}", wake=self.news)
        return self.of(t)

    def of(self, t: type[Event]) -> list[Event]:
        return [e for e in self.seen if isinstance(e, t)]

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.router.idle()
        self.journals.close()


def entry_intent(n: int = 1) -> OrderIntent:
    return OrderIntent(intent_id=f"micro_scalper-{SYM}-{n}", symbol=SYM, side=Side.BUY, notional=300.0,
                       strategy="micro_scalper", reason="score=+0.9", e_pi_bps=5.0)


def user_fill(cid: str, side: Side, qty: float, px: float, trade_id: int) -> Fill:
    return Fill(client_order_id=cid, symbol=SYM, side=side, qty=qty, price=px, fee=0.0, trade_id=trade_id,
                ts_ms=int(time.time() * 1000))


@pytest.fixture
async def rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    r = Rig(tmp_path)
    yield r
    await r.stop()


async def test_no_order_before_the_first_reconciliation_then_entry_and_take_profit(rig: Rig) -> None:
    rig.router.set_filters(await rig.venue.load_filters())
    rig.router.recover()
    rig.market()
    rig.bus.publish(entry_intent(1))  # the portfolio has not reconciled: vetoed, nothing sent
    (veto,) = rig.of(RiskDecision)
    assert not veto.allow and Reason.NOT_RECONCILED in veto.reasons  # type: ignore[attr-defined]
    assert rig.of(OrderRequest) == [] and await rig.venue.open_orders() == []
    portfolio = PortfolioStage(rig.bus, rig.venue, rig.cfg)
    portfolio.attach()
    rig.task = asyncio.create_task(portfolio.run())
    (done,) = await rig.until(Reconciled)
    assert done.trigger == "start" and done.drifts == 0  # type: ignore[attr-defined]
    rig.bus.publish(entry_intent(2))
    (req,) = await rig.until(OrderRequest)
    assert req.intent_id == "micro_scalper-BTCUSDT-2"  # type: ignore[attr-defined]
    # the user stream reports the fill and the position: the ledger opens it, attributed
    rig.bus.publish(user_fill(req.client_order_id, Side.BUY, 0.01, PX, 1))  # type: ignore[attr-defined]
    rig.bus.publish(Position(symbol=SYM, qty=0.01, entry_price=PX))
    line = rig.of(LedgerPosition)[-1]
    assert line.qty == 0.01 and line.strategy == "micro_scalper"  # type: ignore[attr-defined]
    assert line.tp_price == pytest.approx(PX * 1.005) and line.sl_price == pytest.approx(PX * 0.9975)  # type: ignore[attr-defined]
    rig.book(PX * 1.005 + 1.0)  # take-profit touched
    exits = [i for i in rig.of(OrderIntent) if i.reduce_only]  # type: ignore[attr-defined]
    assert [i.intent_id for i in exits] == [f"exit-{SYM}-t1-1"]  # type: ignore[attr-defined]
    decision = [d for d in rig.of(RiskDecision) if d.intent.reduce_only][-1]  # type: ignore[attr-defined]
    assert decision.allow and decision.max_qty == pytest.approx(0.01)  # type: ignore[attr-defined]
    exit_req = [r for r in rig.of(OrderRequest) if r.reduce_only][-1]  # type: ignore[attr-defined]
    assert exit_req.side is Side.SELL and exit_req.qty == pytest.approx(0.01) and exit_req.type is OrderType.LIMIT  # type: ignore[attr-defined]
    rig.book(PX * 1.005 + 2.0)
    assert len([i for i in rig.of(OrderIntent) if i.reduce_only]) == 1  # type: ignore[attr-defined]  # one live exit
    rig.bus.publish(user_fill(exit_req.client_order_id, Side.SELL, 0.01, PX * 1.005, 2))  # type: ignore[attr-defined]
    assert rig.of(LedgerPosition)[-1].qty == 0.0 and SYM not in portfolio.ledger.entries  # type: ignore[attr-defined]
    assert rig.of(LedgerPosition)[-1].realized_pnl == pytest.approx(0.01 * PX * 0.005)  # type: ignore[attr-defined]


async def test_unexplained_drift_moves_risk_to_reducing_with_an_alert(rig: Rig) -> None:
    led = Ledger(rig.cfg.strategy.exits)
    led.apply_fill(user_fill("hAAAAAAAAAAAAAAAA-0-0", Side.BUY, 0.02, PX, 7))
    LedgerStore(rig.tmp / "state" / "portfolio_ledger.json", led.state, clock=EventClock()).save_now()
    # the exchange says flat (qty 0) and reports no fill that would explain it
    await rig.start()
    (done,) = await rig.until(Reconciled)
    assert done.drifts == 1  # type: ignore[attr-defined]
    (drift,) = rig.of(PositionDrift)
    assert (drift.local_qty, drift.exchange_qty, drift.resolved) == (0.02, 0.0, False)  # type: ignore[attr-defined]
    assert rig.risk.machine.state is TradingState.REDUCING
    assert any(a.title == f"position drift {SYM}" for a in rig.of(Alert))  # type: ignore[attr-defined]
    assert SYM not in rig.portfolio.ledger.entries  # type: ignore[union-attr]  # the exchange's word is taken
    rig.bus.publish(entry_intent(3))
    assert Reason.REDUCING in rig.of(RiskDecision)[-1].reasons  # type: ignore[attr-defined]


async def test_an_unreported_symbol_is_kept_and_flagged_never_read_as_flat(rig: Rig) -> None:
    led = Ledger(rig.cfg.strategy.exits)
    led.apply_fill(user_fill("hAAAAAAAAAAAAAAAA-0-0", Side.SELL, 0.02, PX, 7))
    LedgerStore(rig.tmp / "state" / "portfolio_ledger.json", led.state, clock=EventClock()).save_now()
    rig.venue.unreported.add(SYM)
    portfolio = await rig.start()
    await rig.until(Reconciled)
    (drift,) = rig.of(PositionDrift)
    assert not drift.reported and not drift.resolved  # type: ignore[attr-defined]
    e = portfolio.ledger.entries[SYM]
    assert e.qty == -0.02 and e.unconfirmed
    assert rig.risk.machine.state is TradingState.REDUCING
    # once the exchange reports the position again, the drift is resolved
    rig.venue.unreported.clear()
    rig.venue.held[SYM] = Position(symbol=SYM, qty=-0.02, entry_price=PX)
    portfolio.request("periodic")
    await rig.until(Reconciled, 2)
    assert rig.of(PositionDrift)[-1].resolved and not portfolio.ledger.entries[SYM].unconfirmed  # type: ignore[attr-defined]


async def test_external_orders_and_positions_are_adopted_and_tagged(rig: Rig) -> None:
    await rig.venue.place(OrderRequest(client_order_id="web_manual_1", intent_id="", symbol=SYM, side=Side.SELL,
                                       type=OrderType.LIMIT, qty=0.005, price=PX * 1.1))
    rig.venue.held["ETHUSDT"] = Position(symbol="ETHUSDT", qty=-1.5, entry_price=2000.0)
    rig.venue.held[SYM] = Position(symbol=SYM, qty=0.0, entry_price=0.0)
    rig.cfg = msgspec.structs.replace(
        rig.cfg, strategy=msgspec.structs.replace(rig.cfg.strategy, universe=[SYM, "ETHUSDT"])
    )
    portfolio = await rig.start()
    (done,) = await rig.until(Reconciled)
    assert done.adopted_orders == 1 and done.adopted_positions == 1 and done.drifts == 0  # type: ignore[attr-defined]
    titles = {a.title for a in rig.of(Alert)}  # type: ignore[attr-defined]
    assert {f"external order {SYM}", "external position ETHUSDT"} <= titles
    eth = portfolio.ledger.entries["ETHUSDT"]
    assert eth.external and eth.strategy == "external" and eth.levels.stop == pytest.approx(2005.0)
    assert rig.risk.context(SYM, time.time_ns()).open_orders == 1  # risk counts the external order
    assert rig.risk.machine.state is TradingState.ACTIVE
    rig.bus.publish(user_fill("web_manual_1", Side.SELL, 0.005, PX * 1.1, 99))
    btc = portfolio.ledger.entries[SYM]
    assert btc.external and btc.qty == -0.005


async def test_fills_missed_by_a_crash_are_replayed_and_explain_the_position(rig: Rig) -> None:
    led = Ledger(rig.cfg.strategy.exits)
    led.on_intent(entry_intent(5))
    led.on_order(OrderRequest(client_order_id="hBBBBBBBBBBBBBBBB-0-0", intent_id=entry_intent(5).intent_id,
                              symbol=SYM, side=Side.BUY, type=OrderType.LIMIT, qty=0.03, price=PX))
    led.apply_fill(user_fill("hBBBBBBBBBBBBBBBB-0-0", Side.BUY, 0.01, PX, 10))
    LedgerStore(rig.tmp / "state" / "portfolio_ledger.json", led.state, clock=EventClock()).save_now()
    # after the save (the crash), two more fills of the same order happened at the exchange
    rig.venue.fills = [user_fill("hBBBBBBBBBBBBBBBB-0-0", Side.BUY, 0.01, PX, 10),
                       user_fill("hBBBBBBBBBBBBBBBB-0-0", Side.BUY, 0.02, PX + 30.0, 11)]
    rig.venue.held[SYM] = Position(symbol=SYM, qty=0.03, entry_price=PX + 20.0)
    portfolio = await rig.start()
    (done,) = await rig.until(Reconciled)
    assert done.fills_replayed == 1 and done.drifts == 0  # type: ignore[attr-defined]
    e = portfolio.ledger.entries[SYM]
    assert e.qty == pytest.approx(0.03) and e.entry_price == pytest.approx(PX + 20.0)
    assert e.strategy == "micro_scalper" and not e.external
    assert rig.risk.machine.state is TradingState.ACTIVE


async def test_fills_learnt_at_reconciliation_are_journaled_once_with_their_source(rig: Rig) -> None:
    led = Ledger(rig.cfg.strategy.exits)
    led.on_intent(entry_intent(7))
    led.on_order(OrderRequest(client_order_id="hDDDDDDDDDDDDDDDD-0-0", intent_id=entry_intent(7).intent_id,
                              symbol=SYM, side=Side.BUY, type=OrderType.LIMIT, qty=0.04, price=PX))
    # the ledger's last save (before a kill) knew trade 30; the fill journal had not kept it
    led.apply_fill(user_fill("hDDDDDDDDDDDDDDDD-0-0", Side.BUY, 0.01, PX, 30))
    LedgerStore(rig.tmp / "state" / "portfolio_ledger.json", led.state, clock=EventClock()).save_now()
    rig.venue.fills = [user_fill("hDDDDDDDDDDDDDDDD-0-0", Side.BUY, 0.01, PX, t) for t in (30, 31)]
    rig.venue.held[SYM] = Position(symbol=SYM, qty=0.02, entry_price=PX)
    portfolio = await rig.start()
    await rig.until(Reconciled)
    live = user_fill("hDDDDDDDDDDDDDDDD-0-0", Side.BUY, 0.01, PX, 32)
    rig.bus.publish(live)  # over the user stream
    rig.bus.publish(user_fill("hDDDDDDDDDDDDDDDD-0-0", Side.BUY, 0.01, PX, 31))  # a late repeat of a learnt one
    rig.venue.fills += [live, user_fill("hDDDDDDDDDDDDDDDD-0-0", Side.BUY, 0.01, PX, 33)]  # 33: a stream gap
    rig.venue.held[SYM] = Position(symbol=SYM, qty=0.04, entry_price=PX)
    portfolio.request("periodic")
    await rig.until(Reconciled, 2)  # fetches 30-33 again: each is already journaled but 33
    await rig.stop()
    lines = [(r.decode()["fill"]["trade_id"], r.decode()["source"])
             for r in read_journal(rig.tmp / "fills.jsonl") if r.kind == "fill"]
    assert sorted(lines) == [(30, "reconcile"), (31, "reconcile"), (32, "user_stream"), (33, "reconcile")]
    assert portfolio.ledger.qty(SYM) == pytest.approx(0.04)
    # the next process (its fill journal read back from the file) fetches them once more: nothing new
    again = FillJournal(Journals(rig.tmp).writer(FILLS_JOURNAL))
    assert not any(again.record(f, "reconcile") for f in rig.venue.fills)


async def test_a_user_stream_reconnect_reconciles_again(rig: Rig) -> None:
    await rig.start()
    await rig.until(Reconciled)
    rig.bus.publish(FeedStatus(connection="user", connected=False, reason="closed"))
    rig.bus.publish(FeedStatus(connection="user", connected=True))
    second = (await rig.until(Reconciled, 2))[1]
    assert second.trigger == "reconnect"  # type: ignore[attr-defined]


async def test_the_ledger_survives_a_restart(rig: Rig) -> None:
    rig.venue.held[SYM] = Position(symbol=SYM, qty=0.01, entry_price=PX)
    portfolio = await rig.start()
    await rig.until(Reconciled)
    rig.book(PX * 1.003)  # 1.2 R: breakeven then trailing
    stop = portfolio.ledger.entries[SYM].levels.stop
    assert stop == pytest.approx(PX * 1.003 * 0.998)
    await rig.stop()
    again = Ledger(rig.cfg.strategy.exits, LedgerStore.load(rig.tmp / "state" / "portfolio_ledger.json"))
    assert again.entries[SYM].levels.stop == stop and again.entries[SYM].external


async def test_a_failing_exchange_is_retried_and_nothing_trades_meanwhile(rig: Rig) -> None:
    rig.venue.failures = 1
    portfolio = await rig.start()
    (beat,) = await rig.until(Heartbeat)
    assert not beat.ok and "reconciliation failed" in beat.detail  # type: ignore[attr-defined]
    assert not portfolio.ready and rig.of(Reconciled) == []
    rig.bus.publish(entry_intent(9))
    assert Reason.NOT_RECONCILED in rig.of(RiskDecision)[-1].reasons  # type: ignore[attr-defined]
    await rig.until(Reconciled)  # after the backoff (0.4 s), the exchange answers
    assert portfolio.ready and rig.of(Heartbeat)[-1].ok  # type: ignore[attr-defined]


async def test_fills_missed_since_the_last_reconciliation_are_found_even_after_later_saves(rig: Rig) -> None:
    now_ms = int(time.time() * 1000)
    led = Ledger(rig.cfg.strategy.exits)
    led.on_intent(entry_intent(6))
    led.on_order(OrderRequest(client_order_id="hCCCCCCCCCCCCCCCC-0-0", intent_id=entry_intent(6).intent_id,
                              symbol=SYM, side=Side.BUY, type=OrderType.LIMIT, qty=0.01, price=PX))
    led.state.reconciled_ms = now_ms - 20_000  # the last reconciliation; the fill came after it ...
    LedgerStore(rig.tmp / "state" / "portfolio_ledger.json", led.state, clock=EventClock()).save_now()  # ... and before this save
    fill = user_fill("hCCCCCCCCCCCCCCCC-0-0", Side.BUY, 0.01, PX, 21)
    rig.venue.fills = [msgspec.structs.replace(fill, ts_ms=now_ms - 15_000)]
    rig.venue.held[SYM] = Position(symbol=SYM, qty=0.01, entry_price=PX)
    portfolio = await rig.start()
    (done,) = await rig.until(Reconciled)
    assert done.fills_replayed == 1 and done.adopted_positions == 0 and done.drifts == 0  # type: ignore[attr-defined]
    assert portfolio.ledger.entries[SYM].strategy == "micro_scalper"
    assert portfolio.ledger.state.reconciled_ms >= now_ms


async def test_start_flat_only_for_an_in_memory_ledger(rig: Rig) -> None:
    with pytest.raises(RuntimeError):
        PortfolioStage(rig.bus, rig.venue, rig.cfg).start_flat("replay")  # a durable ledger must reconcile
    mem = PortfolioStage(rig.bus, rig.venue, rig.cfg, persist=False, clock=EventClock(42_000_000))
    mem.attach()
    done = mem.start_flat("replay")
    assert mem.ready and done.ts_ms == 42 and rig.of(Reconciled) == [done]
    assert not (rig.tmp / "state" / "portfolio_ledger.json").exists()  # nothing written in memory mode
    rig.bus.publish(user_fill("hDDDDDDDDDDDDDDDD-0-0", Side.BUY, 0.01, PX, 3))
    assert mem.ledger.qty(SYM) == 0.01
