"""Transaction-cost analysis of every execution: what each approved intent cost against its arrival mid.

Owns: ``TcaFill`` and ``IntentTca`` (one line per finished execution in logs/tca.jsonl: the mode,
arrival mid, decision-to-first-order latency, each fill with its liquidity, fee and markouts at
1 s / 5 s / 30 s, cost in bps of filled notional vs the arrival mid with fees, the opportunity
cost of the unfilled rest marked at the end mid, shortfall, reprices, fallback, time to fill,
fills beyond the slippage budget) and ``TcaRecorder``, which builds them from the executor's
hooks (``started``, ``order``, ``choice``, ``reprice``, ``finished``) and the bus (``Fill``; ``BookUpdate`` for
the latest mid), marks each fill out on clock timers, and writes each record once its last
markout is due (or at ``close``).

Markouts are side-signed: positive = the mid moved our way after the fill (for a buy: up).
Times are the router clock's (event time in replay).

Memory: a daemon runs for weeks, so only the newest ``LIVE_KEPT`` records stay in ``done`` (the
journal has them all); a replay, whose summary aggregates every execution, calls ``keep_all``.

Cost: the records (``IntentTca``, ``TcaFill``, ``SliceChoice``) are ``gc=False`` Structs: they hold
scalars, strings and lists of each other, never a reference back (no cycle), so the cyclic GC never
scans them and each decision adds fewer objects towards the next gen-0 pass.

Must never: publish, or take part in a decision (it only listens); read the wall clock.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable

import msgspec

from hedge.bus import Bus
from hedge.events import BookUpdate, Fill, Side
from hedge.model.clock import Clock
from hedge.router.fillprob import FillFeatures
from hedge.state.journal import JournalWriter

MARKOUTS_S: dict[str, float] = {"1s": 1.0, "5s": 5.0, "30s": 30.0}
_LAST_S = max(MARKOUTS_S.values())
BUDGET_EPS_BPS = 1e-6  # float noise of a fill exactly at the cap
# Finished records a live recorder keeps in memory: tca.jsonl has every one and nothing in a daemon
# reads ``done`` (the newest are kept for inspection). 100 (~150 KB) fills within minutes; 1,000
# (~1.5 MB) took most of an hour's soak to fill, and its RSS grew meanwhile.
LIVE_KEPT = 100


class TcaFill(msgspec.Struct, kw_only=True, gc=False):
    """One fill of an execution: when, how much, at what price and fee, as maker or taker."""

    t_s: float  # since the decision (router clock)
    qty: float
    price: float
    fee: float
    maker: bool
    fallback: bool  # of a taker order after a maker-first attempt
    slippage_bps: float  # side-signed vs the arrival mid, fees excluded (positive = paid)
    markout_bps: dict[str, float] = {}  # horizon -> side-signed mid move from the fill price


class SliceChoice(msgspec.Struct, kw_only=True, gc=False):
    """Auto mode: one slice's choice (rest first or cross), its predicted maker fill probability and
    what happened (``filled``: the slice filled completely as maker within the maker timeout)."""

    slice_no: int
    rest: bool
    p_fill: float
    maker_bps: float  # expected cost of maker first (bps of the arrival mid)
    taker_bps: float  # expected cost of crossing at once
    features: FillFeatures
    filled: bool = False


class IntentTca(msgspec.Struct, kw_only=True, gc=False):
    """One execution's costs (see the module docstring); the USD figures are in quote currency."""

    intent_id: str
    symbol: str
    side: Side
    mode: str  # router.mode
    outcome: str = ""  # the execution's: filled | partial | failed
    qty: float = 0.0  # wanted
    filled_qty: float = 0.0
    arrival_mid: float = 0.0
    end_mid: float = 0.0  # at the end of the execution (marks the unfilled rest)
    budget_bps: float = 0.0
    latency_ms: float = -1.0  # decision -> first order (-1: no order)
    time_to_fill_s: float = -1.0  # decision -> the fill that completed it (-1: not completed)
    orders: int = 0
    reprices: int = 0
    fallback: bool = False
    fills: list[TcaFill] = []
    cost_usd: float = 0.0  # slippage vs the arrival mid + fees, of what was filled
    cost_bps: float = 0.0  # of the filled notional at the arrival mid
    opportunity_usd: float = 0.0  # the unfilled rest, marked at the end mid
    shortfall_usd: float = 0.0  # cost + opportunity
    shortfall_bps: float = 0.0  # of the wanted notional at the arrival mid
    budget_violations: int = 0  # fills beyond router.slippage_budget_bps from the arrival mid
    choices: list[SliceChoice] = []  # auto mode: one per slice

    def close(self) -> None:
        """Fill in the cost figures from the fills (at the end of the execution)."""
        sign, arr = self.side.sign, self.arrival_mid
        filled = sum(f.qty for f in self.fills)
        self.cost_usd = sum(sign * (f.price - arr) * f.qty + f.fee for f in self.fills)
        self.cost_bps = self.cost_usd / (filled * arr) * 1e4 if filled > 0 and arr > 0 else 0.0
        rest = max(0.0, self.qty - filled)
        self.opportunity_usd = sign * (self.end_mid - arr) * rest if self.end_mid > 0 else 0.0
        self.shortfall_usd = self.cost_usd + self.opportunity_usd
        self.shortfall_bps = self.shortfall_usd / (self.qty * arr) * 1e4 if self.qty > 0 and arr > 0 else 0.0
        self.budget_violations = sum(self.beyond_budget(f) for f in self.fills)

    def beyond_budget(self, f: TcaFill) -> bool:
        return f.slippage_bps > self.budget_bps + BUDGET_EPS_BPS


