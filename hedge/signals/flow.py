"""Aggressive trade flow over a rolling time window: flow imbalance and absorption.

Owns: the window of recent trades of one symbol (taker side already resolved by the feed), the
running buy/sell taker volumes, and the absorption measure.

Definitions (event time, window ``W`` ms, a trade at ``t`` stays in while ``t > now - W``):
- ``flow_imbalance = (buy - sell) / (buy + sell)`` of taker volume in the window, in [-1, 1].
- ``absorption``: heavy one-sided flow that did not move the price its way. With ``f`` the flow
  imbalance, ``m`` the mid move in bps since the oldest trade in the window, signed so that
  positive means "in the direction of the flow": if ``|f| >= min_flow``,
  ``absorption = f * max(0, 1 - max(0, m) / max_move_bps)``, else 0. Positive absorption means
  aggressive buyers are being absorbed by passive sellers (a bearish sign); negative, the reverse.

Cost: ``expire`` returns at once when no trade leaves; ``imbalance`` is refreshed only when the
window's volumes change (not per book tick).

Compiled, ``flow.pxd`` makes ``TradeFlow`` a cdef class with C double volumes (bit-identical
arithmetic; times stay Python ints).

Must never: keep more than the window, or read the wall clock.
"""

from __future__ import annotations

from collections import deque

_INF = float("inf")


class TradeFlow:
    """Rolling taker-flow window of one symbol."""

    __slots__ = ("_trades", "buy_vol", "imbalance", "max_move_bps", "min_flow", "sell_vol", "window_ms")

    def __init__(self, window_ms: int, min_flow: float, max_move_bps: float) -> None:
        if window_ms <= 0 or max_move_bps <= 0.0:
            raise ValueError("window_ms and max_move_bps must be > 0")
        self.window_ms = window_ms
        self.min_flow = min_flow
        self.max_move_bps = max_move_bps
        # (ts_ms, signed qty, mid when the trade printed)
        self._trades: deque[tuple[int, float, float]] = deque()
        self.buy_vol = 0.0
        self.sell_vol = 0.0
        self.imbalance = 0.0  # of the window's volumes, refreshed only when they change

    def add(self, ts_ms: int, qty: float, is_buy: bool, mid: float) -> None:
        """One taker trade of ``qty`` (buy when the taker bought) while the book mid was ``mid``."""
        if not 0.0 < qty < _INF:  # also NaN
            return
        self.expire(ts_ms)
        if is_buy:
            self.buy_vol += qty
            self._trades.append((ts_ms, qty, mid))
        else:
            self.sell_vol += qty
            self._trades.append((ts_ms, -qty, mid))
        self._refresh()

    def expire(self, now_ms: int) -> None:
        """Drop the trades that have left the window."""
        trades = self._trades
        cutoff = now_ms - self.window_ms
        if not trades or trades[0][0] > cutoff:  # nothing leaves (an empty window's sums are already 0)
            return
        while trades and trades[0][0] <= cutoff:
            q = trades.popleft()[1]
            if q > 0.0:
                self.buy_vol -= q
            else:
                self.sell_vol += q
        if not trades:  # reset the running sums: no drift from float subtraction
            self.buy_vol = 0.0
            self.sell_vol = 0.0
        self._refresh()

    def __len__(self) -> int:
        return len(self._trades)

    def _refresh(self) -> None:
        total = self.buy_vol + self.sell_vol
        if total <= 0.0:
            self.imbalance = 0.0
            return
        x = (self.buy_vol - self.sell_vol) / total
        self.imbalance = 1.0 if x > 1.0 else -1.0 if x < -1.0 else x

    def absorption(self, mid: float) -> float:
        """Absorption against the current ``mid`` (see the module docstring), in [-1, 1]."""
        f = self.imbalance
        if not self._trades or (f if f >= 0.0 else -f) < self.min_flow:
            return 0.0
        ref = self._trades[0][2]
        if ref <= 0.0 or mid <= 0.0:
            return 0.0
        move = (mid - ref) / ref * 1e4
        if f < 0.0:
            move = -move
        if move <= 0.0:
            return f
        keep = 1.0 - move / self.max_move_bps
        return f * keep if keep > 0.0 else 0.0
