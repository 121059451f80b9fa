"""The Positions panel: the engine's ledger (entry, TP/SL/trailing levels, R) next to the exchange's
positions, with a drift between the two highlighted.

Owns: joining positions_ledger.json and positions_state.json by symbol, R (the move from entry
in units of the initial risk, entry to stop-loss, signed by the position's side; at the
exchange's mark), the drift flag (quantities differ) and the latest ``PositionDrift`` lines of
events.jsonl.

Must never: write, or resolve a drift (the portfolio's reconciliation does; this only shows it).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from hedge.dashboard.lines import EventLine
from hedge.dashboard.source import Run
from hedge.dashboard.widgets import iso, show_freshness, show_problems

TITLE = "Positions"
QTY_TOL = 1e-9


def r_multiple(qty: float, entry: float, sl: float, mark: float) -> float:
    """(mark - entry) / |entry - sl|, signed by the side (NaN without a stop-loss or a mark)."""
    risk = abs(entry - sl)
    if qty == 0 or risk <= 0 or sl <= 0 or mark <= 0:
        return math.nan
    return math.copysign(1.0, qty) * (mark - entry) / risk


def joined(run: Run) -> pd.DataFrame:
    ledger = {r.symbol: r for r in (run.ledger.value.positions if run.ledger.value else [])}
    exchange = {p.symbol: p for p in (run.positions.value.positions if run.positions.value else [])}
    rows: list[dict[str, Any]] = []
    for sym in sorted(ledger.keys() | exchange.keys()):
        led, ex = ledger.get(sym), exchange.get(sym)
        lq, xq = (led.qty if led else 0.0), (ex.qty if ex else 0.0)
        mark = ex.mark_price if ex else 0.0
        rows.append({
            "symbol": sym, "ledger qty": lq, "exchange qty": xq,
            "drift": abs(lq - xq) > QTY_TOL * max(1.0, abs(lq), abs(xq)),
            "strategy": led.strategy if led else "", "entry": led.entry_price if led else math.nan,
            "TP": led.tp_price if led else math.nan, "SL": led.sl_price if led else math.nan,
            "trailing": led.trail_price if led and led.trail_price else math.nan,
            "mark": mark or math.nan, "R": r_multiple(lq, led.entry_price, led.sl_price, mark) if led else math.nan,
            "exchange entry": ex.entry_price if ex else math.nan, "uPnL": ex.unrealized_pnl if ex else 0.0,
            "opened": iso(led.opened_ms * 1_000_000) if led and led.opened_ms else "",
        })
    return pd.DataFrame(rows)


def _highlight(row: pd.Series) -> list[str]:
    style = "background-color: #f8d7da; color: #842029; font-weight: bold" if row["drift"] else ""
    return [style] * len(row)


def render_run(run: Run) -> None:
    show_freshness(run, [run.ledger, run.positions])
    show_problems(run.ledger, run.positions)
    table = joined(run)
    if table.empty:
        st.caption("no position in the ledger or on the exchange")
    else:
        drifts = int(table["drift"].sum())
        if drifts:
            st.error(f"{drifts} symbol(s) where the ledger and the exchange disagree (highlighted)")
        else:
            st.success("ledger and exchange agree on every position")
        st.dataframe(table.style.apply(_highlight, axis=1).format(precision=6, na_rep="-"), hide_index=True)
    if run.positions.value is not None:
        p = run.positions.value
        st.caption(f"exchange: gross {p.gross_notional:,.2f} USDT, net {p.net_notional:+,.2f} USDT")
    drift_lines, _ = run.tail("events").decoded("PositionDrift", EventLine)
    if drift_lines:
        st.markdown("**Drift reported by reconciliation (latest)**")
        st.dataframe(pd.DataFrame([{"time": iso(d.ts_ns), **d.data} for d in reversed(drift_lines[-20:])]),
                     hide_index=True)