class _Open:
    """An execution being recorded: its record, its decision time, its orders."""

    __slots__ = ("cids", "done_s", "rec", "t0", "written")

    def __init__(self, rec: IntentTca, t0: float) -> None:
        self.rec = rec
        self.t0 = t0
        self.done_s = -1.0  # router clock when the execution finished (-1: running)
        self.cids: list[str] = []
        self.written = False


class TcaRecorder:
    """Builds an ``IntentTca`` per execution (see the module docstring)."""

    def __init__(self, bus: Bus, clock: Clock, journal: JournalWriter | None, *, mode: str,
                 budget_bps: float) -> None:
        self.clock = clock
        self.journal = journal
        self.mode = mode
        self.budget_bps = budget_bps
        self.done: deque[IntentTca] = deque(maxlen=LIVE_KEPT)  # written, in the order their markouts completed
        self._open: dict[str, _Open] = {}  # intent id -> recording
        self._orders: dict[str, tuple[_Open, bool]] = {}  # client order id -> (its execution, fallback)
        self._mids: dict[str, float] = {}
        self._closing: dict[str, _Open] = {}  # finished, waiting for their last markout
        self.listeners: list[Callable[[IntentTca], None]] = []  # told of each record as it is written
        bus.subscribe(Fill, self.on_fill)
        bus.subscribe(BookUpdate, self.on_book)

    # ------------------------------------------------------------------ executor hooks

    def keep_all(self) -> None:
        """Keep every finished record in ``done`` (a replay's summary aggregates them all)."""
        self.done = deque(self.done)

    def started(self, intent_id: str, symbol: str, side: Side, qty: float, arrival_mid: float) -> None:
        rec = IntentTca(intent_id=intent_id, symbol=symbol, side=side, mode=self.mode, qty=qty,
                        arrival_mid=arrival_mid, budget_bps=self.budget_bps)
        self._open[intent_id] = _Open(rec, self.clock.now_s())

    def order(self, intent_id: str, client_order_id: str, fallback: bool) -> None:
        o = self._open.get(intent_id)
        if o is None:
            return
        if o.rec.orders == 0:
            o.rec.latency_ms = (self.clock.now_s() - o.t0) * 1e3
        o.rec.orders += 1
        o.rec.fallback |= fallback
        o.cids.append(client_order_id)
        self._orders[client_order_id] = (o, fallback)

    def choice(self, intent_id: str, c: SliceChoice) -> None:
        o = self._open.get(intent_id)
        if o is not None:
            o.rec.choices.append(c)

    def reprice(self, intent_id: str) -> None:
        o = self._open.get(intent_id)
        if o is not None:
            o.rec.reprices += 1

    def finished(self, intent_id: str, outcome: str, filled_qty: float) -> None:
        o = self._open.pop(intent_id, None)
        if o is None:
            return
        o.rec.outcome = outcome
        o.rec.filled_qty = filled_qty
        o.rec.end_mid = self._mids.get(o.rec.symbol, 0.0)
        o.done_s = self.clock.now_s()
        self._closing[intent_id] = o
        self.clock.call_later(_LAST_S + 1e-3, lambda: self._write(o))  # after the last fill's last markout

    # ------------------------------------------------------------------ bus

    def on_fill(self, f: Fill) -> None:
        entry = self._orders.get(f.client_order_id)
        if entry is None:
            return
        o, fallback = entry
        rec, now = o.rec, self.clock.now_s()
        slip = rec.side.sign * (f.price - rec.arrival_mid) / rec.arrival_mid * 1e4 if rec.arrival_mid > 0 else 0.0
        fill = TcaFill(t_s=now - o.t0, qty=f.qty, price=f.price, fee=f.fee, maker=f.maker, fallback=fallback,
                       slippage_bps=slip, markout_bps={})
        rec.fills.append(fill)
        if rec.time_to_fill_s < 0 and rec.qty - sum(x.qty for x in rec.fills) <= rec.qty * 1e-9:
            rec.time_to_fill_s = fill.t_s
        for h, dt in MARKOUTS_S.items():
            self.clock.call_later(dt, functools.partial(self._mark, o, fill, h))

    def on_book(self, u: BookUpdate) -> None:
        if u.valid:
            self._mids[u.symbol] = u.mid

    def _mark(self, o: _Open, fill: TcaFill, horizon: str) -> None:
        mid = self._mids.get(o.rec.symbol, 0.0)
        if o.written or mid <= 0.0 or fill.price <= 0.0:
            return
        fill.markout_bps[horizon] = o.rec.side.sign * (mid - fill.price) / fill.price * 1e4

    def close(self) -> None:
        """The end of the run: write every finished execution (markouts not yet due stay absent)."""
        for o in list(self._closing.values()):
            self._write(o)

    def _write(self, o: _Open) -> None:
        if o.written:
            return
        o.written = True
        rec = o.rec
        rec.close()
        self._closing.pop(rec.intent_id, None)
        for cid in o.cids:
            self._orders.pop(cid, None)
        self.done.append(rec)
        if self.journal is not None:
            self.journal.write("tca", rec)
        for listener in self.listeners:
            listener(rec)
