"""The local exchange's synthetic past: deterministic hourly bars before the first bar it played.

Owns: ``History``, per symbol a series of ``DAYS`` days of 1-hour candles that ends where the played
market begins (the hour of its first trade) and closes at that trade's price, so ``/fapi/v1/klines``
of 1h and longer intervals (4h, 1d, 1w...) reach far enough back for a daily model (>= 200 daily
bars). The path is a seeded random walk of log returns (the seed is the symbol's CRC32) whose drift
and volatility switch every few weeks, so a trend model and a volatility model see regimes change.
The same symbol, first trade hour and first price give the same bars, bar for bar.

Must never: read the clock or do I/O, change the played market, or serve bars shorter than an hour
(the minute bars are the played market's only).
"""

from __future__ import annotations

import math
import random
import zlib

from hedge.exchange.candles import Bars, Candle, open_of, shift

INTERVAL = "1h"
DAYS = 400
HOURS = DAYS * 24
REGIME_HOURS = 24 * 21  # drift and volatility switch every three weeks
_DRIFTS = (0.0006, 0.0, -0.0005, 0.0003, -0.0002)  # per hour (log)
_VOLS = (0.004, 0.009, 0.006, 0.003)  # per hour (log)
LONG_INTERVALS = frozenset({"1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"})


def synthetic_bars(symbol: str, end_ms: int, last_close: float, hours: int = HOURS) -> list[Candle]:
    """``hours`` 1-hour bars, the last one opening an hour before ``end_ms`` (an hour boundary) and
    closing at ``last_close``."""
    rng = random.Random(zlib.crc32(symbol.encode()))
    rets: list[float] = []
    for i in range(hours):
        regime = i // REGIME_HOURS
        drift = _DRIFTS[regime * 3 % len(_DRIFTS)]
        vol = _VOLS[regime * 7 % len(_VOLS)]
        rets.append(drift + vol * rng.gauss(0.0, 1.0))
    closes = [last_close] * hours
    for i in range(hours - 1, 0, -1):  # backwards from the anchor: close[i-1] = close[i] / e^ret[i]
        closes[i - 1] = closes[i] / math.exp(rets[i])
    first_open = closes[0] / math.exp(rets[0])
    out: list[Candle] = []
    start = shift(end_ms, INTERVAL, -hours)
    for i, close in enumerate(closes):
        open_ = out[-1].close if out else first_open
        wick = abs(rets[i]) * 0.5 + 0.001 * rng.random()
        volume = round(50.0 + 450.0 * rng.random(), 3)
        mid = (open_ + close) / 2.0
        out.append(Candle(
            shift(start, INTERVAL, i), open_, max(open_, close) * (1.0 + wick), min(open_, close) * (1.0 - wick),
            close, volume=volume, quote_volume=volume * mid, taker_buy_volume=volume / 2.0,
            taker_buy_quote=volume * mid / 2.0, count=int(volume * 10),
        ))
    return out


class History:
    """Each symbol's synthetic past, made once (at the first klines request after its first trade)."""

    def __init__(self, hours: int = HOURS) -> None:
        self.hours = hours
        self._bars: dict[str, list[Candle]] = {}

    def klines_source(self, symbol: str, played: Bars, interval: str) -> Bars:
        """The bars a klines request of ``interval`` reads: the played minute bars, preceded by the
        synthetic past for intervals of an hour or more (none before the first trade)."""
        if interval not in LONG_INTERVALS or not played.bars:
            return played
        past = self._bars.get(symbol)
        if past is None:
            first = played.bars[0]
            past = self._bars[symbol] = synthetic_bars(symbol, open_of(first.open_ms, INTERVAL), first.open,
                                                       self.hours)
        return played.after(past, INTERVAL)
