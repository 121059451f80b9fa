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

MAX_POINTS = 600  # about one point per screen pixel of a half-width chart: more only costs the browser time


def _index(ts_ns: Sequence[int] | np.ndarray[Any, Any]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(ts_ns, dtype="int64"), unit="ns", utc=True), name="time")


def thin(frame: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """At most ``max_points`` rows: the last row of each of ``max_points`` equal slices."""
    n = len(frame)
    if n <= max_points:
        return frame
    keep = np.unique(np.linspace(0, n - 1, max_points).round().astype(np.int64))
    return frame.iloc[keep]


def nav_frame(rows: np.ndarray[Any, Any]) -> pd.DataFrame:
    """NAV readings ((ts_ns, nav) rows) in time order with the drawdown from the running peak (<= 0)."""
    if len(rows) == 0:
        return pd.DataFrame({"nav": [], "drawdown": []}, index=_index([]))
    ts, nav = rows[:, 0].astype(np.int64), rows[:, 1]
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


def fees_frame(rows: np.ndarray[Any, Any]) -> pd.DataFrame:
    """Cumulative fees and realized PnL over the fills of the window ((ts_ns, fee, realized) rows)."""
    if len(rows) == 0:
        return pd.DataFrame({"fees": [], "realized_pnl": []}, index=_index([]))
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    return pd.DataFrame({"fees": np.cumsum(rows[:, 1]), "realized_pnl": np.cumsum(rows[:, 2])},
                        index=_index(rows[:, 0].astype(np.int64)))


def counts(series: dict[str, np.ndarray[Any, Any]], buckets: int = 60) -> pd.DataFrame:
    """How many timestamps (ns) of each series fall in each of ``buckets`` equal time buckets."""
    present = [ts for ts in series.values() if len(ts)]
    if not present:
        return pd.DataFrame({name: [] for name in series})
    lo, hi = min(float(ts.min()) for ts in present), max(float(ts.max()) for ts in present)
    edges = np.linspace(lo, hi + 1.0, buckets + 1)
    cols = {name: np.histogram(ts, bins=edges)[0] for name, ts in series.items()}
    return pd.DataFrame(cols, index=_index(edges[:-1].astype(np.int64)))
