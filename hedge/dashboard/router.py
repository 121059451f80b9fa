"""The Router health panel: maker share, slippage and shortfall, ack latency, fallbacks, order
outcomes, each symbol's execution quality, and the TCA report when a log dir has one.

Owns: this panel's figures from router_health.json and kpis.json, the per-execution slippage,
fill rate and fallbacks of orders_success.jsonl / orders_failed.jsonl, each symbol's quality score,
liquidity bucket, fill rate and TWAP use (router_health.json), and the TCA output (``tca.json``
and ``*.png`` charts in the log dir or its ``tca/`` folder) when present.

Must never: write, or recompute a figure router_health.json publishes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from hedge.dashboard import series
from hedge.dashboard.readers import read_json
from hedge.dashboard.source import Run
from hedge.dashboard.widgets import bad_lines_note, pct, show_freshness, show_problems

TITLE = "Router health"


def _executions(run: Run) -> pd.DataFrame:
    """Every execution report of the window, both journals, in time order."""
    parts = []
    for name in ("orders_success", "orders_failed"):
        tail = run.tail(name)
        bad_lines_note(tail, tail.bad_lines)
        parts.append(tail.rows("execution"))
    rows = np.concatenate([p for p in parts if p.shape[1] == 4] or [np.empty((0, 4))])
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    frame = pd.DataFrame({"slippage (bps)": rows[:, 1], "unfilled (fraction)": rows[:, 2], "fell back": rows[:, 3] > 0},
                         index=pd.to_datetime(rows[:, 0].astype(np.int64), unit="ns", utc=True))
    frame.index.name = "time"
    return frame


def _symbols(run: Run) -> pd.DataFrame:
    health = run.router.value
    assert health is not None
    rows = []
    for r in health.symbols:
        row = {"symbol": r.symbol, "quality score": r.quality, "liquidity": r.liquidity, "executions": r.executions,
               "fill rate": r.fill_rate, "TWAP executions": r.twap_executions, "orders": r.orders,
               "maker fill ratio": r.maker_fill_ratio, "fallback rate": r.fallback_rate,
               "reject rate": r.reject_rate, "slippage (bps)": r.slippage_bps, "ack p50 (ms)": r.ack_p50_ms,
               "ack p95 (ms)": r.ack_p95_ms, "denied": r.denied, "unknown": r.unknown}
        rows.append(row)
    return pd.DataFrame(rows)


def _tca(run: Run) -> None:
    folder = run.log_dir / "tca"
    report = read_json(folder / "tca.json") if (folder / "tca.json").exists() else read_json(run.log_dir / "tca.json")
    charts = sorted(Path(p) for d in (run.log_dir, folder) if d.is_dir() for p in d.glob("*.png"))
    if report.value is None and not charts:
        st.caption("no TCA report in this log dir (tca.json / tca/*.png)")
        return
    st.markdown("**Transaction-cost analysis**")
    if report.value is not None:
        st.json(report.value, expanded=False)
    elif report.problem and report.path.exists():
        st.warning(f"`{report.path}`: {report.problem}")
    for chart in charts:
        st.image(str(chart), caption=chart.name)


def render_run(run: Run) -> None:
    tails = [run.tail("orders_success"), run.tail("orders_failed")]
    show_freshness(run, [run.router, run.kpis], tails)
    show_problems(run.router, run.kpis)
    health, kpis = run.router.value, run.kpis.value
    if health is not None:
        cols = st.columns(5)
        if kpis is not None:
            cols[0].metric("Maker share (fills)", pct(kpis.maker_ratio))
        cols[1].metric("Ack latency p50 / p99", f"{health.ack_latency_ms_p50:.2f} / {health.ack_latency_ms_p99:.2f} ms")
        cols[2].metric("Requests sent", f"{health.requests_sent:,}")
        cols[3].metric("429 / 418", f"{health.throttled_429} / {health.banned_418}")
        banned = health.banned_until_ms * 1_000_000 > run.now_ns
        cols[4].metric("Venue", "BANNED (418)" if banned else "open")
        st.markdown("**Per-symbol execution quality**")
        st.dataframe(_symbols(run), hide_index=True)
        if health.orders_by_outcome:
            st.markdown("**Orders by outcome**")
            st.bar_chart(pd.Series(health.orders_by_outcome, name="orders"), height=200)
    execs = _executions(run)
    if execs.empty:
        st.caption("no execution yet")
    else:
        st.markdown(f"**Executions: slippage vs arrival mid and unfilled rest (shortfall); "
                    f"{int(execs['fell back'].sum())} of {len(execs)} fell back to taker**")
        st.line_chart(series.thin(execs[["slippage (bps)", "unfilled (fraction)"]]), height=220)
    _tca(run)
