"""One approved intent being executed: its slices, phase, fills and timers, and how it is sliced.

Owns: ``Execution`` (the router's mutable working state for one intent: which slice, maker or
taker phase, what was filled and how, the pending cancel, the timers; and its final report),
``split_slices`` (the TWAP split of a quantity into exact step multiples that each pass the
exchange minimums) and
``next_order`` (the price, time in force and type of the current phase's next order: a
post-only at the touch (or ``router.maker_offset_ticks`` behind it), an IOC capped by the
slippage budget, or a flatten's market order).

Must never: talk to a venue or the bus; the router drives it.
"""

from __future__ import annotations

import enum
from decimal import ROUND_CEILING
from typing import TYPE_CHECKING

from hedge.events import BookUpdate, OrderIntent, OrderType, Side, TimeInForce
from hedge.model.clock import Timer
from hedge.model.instrument import to_decimal, units
from hedge.router.filters import Denial, Mode, OrderFilter, Prepared
from hedge.router.lifecycle import order_id_prefix
from hedge.router.records import ExecutionReport
from hedge.router.slippage import SlippageModel

if TYPE_CHECKING:
    from hedge.router.auto import Choice


def split_slices(filt: OrderFilter, qty: float, ref: float, n: int) -> list[float]:
    """``qty`` cut into at most ``n`` slices of whole steps, as even as possible, each at least the
    exchange's minimum quantity and notional at ``ref`` (fewer slices when ``qty`` is too small).
    Their sum is ``qty`` rounded down to the step. Below one step, ``[qty]`` (the filters deny it).
    """
    f = filt.f
    total = filt.steps.floor(qty)
    if total <= 0:
        return [qty]
    if n == 1:
        return [filt.steps.value(total)]
    min_qty = max(f.min_qty, f.min_notional / to_decimal(ref))
    min_steps = max(1, units(min_qty, f.step_size, ROUND_CEILING))
    n = max(1, min(n, total // min_steps))
    base, extra = divmod(total, n)
    return [filt.steps.value(base + (1 if i < extra else 0)) for i in range(n)]


class Phase(enum.Enum):
    MAKER = "maker"
    TAKER = "taker"
    DONE = "done"


class Execution:
    """The router's working state for one approved intent."""

    __slots__ = (
        "acc_notional",
        "acc_qty",
        "arrival_mid",
        "attempt",
        "cancel_reason",
        "cancel_sent",
        "choice",
        "cid_prefix",
        "cids",
        "fell_back",
        "filled_notional",
        "filled_qty",
        "filter",
        "halted",
        "intent",
        "maker_deadline",
        "maker_qty",
        "maker_timer",
        "market",
        "orders",
        "phase",
        "post_only_rejects",
        "qty",
        "reasons",
        "rejected_px",
        "send_retries",
        "slice_filled",
        "slice_maker0",
        "slice_no",
        "slice_reprices",
        "slices",
        "t0",
        "timer",
        "waiting_book",
    )

    def __init__(self, intent: OrderIntent, qty: float, slices: list[float], filt: OrderFilter, arrival_mid: float,
                 t0: float) -> None:
        self.intent = intent
        self.qty = qty
        self.slices = slices
        self.filter = filt
        self.arrival_mid = arrival_mid
        self.t0 = t0
        self.slice_no = 0
        self.slice_filled = 0.0
        self.slice_reprices = 0  # maker orders of this slice cancelled because the touch moved away
        self.slice_maker0 = 0.0  # maker_qty when the slice started
        self.choice: Choice | None = None  # auto mode: the current slice's decision
        self.filled_qty = 0.0
        self.filled_notional = 0.0
        self.maker_qty = 0.0
        self.acc_qty = 0.0  # of the current order: what was already counted
        self.acc_notional = 0.0
        self.phase = Phase.MAKER
        self.attempt = 0
        self.post_only_rejects = 0
        self.rejected_px = 0.0  # price of the last -5022 reject in this slice (0 = none)
        self.send_retries = 0
        self.cancel_reason = ""
        self.cancel_sent = False
        self.waiting_book = False
        self.fell_back = False
        self.orders = 0
        self.reasons: list[str] = []
        self.halted = False  # a CancelAll stopped it: no new order, finish once nothing is live
        self.market = False  # a flatten: one reduce-only market order
        self.cids: list[str] = []  # every order sent for this intent
        self.cid_prefix = order_id_prefix(intent.intent_id)  # once: each order's id is this and two numbers
        self.maker_deadline = 0.0  # router clock: after this the slice's next order is a taker
        self.maker_timer: Timer | None = None
        self.timer: Timer | None = None  # next slice or a retry

    @property
    def symbol(self) -> str:
        return self.intent.symbol

    @property
    def side(self) -> Side:
        return self.intent.side

    def slice_remaining(self) -> float:
        return self.slices[self.slice_no] - self.slice_filled

    def report(self) -> ExecutionReport:
        """How this execution ended: outcome, average price, slippage vs the arrival mid."""
        avg = self.filled_notional / self.filled_qty if self.filled_qty > 0 else 0.0
        arrival = self.arrival_mid
        slip = self.side.sign * (avg - arrival) / arrival * 1e4 if avg > 0 and arrival > 0 else 0.0
        done = self.qty - self.filled_qty < self.filter.step_f / 2
        outcome = "filled" if done and self.filled_qty > 0 else "partial" if self.filled_qty > 0 else "failed"
        return ExecutionReport(
            intent_id=self.intent.intent_id, symbol=self.symbol, side=self.side, outcome=outcome, qty=self.qty,
            filled_qty=self.filled_qty, avg_price=avg, arrival_mid=arrival, slippage_bps=slip,
            maker_qty=self.maker_qty, slices=len(self.slices), orders=self.orders, fell_back=self.fell_back,
            reasons=tuple(self.reasons),
        )


def cancel_timer(t: Timer | None) -> None:
    if t is not None:
        t.cancel()


def next_order(
    ex: Execution, book: BookUpdate, ref: float, slippage: SlippageModel, offset_ticks: int = 0
) -> tuple[float, TimeInForce, OrderType, Prepared | Denial]:
    """The current phase's next order for what is left of the slice, checked against the exchange
    filters (``ref``: the mark, else the mid; ``offset_ticks``: a maker order rests this far behind
    the touch): its price (0 for a market order), time in force, type, and the prepared order or
    why the filters deny it.

    Cost (it runs in every decision): the side, its sign and the enum members are read once, into
    locals and module constants (an ``Enum`` member read off its class costs ~70 ns in 3.11, a
    ``Side.sign`` ~140 ns; this function read about ten of them)."""
    remaining = ex.slices[ex.slice_no] - ex.slice_filled  # ex.slice_remaining()
    intent = ex.intent
    side, filt, reduce_only = intent.side, ex.filter, intent.reduce_only
    buy = side is _BUY
    if ex.market:  # a flatten: the market lot, notional at the reference price
        px, tif, otype = 0.0, _GTC, _MARKET
        prep = filt.prepare(side, remaining, px, _MARKET_MODE, reference=ref, reduce_only=reduce_only)
    elif ex.phase is _MAKER:
        px, tif, otype = (book.bid_px if buy else book.ask_px), _GTX, _LIMIT
        sign = 1 if buy else -1  # side.sign
        if offset_ticks:  # rest behind the touch
            px -= sign * offset_ticks * filt.tick_f
        budget = SlippageModel.cap_price(ex.arrival_mid, side, slippage.budget_bps)  # a chased touch stops here
        px = min(px, budget) if buy else max(px, budget)
        if ex.rejected_px > 0.0:  # after a -5022 at a touch that has not moved: one tick more passive
            ticks = filt.round_price(side, ex.rejected_px, _MAKER_MODE) - sign
            step_back = filt.price_of(ticks)
            px = min(px, step_back) if buy else max(px, step_back)
        prep = filt.prepare(side, remaining, px, _MAKER_MODE, reference=ref, reduce_only=reduce_only)
    else:
        cap_bps = slippage.cap_bps(intent.symbol, side, remaining, book)
        px, tif, otype = SlippageModel.cap_price(ex.arrival_mid, side, cap_bps), _IOC, _LIMIT
        prep = filt.prepare(side, remaining, px, _TAKER_MODE, reference=ref, cap=px, reduce_only=reduce_only)
    return px, tif, otype, prep


# next_order's enum members as module constants (a global read, not an Enum class attribute lookup)
_BUY = Side.BUY
_MAKER = Phase.MAKER
_GTC, _GTX, _IOC = TimeInForce.GTC, TimeInForce.GTX, TimeInForce.IOC
_LIMIT, _MARKET = OrderType.LIMIT, OrderType.MARKET
_MAKER_MODE, _TAKER_MODE, _MARKET_MODE = Mode.MAKER, Mode.TAKER, Mode.MARKET
