"""Per-symbol scores from realized round trips: rolling expectancy, symbol score, hybrid score, SPRT.

Every record exists twice: per symbol (strategy ``""``, all its round trips) and per (symbol,
strategy) for the trips a strategy opened. The SPRT of either switches intents off: a symbol
whose edge is gone, or one strategy on one symbol.

Owns: per record (all in [0, 1] or bps as named):
- ``expectancy_bps``: mean return of the last ``scores.window_trades`` round trips (0 with none);
- ``symbol_score = tanh(expectancy_bps / expectancy_scale_bps) * min(1, n / window_trades)`` in
  [-1, 1] (a short history counts for less);
- ``liquidity = 1 / (1 + spread_bps / liquidity_spread_bps)`` (0.5 at the reference spread);
- ``hybrid_score = (w_s * |signal| + w_e * (symbol_score + 1) / 2 + w_l * liquidity) / (w_s + w_e + w_l)``
  in [0, 1], with ``|signal|`` the latest strongest strategy score on the symbol;
- the SPRT of wins (return > 0) against losses, which switches the symbol off when its edge is
  statistically gone.

Must never: reset a switched-off symbol by itself (``Sprt.reset`` is an operator action).
"""

from __future__ import annotations

import math
from collections import deque

from hedge.config import ScoreParams
from hedge.events import StrategyScore, SymbolScore
from hedge.model.sprt import Sprt, SprtDecision
from hedge.signals.round_trips import RoundTrip


class SymbolStats:
    """One record: the rolling returns, the SPRT, and (symbol records) the latest signal strength."""

    __slots__ = ("_returns", "_sum", "signal", "sprt")

    def __init__(self, p: ScoreParams) -> None:
        self._returns: deque[float] = deque(maxlen=p.window_trades)
        self._sum = 0.0
        self.sprt = Sprt(p.sprt_p0, p.sprt_p1, p.sprt_alpha, p.sprt_beta)
        self.signal = 0.0

    @property
    def trades(self) -> int:
        return len(self._returns)

    @property
    def expectancy_bps(self) -> float:
        n = len(self._returns)
        return self._sum / n if n else 0.0

    def add(self, return_bps: float) -> SprtDecision:
        self._returns.append(return_bps)
        self._sum = math.fsum(self._returns)  # exact; once per closed trade, off the tick path
        return self.sprt.update(return_bps > 0.0)


class ScoreBoard:
    def __init__(self, params: ScoreParams) -> None:
        self.params = params
        self._stats: dict[tuple[str, str], SymbolStats] = {}
        self._w = (1.0, 0.0, 0.0, 0.0)
        self.set_weights((params.weight_signal, params.weight_expectancy, params.weight_liquidity))

    @property
    def weights(self) -> tuple[float, float, float]:
        """The hybrid score's (signal, expectancy, liquidity) weights."""
        return self._w[1], self._w[2], self._w[3]

    def set_weights(self, w: tuple[float, float, float]) -> None:
        """New hybrid-score weights (the adaptive overlay, ``hedge.signals.adaptive_weights``)."""
        total = w[0] + w[1] + w[2]
        self._w = (total if total > 0.0 else 1.0, w[0], w[1], w[2])

    def stats(self, symbol: str, strategy: str = "") -> SymbolStats:
        key = (symbol, strategy)
        s = self._stats.get(key)
        if s is None:
            s = self._stats[key] = SymbolStats(self.params)
        return s

    def on_round_trip(self, trip: RoundTrip) -> tuple[SprtDecision, SprtDecision | None]:
        """Fold a closed trip into its symbol's and (if attributed) its strategy's record."""
        symbol = self.stats(trip.symbol).add(trip.return_bps)
        if not trip.strategy:
            return symbol, None
        return symbol, self.stats(trip.symbol, trip.strategy).add(trip.return_bps)

    def passes(self, symbol: str, strategy: str, expectancy_min_bps: float) -> bool:
        """False when an SPRT switched the symbol (or this strategy on it) off, or expectancy is below the gate."""
        own = self._stats.get((symbol, strategy))
        if own is not None and not own.sprt.enabled:
            return False
        s = self._stats.get((symbol, ""))
        if s is None:
            return True
        if not s.sprt.enabled:
            return False
        return s.trades < self.params.min_trades or s.expectancy_bps >= expectancy_min_bps

    def symbol_score(self, symbol: str, strategy: str = "") -> float:
        s = self.stats(symbol, strategy)
        p = self.params
        return math.tanh(s.expectancy_bps / p.expectancy_scale_bps) * min(1.0, s.trades / p.window_trades)

    def _hybrid(self, symbol: str, symbol_score: float, spread_bps: float) -> float:
        total, ws, we, wl = self._w
        liquidity = 1.0 / (1.0 + max(spread_bps, 0.0) / self.params.liquidity_spread_bps)
        strength = min(abs(self.stats(symbol).signal), 1.0)
        return (ws * strength + we * (symbol_score + 1.0) * 0.5 + wl * liquidity) / total

    def snapshot(self, symbol: str, spread_bps: float, ts_ms: int, recv_ns: int) -> SymbolScore:
        """The symbol's whole record (every round trip on it)."""
        s = self.stats(symbol)
        sym = self.symbol_score(symbol)
        return SymbolScore(
            ts_ms=ts_ms,
            recv_ns=recv_ns,
            symbol=symbol,
            expectancy_bps=s.expectancy_bps,
            symbol_score=sym,
            hybrid_score=self._hybrid(symbol, sym, spread_bps),
            trades=s.trades,
            sprt_llr=s.sprt.llr,
            enabled=s.sprt.enabled,
        )

    def strategy_snapshot(
        self, symbol: str, strategy: str, spread_bps: float, ts_ms: int, recv_ns: int, budget: float = 1.0
    ) -> StrategyScore:
        """One strategy's record on the symbol (the round trips it opened); signal strength is the symbol's;
        ``budget`` is the feedback allocator's for the stream (1.0 when it is off)."""
        s = self.stats(symbol, strategy)
        sym = self.symbol_score(symbol, strategy)
        return StrategyScore(
            ts_ms=ts_ms,
            recv_ns=recv_ns,
            symbol=symbol,
            strategy=strategy,
            expectancy_bps=s.expectancy_bps,
            symbol_score=sym,
            hybrid_score=self._hybrid(symbol, sym, spread_bps),
            trades=s.trades,
            sprt_llr=s.sprt.llr,
            enabled=s.sprt.enabled,
            budget=budget,
        )
