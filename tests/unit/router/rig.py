"""The router's unit-test rig: the real router on a Bus, the simulated venue (``SimVenue``: the local
exchange's matching engine) fed by a real book sync, and an ``EventClock`` (nothing sleeps).

The router is started as ``hedge.pipeline`` starts it (``set_filters`` with the venue's filters,
then ``recover``). Market moves go through the real path (a ``DepthDiff`` applied by the book sync,
whose ``BookUpdate`` the router and the venue both see); trades are ``Trade`` events the matching
engine fills resting orders from (behind the queue that was at their price level).

Faults a simulated exchange never makes are injected at the venue boundary by ``FaultyVenue``, a
small ``SimVenue`` subclass: the next call of an operation raises a given error, before the
matching engine sees it or (``accept=True``) after it accepted the order, with or without the
user stream reporting it; and the user stream can be muted (``stream_down``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hedge.bus import Bus
from hedge.config import Config
from hedge.events import (
    Alert,
    DepthDiff,
    DepthSnapshot,
    OrderIntent,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    RiskDecision,
    RouterHealth,
    Side,
    Trade,
)
from hedge.feeds.dispatch import FrameDispatcher
from hedge.model.clock import EventClock
from hedge.router.pending import PendingOrders
from hedge.router.stage import RouterStage
from hedge.state.journal import Journals, read_journal
from hedge.venue.base import OrderAck, Venue
from hedge.venue.errors import UnknownOutcome, VenueError
from hedge.venue.sim import SimVenue
from tests.kit.config import make_config

SYM = "BTCUSDT"
BID, ASK = 67000.0, 67000.1
MID = (BID + ASK) / 2
T0_NS = 1_000_000_000_000
LIVE = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
Levels = Sequence[tuple[float, float]]


def unknown(text: str = "Unknown error, please check your request or try again later.") -> UnknownOutcome:
    return UnknownOutcome(text, code=-1000, http_status=503)


def backoff(n: int) -> float:
    return min(6.4, 0.4 * 2.0**n)


def config(tmp_path: Path, **router: Any) -> Config:
    return make_config(tmp_path, runtime__router={"max_post_only_rejects": 2, **router})


@dataclass
class Fault:
    """Raise ``error`` at the next call of ``op``; for a placement, ``accept`` = the exchange placed the
    order anyway (the answer was lost) and ``stream`` = its user stream still reported it."""

    op: str
    error: VenueError
    accept: bool = False
    stream: bool = False


@dataclass
class Placed:
    """An order the exchange accepted: its request and its state there now."""

    req: OrderRequest
    status: OrderStatus
    filled: float


class FaultyVenue(SimVenue):
    """``SimVenue`` with a record of calls and faults injected at the venue boundary (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self.accepted: dict[str, OrderRequest] = {}  # every order the exchange accepted, in order
        self.on_place: Callable[[OrderRequest], Awaitable[None]] | None = None  # entered before the exchange
        self.muted = False  # the user stream is down: nothing it would report arrives

    def fail_next(self, op: str, error: VenueError, *, accept: bool = False, stream: bool = False) -> None:
        self.faults.append(Fault(op, error, accept, stream))

    def _fault(self, op: str, arg: str) -> Fault | None:
        self.calls.append((op, arg))
        for f in self.faults:
            if f.op == op:
                self.faults.remove(f)
                return f
        return None

    @contextmanager
    def stream_down(self, down: bool = True) -> Iterator[None]:
        self.muted = down
        try:
            yield
        finally:
            self.muted = False

    # the user stream (matching listener)
    def on_order(self, *args: Any) -> None:
        if not self.muted:
            super().on_order(*args)

    def on_balance(self, *args: Any) -> None:
        if not self.muted:
            super().on_balance(*args)

    # the Venue protocol, faultable
    async def place(self, req: OrderRequest) -> OrderAck:
        if self.on_place is not None:
            await self.on_place(req)
        fault = self._fault("place", req.client_order_id)
        if fault is not None and not fault.accept:
            raise fault.error
        with self.stream_down(fault is not None and not fault.stream):
            ack = await super().place(req)
        self.accepted[req.client_order_id] = req
        if fault is not None:
            raise fault.error
        return ack

    async def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        fault = self._fault("cancel", client_order_id)
        if fault is not None:
            raise fault.error
        return await super().cancel(symbol, client_order_id)

    async def query(self, symbol: str, client_order_id: str) -> OrderUpdate | None:
        fault = self._fault("query", client_order_id)
        if fault is not None:
            raise fault.error
        return await super().query(symbol, client_order_id)

    async def cancel_all(self, symbol: str) -> int:
        self.calls.append(("cancel_all", symbol))
        return await super().cancel_all(symbol)

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        self.calls.append(("open_orders", symbol or ""))
        return await super().open_orders(symbol)

    # what the test reads (not recorded as calls)
    async def orders(self) -> list[Placed]:
        """Every order the exchange accepted, as it is there now."""
        out = []
        for cid, req in self.accepted.items():
            u = await SimVenue.query(self, req.symbol, cid)
            assert u is not None
            out.append(Placed(req, u.status, u.filled_qty))
        return out

    async def live(self) -> list[Placed]:
        """The open orders at the exchange."""
        return [Placed(self.accepted[u.client_order_id], u.status, u.filled_qty)
                for u in await SimVenue.open_orders(self)]


@dataclass
class Rig:
    tmp: Path
    bus: Bus
    feed: FrameDispatcher
    venue: Any  # FaultyVenue, or another Venue (dry run)
    journals: Journals
    clock: EventClock
    router: RouterStage
    health: list[RouterHealth] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    requests: list[OrderRequest] = field(default_factory=list)
    updates: list[OrderUpdate] = field(default_factory=list)
    last_u: int = 100
    trade_id: int = 0

    def _diff(self, bids: Levels, asks: Levels) -> None:
        """One diff through the real path: published, then applied by the book sync (as the dispatcher does)."""
        u = self.last_u + 1
        now = self.clock.now_ns()
        d = DepthDiff(symbol=SYM, first_id=u, final_id=u, prev_final_id=self.last_u, bids=list(bids), asks=list(asks),
                      ts_ms=now // 1_000_000, recv_ns=now)
        self.last_u = u
        self.bus.publish(d)
        self.feed.book(SYM).on_diff(d)

    def book(self, bid: float = BID, ask: float = ASK, bid_qty: float = 5.0, ask_qty: float = 5.0) -> None:
        """The market moves to this touch (one more level each side, 1.0 away); the old levels are gone."""
        ob = self.feed.book(SYM).book
        bids = {px: 0.0 for px, _ in ob.bids(1000)} | {bid: bid_qty, round(bid - 1.0, 1): 5.0}
        asks = {px: 0.0 for px, _ in ob.asks(1000)} | {ask: ask_qty, round(ask + 1.0, 1): 5.0}
        self._diff(list(bids.items()), list(asks.items()))

    def exchange_book(self, bids: Levels = (), asks: Levels = ()) -> None:
        """The exchange's book changes and our feed has not delivered it yet: the router's book is stale."""
        self.feed.book(SYM).book.apply(bids, asks)

    def trade(self, price: float, qty: float = 1e9, *, taker: Side | None = None, stream: bool = True) -> None:
        """A market trade at ``price`` (both taker sides unless ``taker``): resting orders it reaches fill
        once the queue ahead of them at their level is consumed; the user stream reports it unless ``stream``
        is False (it was down)."""
        now = self.clock.now_ns()
        with self.venue.stream_down(not stream):
            for side in (Side.SELL, Side.BUY) if taker is None else (taker,):
                self.trade_id += 1
                self.bus.publish(Trade(symbol=SYM, trade_id=self.trade_id, price=price, qty=qty, taker_side=side,
                                       ts_ms=now // 1_000_000, recv_ns=now))

    def decide(self, intent_id: str = "i1", side: Side = Side.BUY, notional: float = 1000.0, *, allow: bool = True,
               urgent: bool = False, max_qty: float = 100.0) -> None:
        intent = OrderIntent(intent_id=intent_id, symbol=SYM, side=side, notional=notional, strategy="t",
                             reason="test", urgent=urgent, recv_ns=time.time_ns())
        self.bus.publish(RiskDecision(intent=intent, allow=allow, max_qty=max_qty if allow else 0.0))

    async def advance(self, seconds: float, step: float = 0.1) -> None:
        """Move the clock in small steps, letting venue tasks run between them."""
        await self.router.idle()
        start, n = self.clock.now_s(), max(1, round(seconds / step))
        for i in range(1, n + 1):
            self.clock.advance_to_ns(round((start + seconds * i / n) * 1e9))
            await self.router.idle()

    def journal(self, name: str) -> list[dict[str, Any]]:
        self.journals.flush()
        path = self.tmp / f"{name}.jsonl"
        return [{"kind": r.kind, **r.decode()} for r in read_journal(path)] if path.exists() else []

    def pending_left(self) -> list[str]:
        return [e.cid for e in PendingOrders(self.tmp / "state" / "pending_orders.jsonl").read()]


def sim_venue(bus: Bus, clock: EventClock, feed: FrameDispatcher) -> FaultyVenue:
    venue = FaultyVenue(bus, [SYM], clock=clock, book_of=lambda s: feed.book(s).book,
                        balance=1_000_000.0)
    venue.attach()  # before the router, as the pipeline builders do: fills are published before it acts
    return venue


async def start_router(bus: Bus, venue: Venue, journals: Journals, cfg: Config, clock: EventClock,
                       tmp_path: Path) -> RouterStage:
    """A router started as ``hedge.pipeline`` starts it: the venue's filters, then recovery."""
    router = RouterStage(bus, venue, journals, cfg, backoff=backoff, clock=clock,
                         pending=PendingOrders(tmp_path / "state" / "pending_orders.jsonl"))
    router.set_filters(await venue.load_filters())
    router.recover()
    return router


async def make_rig(tmp_path: Path, venue_factory: Callable[[Journals], Venue] | None = None, **router: Any) -> Rig:
    cfg = config(tmp_path, **router)
    bus = Bus()
    journals = Journals(tmp_path)
    clock = EventClock(T0_NS)
    feed = FrameDispatcher(bus, symbols=[SYM])
    venue = venue_factory(journals) if venue_factory else sim_venue(bus, clock, feed)
    r = await start_router(bus, venue, journals, cfg, clock, tmp_path)
    rig = Rig(tmp_path, bus, feed, venue, journals, clock, r)
    bus.subscribe(RouterHealth, rig.health.append)
    bus.subscribe(Alert, rig.alerts.append)
    bus.subscribe(OrderRequest, rig.requests.append)
    bus.subscribe(OrderUpdate, rig.updates.append)
    feed.on_snapshot(DepthSnapshot(symbol=SYM, last_update_id=100, recv_ns=T0_NS,
                                   bids=[(BID, 5.0), (66999.0, 5.0)], asks=[(ASK, 5.0), (67001.0, 5.0)]))
    u = rig.last_u + 1  # the first diff bridges the snapshot (U <= lastUpdateId <= u): the book is VALID
    d = DepthDiff(symbol=SYM, first_id=100, final_id=u, prev_final_id=rig.last_u, bids=[], asks=[],
                  ts_ms=T0_NS // 1_000_000, recv_ns=T0_NS)
    rig.last_u = u
    bus.publish(d)
    feed.book(SYM).on_diff(d)
    assert r.books[SYM].valid and r.books[SYM].bid_px == BID
    return rig
