"""The risk stage's exposure view: each symbol's position with its open orders and unconfirmed fills.

Owns: positions (``PositionRisk`` per symbol, at the latest marks), the open orders risk counts,
fills not yet confirmed by a ``Position`` and the final orders remembered so that a late update
cannot resurrect them. The view is deliberately pessimistic between exchange reports, so that in
each direction it never shows less exposure than the exchange has, whatever order the reports
arrive in:
- open orders count as if those on the order's side had filled (``PositionRisk.worst``);
- a fill, learnt from the increase of an ``OrderUpdate``'s cumulative ``filled_qty`` (one event
  moves it from "open" to "filled": nothing is ever in neither), stays counted on its side as
  *unconfirmed* until a ``Position`` of its symbol stamped strictly later (``ts_ms``) arrives —
  that position includes it. A ``Position`` older than one already applied (a slow
  reconciliation) is ignored; one with ``ts_ms`` 0 is taken to include every fill so far;
- a final order's late non-final update does not bring it back.

Design: ``positions`` is replaced on change, never mutated, so a ``RiskContext`` already built
stays valid and building one copies nothing.

Must never: publish, read a clock, or decide anything (the stage and ``check_order`` do).
"""

from __future__ import annotations

import msgspec

from hedge.events import MarkPrice, OrderRequest, OrderUpdate, Position
from hedge.risk.context import PositionRisk

FINISHED_MEMORY = 4096  # final orders remembered, so a late update cannot resurrect them


class _OpenOrder(msgspec.Struct, gc=False):
    symbol: str
    sign: int
    remaining: float
    filled: float = 0.0


class Exposure:
    """Feed it positions, marks and order events; read ``positions`` and ``orders``."""

    def __init__(self) -> None:
        self.positions: dict[str, PositionRisk] = {}
        self.orders: dict[str, _OpenOrder] = {}
        self._qty: dict[str, float] = {}
        self._marks: dict[str, float] = {}
        self._finished: dict[str, None] = {}  # recently final client order ids, oldest first
        self._unconfirmed: dict[str, list[tuple[int, int, float]]] = {}  # (ts_ms, sign, qty) not in a Position
        self._pos_ts: dict[str, int] = {}  # ts_ms of the Position applied last, per symbol

    def on_position(self, ev: Position) -> bool:
        """Apply the exchange's position; False (ignored) when older than the one already applied."""
        sym, ts = ev.symbol, ev.ts_ms
        if ts and ts < self._pos_ts.get(sym, 0):
            return False  # older than the position already applied (a slow reconciliation)
        self._pos_ts[sym] = ts
        self._qty[sym] = ev.qty
        pending = self._unconfirmed.get(sym)
        if pending:  # fills strictly before this position are in it
            self._unconfirmed[sym] = [f for f in pending if ts and f[0] >= ts]
        mark = ev.mark_price or ev.entry_price
        if mark > 0.0:
            self._marks[ev.symbol] = mark
        self._refresh(ev.symbol)
        return True

    def on_mark(self, ev: MarkPrice) -> bool:
        """A new mark; True when it repriced a position."""
        if ev.mark_price > 0.0:
            self._marks[ev.symbol] = ev.mark_price
            if ev.symbol in self.positions:
                self._refresh(ev.symbol)
                return True
        return False

    def note_price(self, symbol: str, price: float) -> None:
        """A traded price, used as the mark until a real one arrives."""
        self._marks.setdefault(symbol, price)

    def on_order_request(self, ev: OrderRequest) -> None:
        self.orders[ev.client_order_id] = _OpenOrder(ev.symbol, ev.side.sign, ev.qty)
        if ev.price > 0.0:
            self._marks.setdefault(ev.symbol, ev.price)
        self._refresh(ev.symbol)

    def on_order_update(self, ev: OrderUpdate) -> bool:
        """Apply an order's update; False when it changed nothing (a late update of a final order)."""
        coid = ev.client_order_id
        if coid in self._finished:
            return False  # a late update of an order already final
        final = ev.status.is_final
        o = self.orders.get(coid)
        if o is None:  # an order placed before this process (or elsewhere): count it
            if final and ev.filled_qty <= 0.0:
                return False
            o = _OpenOrder(ev.symbol, ev.side.sign, ev.qty)
            if not final:
                self.orders[coid] = o
        if ev.filled_qty > o.filled:  # newly filled: from "open" to "unconfirmed", in one step
            self._unconfirmed.setdefault(ev.symbol, []).append((ev.ts_ms, o.sign, ev.filled_qty - o.filled))
            o.filled = ev.filled_qty
        if final:
            self.orders.pop(coid, None)
            self._finished[coid] = None
            if len(self._finished) > FINISHED_MEMORY:
                del self._finished[next(iter(self._finished))]
        elif ev.qty > 0.0:
            o.remaining = max(0.0, ev.qty - o.filled)
        self._refresh(ev.symbol)
        return True

    def _refresh(self, symbol: str) -> None:
        buy = sell = 0.0
        for _ts, sign, qty in self._unconfirmed.get(symbol, ()):
            if sign > 0:
                buy += qty
            else:
                sell += qty
        for o in self.orders.values():
            if o.symbol == symbol:
                if o.sign > 0:
                    buy += o.remaining
                else:
                    sell += o.remaining
        qty = self._qty.get(symbol, 0.0)
        positions = dict(self.positions)
        if qty == 0.0 and buy == 0.0 and sell == 0.0:
            positions.pop(symbol, None)
        else:
            positions[symbol] = PositionRisk(qty=qty, mark=self._marks.get(symbol, 0.0), open_buy=buy, open_sell=sell)
        self.positions = positions  # replaced, never mutated: contexts already built stay valid
