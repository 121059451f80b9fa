"""The portfolio end to end on the local exchange: real sockets, the real ccxt venue, the real
user-data stream and market feed, the real risk stage and router. The exchange plays a scripted
market (``tape.py``) so each exit fires at a known moment:

open -> take-profit; stop-loss; breakeven move then breakeven stop; trailing stop; an external
order and position adopted at start; drift (someone trades behind hedge's back) -> REDUCING.
After every scenario the ledger equals the exchange's positions and no client order id was sent
twice (``GET /_hedge/orders``)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest

from hedge.bus import Bus
from hedge.config import Config, ExitParams, FeedsConfig, PortfolioConfig, exit_profile
from hedge.events import (
    Alert,
    BookUpdate,
    ClosedTrade,
    Event,
    Fill,
    LedgerPosition,
    Nav,
    OrderIntent,
    OrderRequest,
    PositionDrift,
    Reconciled,
    RiskDecision,
    Side,
    TradingState,
)
from hedge.exchange.server import LocalExchange
from hedge.feeds.connection import endpoints
from hedge.feeds.market import MarketFeed
from hedge.model.clock import EventClock
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.stage import PortfolioStage
from hedge.portfolio.store import LEDGER_FILE, LedgerStore
from hedge.risk.stage import RiskStage
from hedge.router.pending import PendingOrders
from hedge.router.stage import RouterStage
from hedge.state.alerts.dispatcher import AlertDispatcher
from hedge.state.alerts.router import AlertRouter
from hedge.state.journal import Journals
from hedge.state.trade_csv import TradeCsv
from hedge.venue.user_stream import UserStream
from tests.integration.portfolio.tape import write_tape
from tests.kit.config import make_config
from tests.kit.exchange import ccxt_session, local_venue
from tests.kit.wait import wait_for

SYM = "BTCUSDT"
P0 = 60_000.0  # the tape's bid before it moves; the ask is one tick above
MOVE_AT = 5.0  # seconds after the exchange starts: the entry is filled by then (it takes ~2 s)
# R = 30 (sl 5 bps), TP at +60 (10 bps), breakeven from +24, trail 12 (2 bps) unless a test says otherwise
EXITS = exit_profile("classic", tp_pct=0.001, sl_pct=0.0005, trail_bps=2.0, breakeven_after_R=0.8, max_R=3.0)


class Desk:
    def __init__(self, tmp: Path, exchange: LocalExchange, cfg: Config) -> None:
        self.tmp = tmp
        self.exchange = exchange
        self.cfg = cfg
        self.bus = Bus()
        self.events: list[Event] = []
        self.news = asyncio.Event()
        for t in (Reconciled, PositionDrift, Alert, OrderIntent, RiskDecision, OrderRequest, LedgerPosition, Fill,
                  BookUpdate, ClosedTrade):
            self.bus.subscribe(t, self._saw)
        self.journals = Journals(tmp)
        self.venue = local_venue(exchange, publish=self.bus.publish)
        self.risk = RiskStage(self.bus, cfg)
        self.risk.attach()
        AlertRouter(self.bus, AlertDispatcher([]), daily_dd_limit=0.1).attach()
        self.router = RouterStage(self.bus, self.venue, self.journals, cfg,
                             pending=PendingOrders(tmp / "state" / "pending_orders.jsonl"))
        self.portfolio = PortfolioStage(self.bus, self.venue, cfg)
        self.portfolio.attach()
        self.trade_csv = TradeCsv(tmp)  # as the daemon's observability wires it: <log_dir>/trades.csv
        self.trade_csv.attach(self.bus)
        feeds = FeedsConfig(snapshot_min_interval_s=0.0, backoff_initial_s=0.05, backoff_max_s=0.2)
        self.services = [
            UserStream(self.venue, f"ws://127.0.0.1:{exchange.port}", self.bus.publish),
            MarketFeed(feeds, [SYM], self.bus, endpoints("local", feeds, local_port=exchange.port)),
            self.portfolio,
        ]
        self.tasks: list[asyncio.Task[None]] = []

    def _saw(self, ev: Event) -> None:
        if not isinstance(ev, BookUpdate):
            self.events.append(ev)
        self.news.set()

    async def start(self) -> None:
        await self.venue.start()
        self.router.set_filters(await self.venue.load_filters())  # as hedge.pipeline starts it
        self.router.recover()
        self.bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="reconcile"))
        self.tasks = [asyncio.create_task(s.run()) for s in self.services]
        await self.until(lambda: self.of(Reconciled) and self.risk.user_stream_up and self.book_valid())

    def book_valid(self) -> bool:
        b = self.risk.market.books.get(SYM)
        return b is not None and b.valid

    async def until(self, pred: Callable[[], Any], within_s: float = 20.0) -> None:
        """Wait for ``pred`` re-checked whenever the desk saw an event."""
        await wait_for(pred, within_s, wake=self.news)

    def of(self, t: type[Event]) -> list[Any]:
        return [e for e in self.events if isinstance(e, t)]

    def exits(self) -> list[OrderIntent]:
        return [i for i in self.of(OrderIntent) if i.reduce_only]

    async def enter(self, side: Side = Side.BUY, notional: float = 490.0) -> LedgerPosition:
        self.bus.publish(OrderIntent(intent_id=f"micro_scalper-{SYM}-{time.time_ns()}", symbol=SYM, side=side,
                                     notional=notional, strategy="micro_scalper", reason="test entry", e_pi_bps=5.0,
                                     recv_ns=time.time_ns()))
        await self.until(lambda: self.of(LedgerPosition) and self.of(LedgerPosition)[-1].qty != 0.0)
        line: LedgerPosition = self.of(LedgerPosition)[-1]
        return line

    async def flat(self) -> None:
        """The exit filled: the ledger line is closed and the exchange's position is 0."""
        await self.until(lambda: self.of(LedgerPosition) and self.of(LedgerPosition)[-1].qty == 0.0)
        (pos,) = await self.venue.positions([SYM])
        assert pos.qty == 0.0 and SYM not in self.portfolio.ledger.entries

    def closed_trade(self, reason: str, realized: float) -> None:
        """One round trip, closed by ``reason``, with the ledger's realized PnL, in trades.csv."""
        (trip,) = self.of(ClosedTrade)
        fees = sum(f.fee for f in self.of(Fill))
        assert trip.exit_reason == reason and trip.strategy == "micro_scalper" and trip.entry_reason == "test entry"
        assert trip.gross_pnl == pytest.approx(realized) and trip.fees == pytest.approx(fees)
        assert trip.r_multiple is not None and trip.risk == pytest.approx(trip.qty * trip.entry_price * EXITS.sl_pct)
        (row,) = list(csv.DictReader(self.trade_csv.path.read_text().splitlines()))
        assert row["exit_reason"] == reason and float(row["net_pnl"]) == pytest.approx(realized - fees)

    async def no_duplicate_orders(self) -> None:
        async with aiohttp.ClientSession() as s, s.get(f"{self.exchange.base_url}/_hedge/orders") as r:
            log = await r.json()
        placed = [o["client_order_id"] for o in (log if isinstance(log, list) else log["orders"])
                  if o["method"] == "POST" and o["http_status"] == 200]
        assert placed and len(placed) == len(set(placed)), placed

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.router.idle()
        self.journals.close()
        await self.venue.close()


