"""How a replay's trading did: trade statistics, Sharpe and Sortino, exposure time.

Owns: ``PerformanceRecorder`` — a passive bus subscriber that keeps the closed trades
(``ClosedTrade``) and the NAV readings (``Nav``) — the pure metric functions, the ``Performance``
Struct that goes into the replay summary, and its lines for a terminal (``describe``).

Definitions (docs/replay.md has the table):
- per closed trade: win = net PnL > 0, loss = net PnL < 0 (a trade at exactly 0 is neither);
  win rate = wins / trades; profit factor = sum of wins / |sum of losses| (None without a loss);
  expectancy = mean net PnL per trade; average R over the trades that had a stop;
- Sharpe and Sortino are on a fixed-interval equity series, not per trade: the NAV at every full
  minute of event time since the start (the last reading at or before it; the start NAV before
  any), its simple returns, annualised with the 365-day crypto year (``sqrt(525600)``). Sharpe =
  mean / sample standard deviation; Sortino = mean / downside deviation (root mean square of
  min(r, 0) over all returns, target 0). Risk-free rate 0. With fewer than ``MIN_RETURNS``
  returns (half an hour), or no variation, they are None: a ratio from a handful of points says
  nothing and would look precise;
- exposure = the fraction of the run's event time with a non-zero position in any symbol (the
  union of the trades' open intervals, an open trade counting to the end).

Must never: publish, or take part in a decision (it only listens); read the wall clock.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import msgspec

from hedge.bus import Bus
from hedge.events import ClosedTrade, Nav
from hedge.portfolio.round_trips import OpenTrade

RETURN_INTERVAL_S = 60
PERIODS_PER_YEAR = 365 * 24 * 3600 // RETURN_INTERVAL_S  # one-minute returns in a 365-day year
MIN_RETURNS = 30


class Performance(msgspec.Struct, kw_only=True):
    """The trading results of one replay (money in USDT; None where there is nothing to measure)."""

    trades_csv: str  # the trade list, one row per closed trade
    trades: int  # closed trades
    open_trades: int  # still open at the end (not in the figures below, except exposure)
    wins: int
    losses: int
    win_rate: float | None
    profit_factor: float | None
    avg_win: float | None
    avg_loss: float | None  # negative
    expectancy: float | None  # mean net PnL per closed trade
    avg_r: float | None  # mean R multiple of the closed trades that had a stop
    net_pnl: float  # closed trades, fees included
    open_net_pnl: float  # realized so far minus fees so far of the open trades: net_pnl + this = realized - fees
    avg_holding_s: float | None
    exposure: float | None  # fraction of the run with a non-zero position
    sharpe: float | None  # annualised, on one-minute NAV returns
    sortino: float | None
    returns: int  # one-minute NAV returns behind Sharpe and Sortino


class PerformanceRecorder:
    """Closed trades and NAV readings published on a bus."""

    def __init__(self, bus: Bus) -> None:
        self.trips: list[ClosedTrade] = []
        self.navs: list[tuple[int, float]] = []  # (event time ns, NAV)
        bus.subscribe(ClosedTrade, self.trips.append)
        bus.subscribe(Nav, self.on_nav)

    def on_nav(self, n: Nav) -> None:
        self.navs.append((n.recv_ns, n.nav))


def _mean(xs: Sequence[float]) -> float | None:
    return _tidy(sum(xs) / len(xs)) if xs else None


def _tidy(x: float) -> float:
    """Without binary float noise, as the rest of the summary (10 decimals)."""
    return round(x, 10) + 0.0


def nav_returns(
    navs: Iterable[tuple[int, float]], *, start_ns: int, end_ns: int, start_nav: float,
    interval_ns: int = RETURN_INTERVAL_S * 1_000_000_000,
) -> list[float]:
    """Simple returns of the NAV sampled every ``interval_ns`` from ``start_ns`` up to ``end_ns``
    (the last reading at or before each sample time; readings in time order)."""
    samples = [start_nav]
    due = start_ns + interval_ns
    last = start_nav
    for ns, nav in navs:
        while ns > due and due <= end_ns:
            samples.append(last)
            due += interval_ns
        last = nav
    while due <= end_ns:
        samples.append(last)
        due += interval_ns
    return [b / a - 1.0 for a, b in itertools.pairwise(samples) if a > 0.0]


def sharpe(returns: Sequence[float], periods_per_year: float = PERIODS_PER_YEAR) -> float | None:
    """Annualised mean / sample standard deviation; None below ``MIN_RETURNS`` or without variation."""
    n = len(returns)
    if n < MIN_RETURNS:
        return None
    mean = sum(returns) / n
    var = sum((r - mean) ** 2 for r in returns) / (n - 1)
    if var <= 0.0:
        return None
    return mean / math.sqrt(var) * math.sqrt(periods_per_year)


def sortino(returns: Sequence[float], periods_per_year: float = PERIODS_PER_YEAR) -> float | None:
    """Annualised mean / downside deviation (target 0); None below ``MIN_RETURNS`` or without a loss."""
    n = len(returns)
    if n < MIN_RETURNS:
        return None
    down = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / n)
    if down <= 0.0:
        return None
    return sum(returns) / n / down * math.sqrt(periods_per_year)


def exposure(intervals: Iterable[tuple[int, int]], start_ms: int, end_ms: int) -> float | None:
    """Fraction of [start_ms, end_ms] covered by the union of ``intervals`` (None for an empty run)."""
    if end_ms <= start_ms:
        return None
    covered = 0
    reach = start_ms
    for a, b in sorted((max(a, start_ms), min(b, end_ms)) for a, b in intervals):
        if b <= reach:
            continue
        covered += b - max(a, reach)
        reach = b
    return covered / (end_ms - start_ms)


def performance(
    trips: Sequence[ClosedTrade], open_trades: Sequence[OpenTrade], navs: Sequence[tuple[int, float]], *,
    start_ns: int, end_ns: int, start_nav: float, trades_csv: str,
) -> Performance:
    """The figures of one run (see the module docstring for the definitions)."""
    nets = [t.net_pnl for t in trips]
    wins = [x for x in nets if x > 0.0]
    losses = [x for x in nets if x < 0.0]
    rs = [t.r_multiple for t in trips if t.r_multiple is not None]
    rets = nav_returns(navs, start_ns=start_ns, end_ns=end_ns, start_nav=start_nav)
    start_ms, end_ms = start_ns // 1_000_000, end_ns // 1_000_000
    spans = [(t.opened_ms, t.closed_ms) for t in trips] + [(t.opened_ms, end_ms) for t in open_trades]
    return Performance(
        trades_csv=trades_csv,
        trades=len(trips),
        open_trades=len(open_trades),
        wins=len(wins),
        losses=len(losses),
        win_rate=len(wins) / len(nets) if nets else None,
        profit_factor=_tidy(sum(wins) / -sum(losses)) if losses else None,
        avg_win=_mean(wins),
        avg_loss=_mean(losses),
        expectancy=_mean(nets),
        avg_r=_mean(rs),
        net_pnl=_tidy(sum(nets)),
        open_net_pnl=_tidy(sum(t.gross - t.fees for t in open_trades)),
        avg_holding_s=_mean([(t.closed_ms - t.opened_ms) / 1000.0 for t in trips]),
        exposure=None if (x := exposure(spans, start_ms, end_ms)) is None else _tidy(x),
        sharpe=sharpe(rets),
        sortino=sortino(rets),
        returns=len(rets),
    )


def _f(x: float | None, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)


def _duration(s: float | None) -> str:
    if s is None:
        return "n/a"
    m, sec = divmod(round(s), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s" if m else f"{s:.1f}s"


def describe(p: Performance) -> str:
    """The figures in four lines for a terminal."""
    return (
        f"  trades {p.trades} closed, {p.open_trades} open  win rate {_f(p.win_rate, '.1%')}  "
        f"profit factor {_f(p.profit_factor, '.2f')}  expectancy {_f(p.expectancy, '+.4f')} USDT/trade "
        f"(avg R {_f(p.avg_r, '+.2f')})\n"
        f"  avg win {_f(p.avg_win, '+.4f')}  avg loss {_f(p.avg_loss, '+.4f')} USDT  "
        f"avg holding {_duration(p.avg_holding_s)}  exposure {_f(p.exposure, '.1%')} of the run\n"
        f"  Sharpe {_f(p.sharpe, '.2f')}  Sortino {_f(p.sortino, '.2f')} ({p.returns} one-minute NAV returns"
        + (f"; n/a below {MIN_RETURNS})\n" if p.returns < MIN_RETURNS else ", annualised)\n")
        + f"  trade list: {p.trades_csv}"
    )
