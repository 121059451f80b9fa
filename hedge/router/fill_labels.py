"""Fill-probability samples from a recording: simulated resting orders, labelled by the recorded trades.

Owns: ``FillLabeller`` — every ``every_s`` of event time per symbol (book valid), for each side
and each distance 0..``max_distance`` ticks behind the touch, a simulated post-only order of
``own_qty`` joins the back of the recorded queue at its price (``FillFeatures`` from the same
``MarketStats`` the auto router keeps, so the features mean the same online and offline).

``Peg`` makes it the order the router actually runs when it rests (``router.reprice_ticks``,
``router.max_reprices``, ``router.slippage_budget_bps``): when the touch moves ``reprice_ticks``
away the order is re-placed at the new touch (same distance behind it, never beyond the budget
from the start mid), at the back of that level's queue; past ``max_reprices`` (0 = no limit) it
gives up (falls back). Without a peg (``reprice_ticks`` 0) it stays at its price (the first model's
labels: a static order, 6-9% filled on 0718 where the repricing router fills ~35%).

It is labelled filled when, within ``horizon_s``:
- a taker trades through its price (a sell below a resting buy's price), or the opposite touch
  reaches it; or
- takers trade at its price more than the queue ahead of it plus its own quantity.
The queue ahead only shrinks: by trades at its price, and to the level's quantity when the level
shrinks below it (cancels are assumed to come from ahead: hftbacktest's risk-averse queue model
keeps it at ``min(queue, level)``). Samples come out in the order they are decided (a
recording always gives the same list). Each sample also keeps ``path_bps``, the price its path
paid against the start mid, side-signed, fees excluded: its maker price when filled, else the
opposite touch when it gave up (at the horizon or the reprice limit): what the taker fallback
would pay at the touch.

Must never: read a clock, a file or the bus (the caller feeds it events and the book's levels);
fit anything (``fill_fit`` does).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import msgspec

from hedge.events import BookUpdate, Side, Trade
from hedge.router.fillprob import FillFeatures, FillSample
from hedge.router.market_stats import MarketStats

Level = tuple[float, float]


class Peg(msgspec.Struct, frozen=True, kw_only=True):
    """How a simulated order follows the touch (the router's maker leg); ``reprice_ticks`` 0 = never."""

    reprice_ticks: int = 0
    max_reprices: int = 0  # 0 = no limit
    budget_bps: float = 0.0  # never rest further than this from the start mid (0 = no cap)


class _Resting:
    __slots__ = ("cap", "deadline", "done", "features", "filled", "mid0", "need", "path_px", "px", "reprices",
                 "side", "t0")

    def __init__(self, t0: float, side: Side, px: int, need: float, deadline: float, features: FillFeatures,
                 mid0: float, cap: int) -> None:
        self.t0 = t0
        self.side = side  # the resting order's side
        self.px = px  # in ticks
        self.need = need  # quantity that must still trade at px before we are filled (queue ahead + own)
        self.deadline = deadline
        self.features = features
        self.mid0 = mid0
        self.cap = cap  # the budget's price in ticks: a buy never rests above it, a sell never below
        self.reprices = 0
        self.done = False
        self.filled = False
        self.path_px = 0  # in ticks: the maker price when filled, else the opposite touch when it gave up

    def fill(self) -> None:
        self.done = self.filled = True
        self.path_px = self.px

    def give_up(self, bid: int, ask: int) -> None:
        self.done = True
        self.path_px = ask if self.side is Side.BUY else bid


class FillLabeller:
    """Simulated resting orders and their labels (see the module docstring)."""

    def __init__(self, stats: MarketStats, *, tick: float, horizon_s: float, own_qty: float,
                 max_distance: int = 3, every_s: float = 0.5, peg: Peg | None = None) -> None:
        self.stats = stats
        self.peg = peg or Peg()
        self.tick = tick
        self.horizon_s = horizon_s
        self.own_qty = own_qty
        self.max_distance = max_distance
        self.every_s = every_s
        self.samples: list[FillSample] = []
        self.times: list[float] = []  # each sample's start (event time, s)
        self._open: dict[str, deque[_Resting]] = {}
        self._next: dict[str, float] = {}
        self._touch: dict[str, tuple[int, int]] = {}  # the last valid (bid, ask) in ticks

    def _ticks(self, px: float) -> int:
        return round(px / self.tick)

    def on_trade(self, t: float, tr: Trade) -> None:
        self.stats.on_trade(t, tr)
        self._expire(tr.symbol, t)
        px = self._ticks(tr.price)
        for o in self._open.get(tr.symbol, ()):
            if o.done or o.side is tr.taker_side:
                continue
            through = px < o.px if o.side is Side.BUY else px > o.px
            if through:
                o.fill()
            elif px == o.px:
                o.need -= tr.qty
                if o.need <= 1e-12:
                    o.fill()

    def on_book(self, t: float, u: BookUpdate, bids: Sequence[Level], asks: Sequence[Level]) -> None:
        """One book update with the book's best levels (best first) on each side."""
        self.stats.on_book(t, u)
        self._expire(u.symbol, t)
        if not u.valid or not bids or not asks:
            return
        bid, ask = self._touch[u.symbol] = self._ticks(u.bid_px), self._ticks(u.ask_px)
        opened = self._open.get(u.symbol)
        if opened:
            self._follow(opened, bid, ask, bids, asks)
        if t >= self._next.get(u.symbol, t):
            self._next[u.symbol] = t + self.every_s
            self._start(t, u, bids, asks)

    def _follow(self, opened: deque[_Resting], bid: int, ask: int, bids: Sequence[Level],
                asks: Sequence[Level]) -> None:
        depth = {Side.BUY: {self._ticks(p): q for p, q in bids}, Side.SELL: {self._ticks(p): q for p, q in asks}}
        worst = {Side.BUY: self._ticks(bids[-1][0]), Side.SELL: self._ticks(asks[-1][0])}
        for o in opened:
            if o.done:
                continue
            if (o.side is Side.BUY and ask <= o.px) or (o.side is Side.SELL and bid >= o.px):
                o.fill()
                continue
            if self.peg.reprice_ticks and self._reprice(o, bid, ask, depth[o.side]):
                continue
            inside = o.px >= worst[Side.BUY] if o.side is Side.BUY else o.px <= worst[Side.SELL]
            if inside:  # within the levels we see: the queue ahead is at most the level
                o.need = min(o.need, depth[o.side].get(o.px, 0.0) + self.own_qty)

    def _reprice(self, o: _Resting, bid: int, ask: int, depth: dict[int, float]) -> bool:
        """The peg: the touch moved ``reprice_ticks`` away from ``o``: re-place it behind the new touch
        (True), or give up past the reprice limit (True); False = it stays."""
        d = int(o.features.distance_ticks)
        to = min(bid - d, o.cap) if o.side is Side.BUY else max(ask + d, o.cap)
        away = (to - o.px) if o.side is Side.BUY else (o.px - to)
        if away < self.peg.reprice_ticks:
            return False
        if self.peg.max_reprices and o.reprices >= self.peg.max_reprices:
            o.give_up(bid, ask)
            return True
        o.reprices += 1
        o.px = to
        o.need = depth.get(to, 0.0) + self.own_qty
        return True

    def _start(self, t: float, u: BookUpdate, bids: Sequence[Level], asks: Sequence[Level]) -> None:
        mid = u.mid
        tick_bps = self.tick / mid * 1e4
        spread = float(self._ticks(u.ask_px) - self._ticks(u.bid_px))
        vol = self.stats.vol_bps_s(t, u.symbol)
        opened = self._open.setdefault(u.symbol, deque())
        budget = self.peg.budget_bps
        for side, levels, touch, sign in ((Side.BUY, bids, u.bid_px, -1), (Side.SELL, asks, u.ask_px, 1)):
            depth = {self._ticks(p): q for p, q in levels}
            flow = self.stats.flow(t, u.symbol, side)
            cap = (math.floor if side is Side.BUY else math.ceil)(mid * (1.0 - sign * budget / 1e4) / self.tick) \
                if budget > 0 else (1 << 62) * -sign
            for d in range(self.max_distance + 1):
                px = self._ticks(touch) + sign * d
                queue = depth.get(px, 0.0)
                x = FillFeatures(queue_ahead=queue, own_qty=self.own_qty, flow_qty_s=flow, vol_bps_s=vol,
                                 tick_bps=tick_bps, spread_ticks=spread, horizon_s=self.horizon_s,
                                 distance_ticks=float(d))
                opened.append(_Resting(t, side, px, queue + self.own_qty, t + self.horizon_s, x, mid, cap))

    def _expire(self, symbol: str, t: float) -> None:
        opened = self._open.get(symbol)
        while opened and opened[0].deadline <= t:  # decided or not, in start order: the output order is fixed
            self._close(opened.popleft(), self._touch[symbol])

    def _close(self, o: _Resting, touch: tuple[int, int]) -> None:
        if not o.done:  # the horizon passed: the fallback crosses at the touch of now
            o.give_up(*touch)
        path = o.side.sign * (o.path_px * self.tick - o.mid0) / o.mid0 * 1e4
        self.samples.append(FillSample(features=o.features, filled=o.filled, path_bps=path))
        self.times.append(o.t0)

    def finish(self) -> None:
        """The recording ended: orders still open past no deadline are dropped (censored), not labelled."""
        self._open.clear()