@contextlib.asynccontextmanager
async def desk(
    tmp: Path,
    path: list[tuple[float, float]],
    exits: ExitParams = EXITS,
    before: Callable[[LocalExchange], Awaitable[None]] | None = None,
    tweak: Callable[[Config], Config] | None = None,
) -> AsyncIterator[Desk]:
    exchange = LocalExchange(port=0, market=[str(write_tape(tmp, path))])
    await exchange.start()
    if before is not None:
        await before(exchange)
    cfg = make_config(
        tmp, runtime__router={"maker_timeout_s": 0.5, "unknown_resolve_s": 5.0},
        runtime__portfolio=PortfolioConfig(reconcile_confirm_s=0.2, exit_retry_s=2.0, persist_interval_s=0.05),
        strategy__exits=exits,
    )
    d = Desk(tmp, exchange, tweak(cfg) if tweak is not None else cfg)
    try:
        await d.start()
        yield d
    finally:
        await d.close()
        await exchange.stop()


@pytest.mark.slow
async def test_open_then_take_profit(tmp_path: Path) -> None:
    async with desk(tmp_path, [(0, P0), (MOVE_AT, P0 + 80)]) as d:
        line = await d.enter()
        entry = line.entry_price
        assert line.qty == pytest.approx(0.008) and line.strategy == "micro_scalper"
        assert line.tp_price == pytest.approx(entry * 1.001) and line.sl_price == pytest.approx(entry * 0.9995)
        await d.flat()
        (ex,) = d.exits()
        assert ex.reason == "take_profit" and not ex.urgent and ex.side is Side.SELL
        closed = d.of(LedgerPosition)[-1]
        assert closed.realized_pnl > 0.008 * 59.0  # sold at or above the take-profit (+60)
        d.closed_trade("take_profit", closed.realized_pnl)
        await d.no_duplicate_orders()


@pytest.mark.slow
async def test_stop_loss(tmp_path: Path) -> None:
    async with desk(tmp_path, [(0, P0), (MOVE_AT, P0 - 50)]) as d:
        line = await d.enter()
        await d.flat()
        (ex,) = d.exits()
        assert ex.reason == "stop_loss" and ex.urgent
        assert d.of(LedgerPosition)[-1].realized_pnl < 0.0
        d.closed_trade("stop_loss", d.of(LedgerPosition)[-1].realized_pnl)
        assert line.sl_price == pytest.approx(line.entry_price - 30.0, abs=0.1)
        await d.no_duplicate_orders()


