"""The daemon's pipeline builder: ticks -> intent -> risk -> router -> venue on an Engine; the kill switch glue."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from hedge.app import Engine
from hedge.config import Config, exit_profile
from hedge.daemon.warm import DecisionWarmer
from hedge.events import (
    BookUpdate,
    CancelAll,
    Event,
    FeedStatus,
    Nav,
    OrderCancel,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    RiskDecision,
    Side,
    TimeInForce,
    Trade,
    TradingState,
)
from hedge.model.instrument import SymbolFilters
from hedge.pipeline import Pipeline, attach_pipeline
from hedge.risk.dead_man import DeadManSwitch
from hedge.risk.kill_switch import KillSwitchService
from hedge.state.journal import read_journal
from hedge.venue.binance_filters import bundled_filters
from hedge.venue.dry_run import DryRunVenue
from tests.kit.config import make_config
from tests.kit.wait import wait_for

SYM = "BTCUSDT"
BID, ASK = 30000.0, 30000.01


@dataclass
class Rig:
    engine: Engine
    venue: DryRunVenue
    pipe: Pipeline
    intents: list[OrderIntent] = field(default_factory=list)
    decisions: list[RiskDecision] = field(default_factory=list)
    requests: list[OrderRequest] = field(default_factory=list)
    cancels: list[OrderCancel] = field(default_factory=list)
    uid: int = 1000

    def tick(self, bid_qty: float, ask_qty: float, buy_qty: float = 0.0) -> None:
        """One book tick (and a taker buy) as the feeds publish them, stamped now (the daemon's clock)."""
        now = time.time_ns()
        if buy_qty:
            self.engine.bus.publish(Trade(symbol=SYM, trade_id=self.uid, price=ASK, qty=buy_qty,
                                          taker_side=Side.BUY, ts_ms=now // 1_000_000, recv_ns=now))
        self.uid += 1
        mid = (BID + ASK) / 2
        self.engine.bus.publish(BookUpdate(
            symbol=SYM, update_id=self.uid, valid=True, bid_px=BID, bid_qty=bid_qty, ask_px=ASK, ask_qty=ask_qty,
            mid=mid, micro=(BID * ask_qty + ASK * bid_qty) / (bid_qty + ask_qty),
            imbalance=(bid_qty - ask_qty) / (bid_qty + ask_qty), spread_bps=(ASK - BID) / mid * 1e4,
            ts_ms=now // 1_000_000, recv_ns=now,
        ))

    def journal(self, name: str) -> list[msgspec.Raw]:
        self.engine.journals.flush()
        path = self.engine.log_dir / f"{name}.jsonl"
        return [r.data for r in read_journal(path)] if path.exists() else []


def config(tmp_path: Path) -> Config:
    # the classic exits with the unfitted calibrator: an intent the gate approves (the scalper's would not)
    return make_config(tmp_path, risk__kill_switch__flag_file=str(tmp_path / "KILL"),
                       strategy__exits=exit_profile("classic"))


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    engine = Engine(config(tmp_path), log_dir=tmp_path)
    venue = DryRunVenue(engine.journals, bundled_filters())
    pipe = attach_pipeline(engine, venue)
    r = Rig(engine, venue, pipe)
    bus = engine.bus
    bus.subscribe(OrderIntent, r.intents.append)
    bus.subscribe(RiskDecision, r.decisions.append)
    bus.subscribe(OrderRequest, r.requests.append)
    bus.subscribe(OrderCancel, r.cancels.append)
    await pipe.start()
    await pipe.portfolio.reconcile("start")  # the daemon's portfolio service does this first: no order before
    now = time.time_ns()
    bus.publish(FeedStatus(connection="user", connected=True, recv_ns=now))
    bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="test", recv_ns=now))
    yield r
    await pipe.idle()
    assert pipe.router.task_errors == 0
    engine.journals.close()


def test_the_daemon_gets_the_pipeline_and_its_services(tmp_path: Path) -> None:
    engine = Engine(config(tmp_path), log_dir=tmp_path)
    venue = DryRunVenue(engine.journals, bundled_filters())

    async def countdown(symbol: str, ms: int) -> None:
        return None

    pipe = attach_pipeline(engine, venue, countdown_cancel_all=countdown)
    names = [s.name for s in engine.services]
    assert names[-4:] == ["pipeline", "portfolio", "kill-switch", "dead-man"] and engine.services[-4] is pipe
    assert engine.services[-3] is pipe.portfolio
    ks = engine.services[-2]
    assert isinstance(ks, KillSwitchService) and ks.engage == pipe.risk.halt
    assert isinstance(engine.services[-1], DeadManSwitch)
    engine.journals.close()


async def test_filters_go_to_the_router_and_to_risk_min_notional(rig: Rig) -> None:
    assert SYM in rig.pipe.router.filters
    assert rig.pipe.risk.min_notional[SYM] == float(bundled_filters()[SYM].min_notional) == 5.0
    assert rig.pipe.risk.step_size[SYM] == float(bundled_filters()[SYM].step_size) > 0.0


async def test_ticks_become_an_approved_intent_and_a_maker_order_on_the_venue(rig: Rig) -> None:
    rig.tick(1.0, 1.0)
    assert rig.intents == []  # a balanced book: no signal
    rig.tick(9.0, 1.0, buy_qty=2.0)  # bid-heavy book, micro-price near the ask, taker buying
    rig.tick(9.5, 0.5, buy_qty=2.0)
    assert rig.intents, "micro_scalper should lean with this book"
    intent = rig.intents[0]
    assert intent.side is Side.BUY and intent.intent_id.startswith(f"micro_scalper-{SYM}-")
    (d,) = [d for d in rig.decisions if d.intent.intent_id == intent.intent_id]
    assert d.allow and d.max_qty > 0.0
    await rig.pipe.idle()
    (req,) = rig.requests
    assert (req.intent_id, req.side, req.tif, req.price) == (intent.intent_id, Side.BUY, TimeInForce.GTX, BID)
    assert req.qty == pytest.approx(float(int(min(intent.notional / intent.limit_px, d.max_qty) * 1000)) / 1000)
    placed = rig.journal("orders_dry_run")
    assert len(placed) == 1 and msgspec.json.decode(placed[0])["client_order_id"] == req.client_order_id
    assert len(rig.journal("orders_sent")) == 1


async def test_cancel_all_halts_the_router_and_cancels_through_the_venue(rig: Rig) -> None:
    rig.tick(9.0, 1.0, buy_qty=2.0)
    rig.tick(9.5, 0.5, buy_qty=2.0)
    await rig.pipe.idle()
    (req,) = rig.requests
    assert [u.client_order_id for u in await rig.venue.open_orders(SYM)] == [req.client_order_id]
    seen: list[CancelAll] = []
    rig.engine.bus.subscribe(CancelAll, seen.append)
    rig.pipe.risk.halt("test kill")  # what the kill switch does
    assert [c.reason for c in seen] == ["test kill"] and rig.pipe.risk.machine.state is TradingState.HALTED
    await rig.pipe.idle()
    assert await rig.venue.open_orders(SYM) == []
    assert [c.reason for c in rig.cancels] == ["halt"]
    assert rig.pipe.router.halted == "test kill" and rig.pipe.router.executions == {}
    failed = [msgspec.json.decode(x) for x in rig.journal("orders_failed")]
    assert failed[-1]["intent_id"] == req.intent_id and "halted: test kill" in failed[-1]["reasons"]
    rig.tick(9.5, 0.5, buy_qty=2.0)  # whatever comes next, nothing is sent any more
    await rig.pipe.idle()
    assert len(rig.requests) == 1
    assert rig.pipe.router.cancel_all_errors == 0


class FailingCancelAll(DryRunVenue):
    """Reports one open order (placed by another process) and fails to cancel anything."""

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        return [OrderUpdate(client_order_id="other-process", symbol=SYM, status=OrderStatus.NEW, side=Side.BUY)]

    async def cancel_all(self, symbol: str) -> int:
        raise ConnectionResetError("venue down")


async def test_a_failing_cancel_all_is_counted_and_the_router_still_halts(tmp_path: Path) -> None:
    engine = Engine(config(tmp_path), log_dir=tmp_path)
    pipe = attach_pipeline(engine, FailingCancelAll(engine.journals, bundled_filters()))
    await pipe.start()
    engine.bus.publish(CancelAll(reason="operator"))
    await pipe.idle()
    assert pipe.router.cancel_all_errors == 1 and pipe.router.halted == "operator" and pipe.in_flight == 0
    engine.journals.close()


class RefreshingFilters(DryRunVenue):
    """A dry-run venue whose exchange changes BTCUSDT's tick size after the first load."""

    loads = 0

    async def load_filters(self) -> dict[str, SymbolFilters]:
        self.loads += 1
        filters = await super().load_filters()
        if self.loads > 1:
            filters[SYM] = msgspec.structs.replace(filters[SYM], tick_size=Decimal("0.5"))
        return filters


async def test_the_pipeline_service_refreshes_the_router_filters(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    rc = msgspec.structs.replace(cfg.runtime.router, filters_refresh_s=0.01)
    cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(cfg.runtime, router=rc))
    engine = Engine(cfg, log_dir=tmp_path)
    venue = RefreshingFilters(engine.journals, bundled_filters())
    pipe = attach_pipeline(engine, venue)
    task = asyncio.get_running_loop().create_task(pipe.run())
    try:
        await wait_for(lambda: SYM in pipe.router.filters and pipe.router.filters[SYM].f.tick_size == Decimal("0.5"),
                       what="the refreshed filters")
        assert pipe.router.filters[SYM].f.tick_size == Decimal("0.5") and venue.loads >= 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        engine.journals.close()


async def test_rehearsals_warm_the_decision_path_and_change_nothing(rig: Rig) -> None:
    """``features.warm_decision_path``: each stage's rehearsal runs its decision on the current book
    (an approved probe, a maker request at the touch) and leaves no trace: no event, no byte in any
    file, no count, record or timer; the next real order is still its intent's first attempt."""
    rig.tick(1.0, 1.0)  # a valid book for risk and the router, no intent
    pipe, engine = rig.pipe, rig.engine
    seen: list[Event] = []
    engine.bus.subscribe(Event, seen.append)

    def state() -> tuple[object, ...]:
        engine.journals.flush()
        files = {str(p): p.read_bytes() for p in sorted(engine.log_dir.rglob("*")) if p.is_file()}
        router = pipe.router
        screener = pipe.signals.screener
        return (files, msgspec.to_builtins(engine.bus.stats()), pipe.risk.counters(), dict(router.executions),
                dict(screener.skipped), {k: dict(v) for k, v in screener._last_ms.items()}, pipe.signals.intents,
                dict(router.lifecycle.orders), router.in_flight, len(asyncio.get_running_loop()._scheduled))  # type: ignore[attr-defined]

    before = state()
    warmer = DecisionWarmer((pipe.signals.rehearse, pipe.risk.rehearse, pipe.router.rehearse), [SYM, "NOSUCHUSDT"])
    for _ in range(50):
        warmer.rehearse()
    screened, d, req = pipe.signals.rehearse(SYM), pipe.risk.rehearse(SYM), pipe.router.rehearse(SYM)
    assert isinstance(screened, tuple) and screened[1].symbol == SYM and screened[1].notional > 0.0
    assert d.allow and d.max_qty > 0.0 and d.reasons == ()
    assert req is not None and (req.side, req.tif, req.price) == (Side.BUY, TimeInForce.GTX, BID) and req.qty > 0.0
    assert pipe.router.rehearse("NOSUCHUSDT") is None and pipe.signals.rehearse("NOSUCHUSDT") is None
    assert warmer.errors == 0 and warmer.runs == 50
    assert seen == [] and state() == before
    rig.tick(9.0, 1.0, buy_qty=2.0)  # now a real intent
    rig.tick(9.5, 0.5, buy_qty=2.0)
    await pipe.idle()
    (first,) = rig.requests
    assert first.client_order_id.endswith("-0-0") and first.intent_id != req.intent_id


def test_a_failing_rehearsal_is_counted_and_the_others_still_run() -> None:
    ran: list[str] = []

    def broken(symbol: str) -> None:
        raise KeyError(symbol)

    warmer = DecisionWarmer((broken, ran.append), ["BTCUSDT", "ETHUSDT"])
    warmer.rehearse()
    warmer.rehearse()
    assert (warmer.runs, warmer.errors, ran) == (2, 4, ["BTCUSDT", "ETHUSDT"] * 2)


def test_risk_and_the_router_take_the_urgent_lane_in_all_their_subscriptions_and_nothing_else_does(
        tmp_path: Path) -> None:
    """The order path runs ahead of observers (hedge/bus.py, the urgent lane): a component is urgent in
    all of its subscriptions or none, and only risk's and the router's are (an observer in the lane would
    make the order wait again)."""
    engine = Engine(config(tmp_path), log_dir=tmp_path)
    pipe = attach_pipeline(engine, DryRunVenue(engine.journals, bundled_filters()))
    router, risk = pipe.router, pipe.risk
    owners = {id(risk), id(risk.market), id(router), id(router.executor), id(router.halting)}
    subs = [s for s in engine.bus._subs if s.handler is not None]
    ours = [s for s in subs if id(getattr(s.handler, "__self__", None)) in owners]
    assert len(ours) >= 20 and all(s.urgent for s in ours)
    assert all(s in ours for s in subs if s.urgent)
    engine.journals.close()
