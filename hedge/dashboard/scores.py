"""The Scores and factors panel: symbol and hybrid scores, each strategy's record, the SPRT state,
the calibration curve, and factor diagnostics when a log dir has them.

Owns: this panel's tables from symbol_scores.json and hybrid_scores.json, the SPRT's position
between its bounds (from the configuration's ``scores.sprt_*``), the calibrator's curve
``p = 1 / (1 + exp(-(a + b |score|)))`` (from the configuration, as ``hedge calibrate`` wrote it),
and a generic view of ``factor_diagnostics.json`` (tables of its lists, charts of its number maps)
when it exists.

Must never: write, or score anything itself.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from hedge.dashboard.source import Run
from hedge.dashboard.widgets import show_freshness, show_problems

TITLE = "Scores and factors"
FACTORS_FILE = "factor_diagnostics.json"


def sprt_bounds(alpha: float, beta: float) -> tuple[float, float]:
    """(lower, upper) of Wald's SPRT: at or below lower = no edge (disabled), at or above upper = edge."""
    return math.log(beta / (1.0 - alpha)), math.log((1.0 - beta) / alpha)


def sprt_verdict(llr: float, enabled: bool, lower: float, upper: float) -> str:
    if not enabled or llr <= lower:
        return "no edge (disabled)"
    return "edge" if llr >= upper else "testing"


def calibration_curve(a: float, b: float, points: int = 51) -> pd.DataFrame:
    score = np.linspace(0.0, 1.0, points)
    frame = pd.DataFrame({"p(TP before SL)": 1.0 / (1.0 + np.exp(-(a + b * score)))}, index=score)
    frame.index.name = "|score|"
    return frame


def _factors(run: Run) -> None:
    got = run.optional(FACTORS_FILE)
    if got.value is None:
        if got.path.exists():
            st.warning(f"`{got.path}`: {got.problem}")
        else:
            st.caption(f"no {FACTORS_FILE} in this log dir (factor diagnostics are off or not in this engine)")
        return
    st.markdown("**Factor diagnostics**")
    if not isinstance(got.value, dict):
        st.warning(f"`{got.path}`: not a JSON object")
        return
    for key, value in got.value.items():
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            st.markdown(f"*{key}*")
            st.dataframe(pd.DataFrame(value), hide_index=True)
        elif isinstance(value, dict) and value and all(isinstance(x, int | float) for x in value.values()):
            st.markdown(f"*{key}*")
            st.bar_chart(pd.Series(value, name=key), height=180)


def _scores_table(rows: list[Any], lower: float, upper: float) -> pd.DataFrame:
    return pd.DataFrame([{
        "symbol": r.symbol, **({"strategy": r.strategy} if hasattr(r, "strategy") else {}),
        "hybrid score": r.hybrid_score, "symbol score": r.symbol_score, "expectancy (bps)": r.expectancy_bps,
        "trades": r.trades, "SPRT llr": r.sprt_llr, "SPRT": sprt_verdict(r.sprt_llr, r.enabled, lower, upper),
    } for r in rows])


def render_run(run: Run) -> None:
    show_freshness(run, [run.scores, run.hybrid])
    show_problems(run.scores, run.hybrid)
    params = run.limits.cfg.strategy
    lower, upper = sprt_bounds(params.scores.sprt_alpha, params.scores.sprt_beta)
    scores, hybrid = run.scores.value, run.hybrid.value
    if hybrid is not None and hybrid.ranking:
        st.markdown("**Hybrid ranking**")
        st.dataframe(pd.DataFrame([{"rank": r.rank, "symbol": r.symbol, "hybrid score": r.hybrid_score,
                                    "symbol score": r.symbol_score, "enabled": r.enabled,
                                    **{f"signal {k}": v for k, v in r.signals.items()}} for r in hybrid.ranking]),
                     hide_index=True)
    if scores is not None:
        st.markdown(f"**Symbol scores** (SPRT bounds: no edge <= {lower:.2f}, edge >= {upper:.2f})")
        st.dataframe(_scores_table(scores.symbols, lower, upper), hide_index=True)
        if scores.strategies:
            st.markdown("**Each strategy on each symbol**")
            st.dataframe(_scores_table(scores.strategies, lower, upper), hide_index=True)
    cal = params.calibrator
    held_out = (f"; held out: {cal.validation_samples} samples, Brier {cal.brier:.3f}, ECE {cal.ece:.3f}"
                if cal.validation_samples else "")
    st.markdown(f"**Calibration curve** (a={cal.a:g}, b={cal.b:g}, horizon {params.exits.horizon_s:g} s"
                + (f", fitted on {cal.samples} samples up to {cal.data_to or '?'}{held_out}" if cal.samples
                   else ", not fitted: defaults") + ")")
    st.line_chart(calibration_curve(cal.a, cal.b), height=200)
    _factors(run)