@pytest.mark.slow
async def test_breakeven_move_then_breakeven_stop(tmp_path: Path) -> None:
    wide_trail = msgspec.structs.replace(EXITS, trail_bps=10.0)  # trail 60: the breakeven stop stays the tighter
    async with desk(tmp_path, [(0, P0), (MOVE_AT, P0 + 30), (MOVE_AT + 3.0, P0 - 10)], wide_trail) as d:
        line = await d.enter()
        await d.until(lambda: d.of(LedgerPosition)[-1].sl_price == line.entry_price)  # +24 reached: stop to entry
        await d.flat()
        (ex,) = d.exits()
        assert ex.reason == "breakeven_stop" and ex.urgent
        await d.no_duplicate_orders()


@pytest.mark.slow
async def test_trailing_stop(tmp_path: Path) -> None:
    async with desk(tmp_path, [(0, P0), (MOVE_AT, P0 + 45), (MOVE_AT + 5.0, P0 + 20)]) as d:  # +45 holds 0.5 s
        line = await d.enter()
        await d.flat()
        stops = [p.sl_price for p in d.of(LedgerPosition) if p.qty != 0.0]
        assert stops[0] == pytest.approx(line.entry_price - 30.0, abs=0.1)  # the initial stop (1 R)
        assert stops == sorted(stops)  # only ever ratcheted up, one dollar of bid at a time
        assert stops[1] >= line.entry_price  # once +24 (0.8 R) was reached, never below the entry again
        assert stops[-1] == pytest.approx((P0 + 45) * (1 - 0.0002), abs=0.01)  # the best bid - 2 bps
        (ex,) = d.exits()
        assert ex.reason == "trailing_stop"
        assert d.of(LedgerPosition)[-1].realized_pnl > 0.0  # the trailing stop locked in a profit
        await d.no_duplicate_orders()


async def _trade_behind_hedges_back(exchange: LocalExchange) -> None:
    """Someone (the exchange's web UI) buys 0.002 and leaves a sell order resting, before hedge starts."""
    async with ccxt_session(exchange.port) as client:
        await client.fapiPrivatePostOrder({"symbol": SYM, "side": "BUY", "type": "MARKET", "quantity": "0.002",
                                           "newClientOrderId": "web_buy_1"})
        await client.fapiPrivatePostOrder({"symbol": SYM, "side": "SELL", "type": "LIMIT", "quantity": "0.002",
                                           "price": "61000.0", "timeInForce": "GTC", "newClientOrderId": "web_tp_1"})


async def test_external_order_and_position_are_adopted(tmp_path: Path) -> None:
    async with desk(tmp_path, [(0, P0)], before=_trade_behind_hedges_back) as d:
        (done,) = d.of(Reconciled)
        assert done.adopted_orders == 1 and done.adopted_positions == 1 and done.drifts == 0
        e = d.portfolio.ledger.entries[SYM]
        assert e.external and e.strategy == "external" and e.qty == pytest.approx(0.002)
        assert e.levels.stop == pytest.approx(e.entry_price * 0.9995) and e.levels.tp > e.entry_price
        titles = {a.title for a in d.of(Alert)}
        assert {f"external order {SYM}", f"external position {SYM}"} <= titles
        assert d.risk.context(SYM, time.time_ns()).open_orders == 1  # risk counts the adopted order
        assert d.risk.machine.state is TradingState.ACTIVE
        # the adopted order fills later: its fill closes the external position, attributed to it
        async with ccxt_session(d.exchange.port) as client:
            await client.fapiPrivateDeleteOrder({"symbol": SYM, "origClientOrderId": "web_tp_1"})
            await client.fapiPrivatePostOrder({"symbol": SYM, "side": "SELL", "type": "MARKET", "quantity": "0.002",
                                               "newClientOrderId": "web_sell_2", "reduceOnly": "true"})
        await d.flat()


async def test_drift_moves_risk_to_reducing(tmp_path: Path) -> None:
    led = Ledger(EXITS)  # the ledger file says hedge holds 0.01 BTC; the exchange holds nothing, no fill says why
    led.apply_fill(Fill(client_order_id="hAAAAAAAAAAAAAAAA-0-0", symbol=SYM, side=Side.BUY, qty=0.01, price=P0,
                        fee=0.0, trade_id=1, ts_ms=int(time.time() * 1000) - 60_000))
    LedgerStore(tmp_path / "state" / LEDGER_FILE, led.state, clock=EventClock()).save_now()
    async with desk(tmp_path, [(0, P0)]) as d:
        (done,) = d.of(Reconciled)
        assert done.drifts == 1
        (drift,) = d.of(PositionDrift)
        assert (drift.local_qty, drift.exchange_qty, drift.resolved) == (0.01, 0.0, False)
        assert d.risk.machine.state is TradingState.REDUCING
        assert any(a.title == f"position drift {SYM}" for a in d.of(Alert))
        assert SYM not in d.portfolio.ledger.entries  # the exchange's word is taken
        d.bus.publish(OrderIntent(intent_id="micro_scalper-BTCUSDT-1", symbol=SYM, side=Side.BUY, notional=200.0,
                                  strategy="micro_scalper", reason="test", e_pi_bps=5.0))
        await d.until(lambda: d.of(RiskDecision))
        assert [x.allow for x in d.of(RiskDecision)] == [False]
        await d.router.idle()
        assert d.of(OrderRequest) == []  # REDUCING: no new exposure
