"""The Execution panel: orders and fills over time, recent orders with their outcome, risk vetoes.

Owns: this panel's tables and charts from orders_sent.jsonl (requests), order_updates.jsonl (each
order's last state), fills.jsonl, risk_vetoes.jsonl (the latest vetoes with each reason's
observed value against its limit) and diagnostics.json (vetoes by reason since the start).

Must never: write, or infer an order's outcome from anything but its journaled updates.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hedge.dashboard import series
from hedge.dashboard.lines import RequestLine, UpdateLine, VetoLine
from hedge.dashboard.source import Run
from hedge.dashboard.widgets import bad_lines_note, iso, show_freshness, show_problems

TITLE = "Execution"
RECENT = 30


def _recent_orders(run: Run) -> pd.DataFrame:
    sent, updates = run.tail("orders_sent"), run.tail("order_updates")
    requests, bad = sent.decoded("request", RequestLine)
    bad_lines_note(sent, bad)
    recent = requests[-RECENT:]
    wanted = {r.data.client_order_id for r in recent}
    last: dict[str, UpdateLine] = {}
    ups, bad = updates.decoded("update", UpdateLine)
    bad_lines_note(updates, bad)
    for u in ups:
        if u.data.client_order_id in wanted:
            last[u.data.client_order_id] = u
    rows = []
    for r in reversed(recent):
        d, got = r.data, last.get(r.data.client_order_id)
        rows.append({
            "sent": iso(r.ts_ns), "client order id": d.client_order_id, "symbol": d.symbol, "side": d.side,
            "type": d.type, "tif": d.tif, "qty": d.qty, "price": d.price, "reduce only": d.reduce_only,
            "outcome": got.data.status if got else "(no update yet)",
            "filled": got.data.filled_qty if got else 0.0, "avg price": got.data.avg_price if got else 0.0,
            "reason": got.data.reason if got else "",
        })
    return pd.DataFrame(rows)


def _latest_vetoes(run: Run) -> pd.DataFrame:
    tail = run.tail("risk_vetoes")
    vetoes, bad = tail.decoded("veto", VetoLine)
    bad_lines_note(tail, bad)
    rows = []
    for v in reversed(vetoes[-RECENT:]):
        d = v.data
        checks = "; ".join(
            f"{r}: {d.observed[r]:g} vs limit {d.limits[r]:g}" if r in d.observed and r in d.limits else r
            for r in d.reasons
        )
        rows.append({"time": iso(v.ts_ns), "symbol": d.intent.symbol, "side": d.intent.side,
                     "notional": d.intent.notional, "strategy": d.intent.strategy, "state": d.state,
                     "observed vs limit": checks})
    return pd.DataFrame(rows)


def render_run(run: Run) -> None:
    tails = [run.tail(n) for n in ("orders_sent", "order_updates", "fills", "risk_vetoes")]
    show_freshness(run, [run.diag], tails)
    show_problems(run.diag)
    sent_ts = run.tail("orders_sent").rows("request")[:, 0]
    fill_ts = run.tail("fills").rows("fill")[:, 0]
    st.markdown("**Orders sent and fills over time**")
    if len(sent_ts) or len(fill_ts):
        st.bar_chart(series.counts({"orders": sent_ts, "fills": fill_ts}), height=220, stack=False)
    else:
        st.caption("no orders yet")
    st.markdown(f"**Recent orders (newest {RECENT}) with their outcome**")
    st.dataframe(_recent_orders(run), hide_index=True)
    left, right = st.columns([1, 2])
    left.markdown("**Vetoes by reason (since start)**")
    diag = run.diag.value
    if diag is not None and diag.vetoes:
        left.bar_chart(pd.Series(diag.vetoes, name="vetoes").sort_values(ascending=False), height=220)
        left.caption(f"{diag.decisions_vetoed} vetoed, {diag.decisions_allowed} allowed")
    else:
        left.caption("no veto yet")
    right.markdown("**Latest vetoes: observed value vs limit**")
    right.dataframe(_latest_vetoes(run), hide_index=True)

