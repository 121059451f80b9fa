"""What a replay did: the decision fingerprint, the counters, and the summary written as JSON.

Owns: ``DecisionRecorder`` — a passive bus subscriber that hashes, in publish order, every
decision and its outcome (sha256 over OrderIntent id/side/notional, RiskDecision allow/max_qty/
reasons, OrderRequest fields, Fill fields; never a receive time), counts intents, vetoes by
reason, orders, cancels and fills, and follows the NAV for the drawdown — and ``ReplaySummary``,
the msgspec Struct ``hedge replay`` prints and writes, and ``journaled`` (the summary as
``events.jsonl``'s ``replay_finished`` line: without the run's wall-clock speed, so every journal a
replay writes is the same on every run of the same recordings).

Two replays of the same recordings with the same configuration publish the same decisions in the
same order, so they have the same fingerprint; any change of a decision, a price, a size or a
fill changes it.

Must never: publish, or take part in a decision (it only listens).
"""

from __future__ import annotations

import hashlib

import msgspec

from hedge.bus import Bus
from hedge.events import Fill, Nav, OrderCancel, OrderIntent, OrderRequest, RiskDecision
from hedge.replay.calibration_report import TradeCalibration
from hedge.replay.performance import Performance
from hedge.router.tca_stats import TcaStats

_encode = msgspec.json.Encoder().encode

WALL_CLOCK_FIELDS = ("wall_s", "events_per_s")  # the run's speed: printed, never journaled


class ReplaySummary(msgspec.Struct, kw_only=True):
    """One replay: input, speed, decisions, execution and account results, fingerprint."""

    files: list[str]
    symbols: list[str]
    lines: int  # lines read with a usable receive time
    bad_lines: int  # lines not replayed: no usable receive time, or a frame or snapshot that does not decode
    bad_lines_by_kind: dict[str, int] = {}  # the same, by kind (no_receive_time, invalid_json, bad_depthUpdate...)
    damaged_files: dict[str, str] = {}  # file -> where reading stopped before its end (truncated/corrupt gzip)
    events: int  # market events published (decoded frames and snapshots)
    recorded_s: float  # event time covered
    wall_s: float
    events_per_s: float
    book_gaps: int
    book_resyncs: int
    snapshots_unattributed: int = 0  # snapshot lines with no symbol that matched no book's update ids
    symbols_dropped: dict[str, int] = {}  # frames of symbols outside the universe (counted, not replayed)
    intents: int
    approved: int
    reduced: int  # approved with a smaller max_qty than asked
    vetoed: int
    vetoes: dict[str, int]  # per reason (a veto with two reasons counts under both)
    orders: int  # OrderRequests sent to the venue
    cancels: int
    orders_filled: int  # orders with at least one fill (<= orders)
    fills: int
    maker_fills: int
    filled_qty: float
    traded_notional: float
    maker_ratio: float  # maker-filled quantity / filled quantity (0 without fills)
    fees: float
    realized_pnl: float
    unrealized_pnl: float  # of the positions still open at the end, at the final mark
    pnl: float  # end NAV - start NAV (fees and funding included)
    start_nav: float
    end_nav: float
    max_drawdown: float  # largest fall of the NAV from its running peak, fraction of the peak
    positions: dict[str, float]  # signed quantity per symbol at the end
    open_orders: int  # still resting at the end
    latency_ms: float
    fingerprint: str
    interrupted: bool = False  # stopped early (Ctrl-C): everything above covers the lines replayed so far
    performance: Performance | None = None  # trades, win rate, Sharpe ... (hedge.replay.performance)
    calibration: TradeCalibration | None = None  # the trades' p_win vs outcomes, net expectancy with its CI
    tca: dict[str, dict[str, TcaStats]] = {}  # router mode -> liquidity -> costs (hedge.router.tca_stats)


class DecisionRecorder:
    """Fingerprint and counters of the decisions published on a bus (see the module docstring)."""

    def __init__(self, bus: Bus) -> None:
        self._hash = hashlib.sha256()
        self.intents = 0
        self.approved = 0
        self.reduced = 0
        self.vetoed = 0
        self.vetoes: dict[str, int] = {}
        self.orders = 0
        self.cancels = 0
        self._filled_orders: set[str] = set()
        self.fills = 0
        self.maker_fills = 0
        self.filled_qty = 0.0
        self.maker_qty = 0.0
        self.traded_notional = 0.0
        self.fees = 0.0
        self.realized_pnl = 0.0
        self.peak_nav = 0.0
        self.max_drawdown = 0.0
        bus.subscribe(OrderIntent, self.on_intent)
        bus.subscribe(RiskDecision, self.on_decision)
        bus.subscribe(OrderRequest, self.on_request)
        bus.subscribe(OrderCancel, self.on_cancel)
        bus.subscribe(Fill, self.on_fill)
        bus.subscribe(Nav, self.on_nav)

    @property
    def fingerprint(self) -> str:
        return self._hash.hexdigest()

    def on_intent(self, i: OrderIntent) -> None:
        self.intents += 1
        self._hash.update(_encode(("I", i.intent_id, i.side, i.notional)))

    def on_decision(self, d: RiskDecision) -> None:
        self._hash.update(_encode(("D", d.intent.intent_id, d.allow, d.max_qty, d.reasons)))
        if d.allow:
            self.approved += 1
            self.reduced += bool(d.reasons)
            return
        self.vetoed += 1
        for r in d.reasons:
            self.vetoes[r] = self.vetoes.get(r, 0) + 1

    def on_request(self, r: OrderRequest) -> None:
        self.orders += 1
        self._hash.update(_encode((
            "O", r.client_order_id, r.intent_id, r.symbol, r.side, r.type, r.qty, r.price, r.tif, r.reduce_only,
        )))

    def on_cancel(self, c: OrderCancel) -> None:
        self.cancels += 1

    def on_fill(self, f: Fill) -> None:
        self.fills += 1
        self._filled_orders.add(f.client_order_id)
        self.filled_qty += f.qty
        self.traded_notional += f.qty * f.price
        self.fees += f.fee
        self.realized_pnl += f.realized_pnl
        if f.maker:
            self.maker_fills += 1
            self.maker_qty += f.qty
        self._hash.update(_encode((
            "F", f.client_order_id, f.symbol, f.side, f.qty, f.price, f.fee, f.maker, f.realized_pnl, f.trade_id,
            f.ts_ms,
        )))

    def on_nav(self, n: Nav) -> None:
        if n.nav > self.peak_nav:
            self.peak_nav = n.nav
        elif self.peak_nav > 0.0:
            dd = (self.peak_nav - n.nav) / self.peak_nav
            if dd > self.max_drawdown:
                self.max_drawdown = dd

    @property
    def orders_filled(self) -> int:
        return len(self._filled_orders)

    @property
    def maker_ratio(self) -> float:
        return self.maker_qty / self.filled_qty if self.filled_qty > 0.0 else 0.0


def journaled(s: ReplaySummary) -> dict[str, object]:
    """The summary as journaled: every field but ``WALL_CLOCK_FIELDS`` (event time only)."""
    data: dict[str, object] = msgspec.to_builtins(s)
    for k in WALL_CLOCK_FIELDS:
        del data[k]
    return data
