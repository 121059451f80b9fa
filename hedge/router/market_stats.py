"""Recent trade flow and volatility per symbol, as the auto router's fill-probability model needs them.

Owns: per symbol, an exponentially decayed rate (qty/s) of taker quantity by taker side, and an
exponentially decayed variance rate of the mid's returns (bps^2/s), both over ``window_s`` of the
router clock (event time in replay, so a replay gives the same figures every time). The mid is
sampled at most once per ``vol_sample_s``: a one-tick spread that flickers to two moves the mid by
half a tick and back many times a second, which is quote noise, not movement a resting order sees
(counted tick by tick, it made BTC's 0.016 bps tick look like many ticks of movement).

A maker BUY rests at the bid and is hit by SELL takers: ``flow(symbol, Side.BUY)`` is the rate of
sell-taker quantity (and the reverse for a maker sell).

Must never: publish, decide, or read the wall clock.
"""

from __future__ import annotations

import math

from hedge.events import BookUpdate, Side, Trade

_BUY, _SELL = Side.BUY, Side.SELL  # global reads, not Enum class attribute lookups (~70 ns): ``flow`` runs per slice


class _Decayed:
    """A rate: every ``add(t, x)`` contributes ``x / window`` and decays as exp(-dt / window)."""

    __slots__ = ("t", "value")

    def __init__(self) -> None:
        self.t = -math.inf
        self.value = 0.0

    def at(self, t: float, window: float) -> float:
        return self.value * math.exp(-(t - self.t) / window) if self.t > -math.inf else 0.0

    def add(self, t: float, x: float, window: float) -> None:
        self.value = self.at(t, window) + x / window
        self.t = t


class MarketStats:
    """Recent flow and volatility per symbol (see the module docstring)."""

    def __init__(self, window_s: float, vol_sample_s: float = 1.0) -> None:
        self.window = window_s
        self.vol_sample_s = vol_sample_s
        self._mid_t: dict[str, float] = {}
        self._flow: dict[tuple[str, Side], _Decayed] = {}
        self._var: dict[str, _Decayed] = {}
        self._mid: dict[str, float] = {}

    def on_trade(self, t: float, tr: Trade) -> None:
        key = (tr.symbol, tr.taker_side)
        d = self._flow.get(key)
        if d is None:
            d = self._flow[key] = _Decayed()
        d.add(t, tr.qty, self.window)

    def on_book(self, t: float, u: BookUpdate) -> None:
        if u.mid <= 0.0 or t < self._mid_t.get(u.symbol, -math.inf) + self.vol_sample_s:
            return
        last = self._mid.get(u.symbol, 0.0)
        self._mid[u.symbol] = u.mid
        self._mid_t[u.symbol] = t
        if last > 0.0:
            d = self._var.get(u.symbol)
            if d is None:
                d = self._var[u.symbol] = _Decayed()
            r = (u.mid / last - 1.0) * 1e4
            d.add(t, r * r, self.window)

    def flow(self, t: float, symbol: str, maker_side: Side) -> float:
        """Taker quantity per second recently hitting a resting order of ``maker_side``."""
        d = self._flow.get((symbol, _SELL if maker_side is _BUY else _BUY))  # maker_side.opposite
        return d.at(t, self.window) if d is not None else 0.0

    def vol_bps_s(self, t: float, symbol: str) -> float:
        d = self._var.get(symbol)
        return math.sqrt(d.at(t, self.window)) if d is not None else 0.0
