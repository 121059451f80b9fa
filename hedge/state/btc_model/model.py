"""The BTC model's reading of one interval's closed bars: trend regime, volatility regime, funding, basis.

Owns: the figures and the message. For each interval (``PARAMS``):
- trend: EMA(fast) and EMA(slow) of the closes (each seeded with the simple mean of its first ``n``
  closes, then ``e = e + 2/(n+1) * (close - e)``); UP when close > EMA fast > EMA slow, DOWN when
  close < EMA fast < EMA slow, else NEUTRAL; ``trend_bps`` = (EMA fast / EMA slow - 1) x 1e4;
- realised volatility: ``sqrt(mean(r^2) x periods per year)`` of the last ``n`` log returns (short
  and long window); HIGH when short / long >= ``vol_high``, LOW when <= ``vol_low``, else NORMAL;
- funding rate (and x 3 x 365 a year) and basis ((mark - index) / index in bps) as the venue
  reports them at the reading;
- the message: the close, its change since the previous reading, each regime with what it was.

Must never: do I/O, read the clock, or decide anything about trading.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

INTERVAL_MS = {"4h": 4 * 3_600_000, "1d": 24 * 3_600_000}


@dataclasses.dataclass(frozen=True)
class Params:
    ema_fast: int
    ema_slow: int
    rv_short: int
    rv_long: int
    periods_per_year: float
    vol_high: float = 1.25
    vol_low: float = 0.8

    @property
    def bars_needed(self) -> int:
        return max(self.ema_slow, self.rv_long + 1)


PARAMS: dict[str, Params] = {
    "4h": Params(ema_fast=21, ema_slow=55, rv_short=6, rv_long=42, periods_per_year=6 * 365),
    "1d": Params(ema_fast=50, ema_slow=200, rv_short=7, rv_long=30, periods_per_year=365),
}


class Reading(msgspec.Struct, kw_only=True):
    symbol: str
    interval: str
    close_ms: int  # the end of the last closed bar (the next bar's open)
    close: float
    ema_fast: float
    ema_slow: float
    trend: str  # "UP" | "DOWN" | "NEUTRAL"
    trend_bps: float
    rv_short: float  # annualised, fraction
    rv_long: float
    vol_ratio: float
    vol: str  # "HIGH" | "LOW" | "NORMAL"
    funding_rate: float
    basis_bps: float


def ema(values: Sequence[float], n: int) -> float:
    if len(values) < n:
        raise ValueError(f"EMA({n}) needs {n} values, got {len(values)}")
    e = sum(values[:n]) / n
    alpha = 2.0 / (n + 1)
    for v in values[n:]:
        e += alpha * (v - e)
    return e


def realised_vol(closes: Sequence[float], n: int, periods_per_year: float) -> float:
    if len(closes) < n + 1:
        raise ValueError(f"realised volatility over {n} returns needs {n + 1} closes, got {len(closes)}")
    tail = closes[-(n + 1):]
    rets = [math.log(b / a) for a, b in itertools.pairwise(tail)]
    return math.sqrt(sum(r * r for r in rets) / n * periods_per_year)


def read(symbol: str, interval: str, closes: Sequence[float], close_ms: int, p: Params, *,
         funding_rate: float, mark: float, index: float) -> Reading:
    """The reading of ``closes`` (oldest first, the last one the bar closing at ``close_ms``)."""
    fast, slow = ema(closes, p.ema_fast), ema(closes, p.ema_slow)
    last = closes[-1]
    trend = "UP" if last > fast > slow else "DOWN" if last < fast < slow else "NEUTRAL"
    short, long_ = realised_vol(closes, p.rv_short, p.periods_per_year), realised_vol(closes, p.rv_long,
                                                                                       p.periods_per_year)
    ratio = short / long_ if long_ > 0.0 else 1.0
    vol = "HIGH" if ratio >= p.vol_high else "LOW" if ratio <= p.vol_low else "NORMAL"
    return Reading(
        symbol=symbol, interval=interval, close_ms=close_ms, close=last, ema_fast=fast, ema_slow=slow, trend=trend,
        trend_bps=(fast / slow - 1.0) * 1e4, rv_short=short, rv_long=long_, vol_ratio=ratio, vol=vol,
        funding_rate=funding_rate, basis_bps=(mark - index) / index * 1e4 if index > 0.0 else 0.0,
    )


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def title(r: Reading) -> str:
    return f"{r.symbol} {r.interval} close {_utc(r.close_ms)}"


def _was(now: str, before: str | None) -> str:
    if before is None:
        return ""
    return f" (was {before})" if before != now else " (unchanged)"


def message(r: Reading, prev: Reading | None, p: Params) -> str:
    """The text under ``title(r)``: four short lines, each with its change since ``prev``."""
    if prev is None:
        change = "first reading"
    else:
        change = f"{(r.close / prev.close - 1.0) * 100:+.2f}% since {_utc(prev.close_ms)}"
    return "\n".join((
        f"Close {r.close:,.2f} ({change})",
        f"Trend {r.trend}{_was(r.trend, prev.trend if prev else None)}: EMA{p.ema_fast} {r.ema_fast:,.2f} "
        f"vs EMA{p.ema_slow} {r.ema_slow:,.2f} ({r.trend_bps:+.0f} bps)",
        f"Vol {r.vol}{_was(r.vol, prev.vol if prev else None)}: RV{p.rv_short} {r.rv_short:.1%} "
        f"vs RV{p.rv_long} {r.rv_long:.1%} (x{r.vol_ratio:.2f})",
        f"Funding {r.funding_rate:+.4%} ({r.funding_rate * 3 * 365:+.1%}/yr), basis {r.basis_bps:+.1f} bps"
        + (f" (funding was {prev.funding_rate:+.4%})" if prev is not None else ""),
    ))
