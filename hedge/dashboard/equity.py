"""The Equity panel: NAV curve, drawdown, daily PnL and fees, and runs compared side by side.

Owns: where the NAV history comes from - the ``Nav`` lines of events.jsonl (and its rotated
backups) within the tail's window (``lines.TAILS``: the newest 64 MB, read once and then
incrementally; the panel says from when the window starts) - and the charts and figures of this
panel. Fees and realized PnL over time come from fills.jsonl; totals from kpis.json.

Must never: write, or compute a figure the engine publishes (totals are the state files').
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hedge.dashboard import series
from hedge.dashboard.source import Run
from hedge.dashboard.widgets import bad_lines_note, iso, pct, show_freshness, show_problems

TITLE = "Equity"


def _nav(run: Run) -> pd.DataFrame:
    return series.nav_frame(run.tail("events").rows("Nav"))


def render_run(run: Run) -> None:
    # the headline figures come from the state files: drawn before the journals are read (the page shows
    # them while the tails refresh); the freshness line above them is filled in once the tails are read
    head = st.container()
    nav, kpis = run.nav.value, run.kpis.value
    cols = st.columns(5)
    if nav is not None:
        cols[0].metric("NAV (USDT)", f"{nav.nav:,.2f}")
        cols[1].metric("Peak NAV", f"{nav.peak_nav:,.2f}")
    if kpis is not None:
        cols[3].metric("Total PnL", f"{kpis.total_pnl:+,.2f}")
        cols[4].metric("Fees", f"{kpis.fees:,.2f}")
    events, fills = run.tail("events"), run.tail("fills")
    with head:
        show_freshness(run, [run.nav, run.kpis], [events, fills])
        show_problems(run.nav, run.kpis)
        bad_lines_note(events, events.bad_lines)
        bad_lines_note(fills, fills.bad_lines)
    curve = _nav(run)
    if not curve.empty:
        cols[2].metric("Max drawdown (window)", pct(-float(curve["drawdown"].min())))
    if curve.empty:
        st.info(f"no NAV readings in `{events.path}` yet (its Nav lines are the NAV history)")
        return
    st.caption(f"NAV history: {len(curve):,} Nav lines of events.jsonl from {iso(int(curve.index[0].value))} "
               f"to {iso(int(curve.index[-1].value))} (the newest {events.budget // 2**20} MB of the journal)")
    thin = series.thin(curve)
    left, right = st.columns(2)
    left.markdown("**NAV (USDT)**")
    left.line_chart(thin[["nav"]], height=240)
    right.markdown("**Drawdown from peak**")
    right.area_chart(thin[["drawdown"]], height=240, color="#d62728")
    left, right = st.columns(2)
    left.markdown("**Daily PnL (USDT, UTC days)**")
    left.bar_chart(series.daily_pnl(curve), height=220)
    fill_rows = fills.rows("fill")
    right.markdown("**Fees and realized PnL, cumulative (fills.jsonl window)**")
    if len(fill_rows):
        right.line_chart(series.thin(series.fees_frame(fill_rows)), height=220)
    else:
        right.caption("no fills yet")


def compare(runs: list[Run]) -> None:
    """NAV of every run against the time since its first reading, and their totals in one table."""
    curves = {}
    rows = []
    for run in runs:
        curve = _nav(run)
        kpis = run.kpis.value
        if not curve.empty:
            hours = (curve.index - curve.index[0]).total_seconds() / 3600.0
            curves[run.label] = pd.Series(curve["nav"].to_numpy(), index=hours)
        rows.append({
            "run": run.label,
            "end NAV": run.nav.value.nav if run.nav.value else None,
            "total PnL": kpis.total_pnl if kpis else None,
            "fees": kpis.fees if kpis else None,
            "fills": kpis.fills if kpis else None,
            "maker ratio": kpis.maker_ratio if kpis else None,
            "max drawdown": -float(curve["drawdown"].min()) if not curve.empty else None,
        })
    st.subheader("Runs compared")
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    if curves:
        both = pd.concat([series.thin(c.to_frame(name)) for name, c in curves.items()], axis=1).sort_index()
        both.index.name = "hours since first reading"
        st.line_chart(both.interpolate(limit_area="inside"), height=260)

