"""Time series for the charts, computed from decoded journal lines (pure pandas, no Streamlit).

Owns: the NAV curve and its drawdown (from the high-water mark inside the window), daily PnL (the
change of the last NAV of each UTC day; the first day from its first reading), cumulative fees,
event counts per time bucket, and thinning a long series to what a chart can show.

Must never: read files, or change a value it is given (thinning keeps each bucket's last point,
so the newest value is always exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hedge.dashboard.lines import FillLine, NavLine

MAX_POINTS = 2_000


def _index(ts_ns: Sequence[int] | np.ndarray[Any, Any]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(ts_ns, dtype="int64"), unit="ns", utc=True), name="time")


def thin(frame: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """At most ``max_points`` rows: the last row of each of ``max_points`` equal slices."""
    n = len(frame)
    if n <= max_points:
        return frame
    keep = np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))
    return frame.iloc[keep]


def nav_frame(lines: Sequence[NavLine]) -> pd.DataFrame:
    """NAV readings in time order with the drawdown from the running peak (a fraction, <= 0)."""
    if not lines:
        return pd.DataFrame({"nav": [], "drawdown": []}, index=_index([]))
    ts = np.fromiter((x.ts_ns for x in lines), dtype=np.int64, count=len(lines))
    nav = np.fromiter((x.data.nav for x in lines), dtype=np.float64, count=len(lines))
    order = np.argsort(ts, kind="stable")
    ts, nav = ts[order], nav[order]
    peak = np.maximum.accumulate(nav)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, nav / peak - 1.0, 0.0)
    return pd.DataFrame({"nav": nav, "drawdown": dd}, index=_index(ts))


def daily_pnl(nav: pd.DataFrame) -> pd.DataFrame:
    """PnL per UTC day: the day's last NAV minus the previous day's (the first day: minus its first)."""
    if nav.empty:
        return pd.DataFrame({"pnl": []})
    last = nav["nav"].resample("1D").last().dropna()
    first = float(nav["nav"].iloc[0])
    pnl = last.diff()
    pnl.iloc[0] = float(last.iloc[0]) - first
    out = pd.DataFrame({"pnl": pnl.to_numpy()}, index=last.index.strftime("%Y-%m-%d"))
    out.index.name = "day"
    return out


def fees_frame(fills: Sequence[FillLine]) -> pd.DataFrame:
    """Cumulative fees and realized PnL over the fills of the window."""
    if not fills:
        return pd.DataFrame({"fees": [], "realized_pnl": []}, index=_index([]))
    ts = [x.ts_ns for x in fills]
    fees = np.cumsum([x.data.fill.fee for x in fills])
    realized = np.cumsum([x.data.fill.realized_pnl for x in fills])
    return pd.DataFrame({"fees": fees, "realized_pnl": realized}, index=_index(ts)).sort_index()


def counts(series: dict[str, Sequence[int]], buckets: int = 60) -> pd.DataFrame:
    """How many timestamps of each series fall in each of ~``buckets`` equal time buckets."""
    stamps = [t for ts in series.values() for t in ts]
    if not stamps:
        return pd.DataFrame({name: [] for name in series})
    lo, hi = min(stamps), max(stamps)
    width = max(1, (hi - lo) // buckets + 1)
    edges = lo + width * np.arange(buckets + 1)
    cols = {name: np.histogram(np.asarray(ts, dtype=np.int64), bins=edges)[0] for name, ts in series.items()}
    return pd.DataFrame(cols, index=_index(edges[:-1]))
