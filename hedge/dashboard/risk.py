"""The Risk panel: trading state and why, drawdowns, VaR/CVaR and exposure against their limits,
each symbol's exposure against its tier cap, correlation-group use, and the kill switch.

Owns: this panel's figures from risk_snapshot.json and positions_state.json, set against the
limits of the configuration (``Limits``: the state files do not carry limits), the kill flag
file and the latest ``KillSwitch`` / ``TradingStateChange`` lines of events.jsonl.

Must never: write (the kill switch is engaged or cleared by ``hedge kill``, never from here), or
decide anything: "use" is the figure divided by its limit, nothing more.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hedge.dashboard.lines import EventLine
from hedge.dashboard.source import Limits, Run
from hedge.dashboard.widgets import iso, pct, show_freshness, show_problems

TITLE = "Risk"
STATE_COLOUR = {"ACTIVE": "green", "REDUCING": "orange", "HALTED": "red"}


def _use(value: float, limit: float) -> float | None:
    return abs(value) / limit if limit > 0 else None


def _limits_table(run: Run, limits: Limits) -> pd.DataFrame:
    risk, cfg = run.risk.value, limits.cfg.risk
    assert risk is not None
    rows = [
        ("drawdown", risk.drawdown, cfg.portfolio_dd_limit),
        ("daily drawdown", risk.daily_drawdown, cfg.daily_dd_limit),
        ("VaR", risk.var, cfg.cvar_limit),
        ("CVaR", risk.cvar, cfg.cvar_limit),
        ("gross exposure (x NAV)", risk.gross_exposure, cfg.gross_exposure_max),
        ("net exposure (x NAV)", risk.net_exposure, cfg.net_exposure_max),
        ("open orders", float(risk.open_orders), float(cfg.max_open_orders)),
    ]
    return pd.DataFrame([{"measure": m, "value": v, "limit": lim, "use": _use(v, lim)} for m, v, lim in rows])


def _symbols_table(run: Run, limits: Limits) -> tuple[pd.DataFrame, pd.DataFrame]:
    pos = run.positions.value
    nav = run.risk.value.nav if run.risk.value else (run.nav.value.nav if run.nav.value else 0.0)
    rows: list[dict[str, object]] = []
    groups: dict[str, float] = {}
    for p in pos.positions if pos is not None else []:
        tier, group, cap = limits.symbol_cap(p.symbol)
        exposure = abs(p.notional) / nav if nav > 0 else 0.0
        rows.append({"symbol": p.symbol, "tier": tier, "group": group, "notional": p.notional,
                     "exposure (x NAV)": exposure, "tier cap": cap, "use": _use(exposure, cap)})
        if group:
            groups[group] = groups.get(group, 0.0) + exposure
    group_rows = [{"group": g, "exposure (x NAV)": e, "cap": limits.group_cap(g), "use": _use(e, limits.group_cap(g))}
                  for g, e in sorted(groups.items())]
    return pd.DataFrame(rows), pd.DataFrame(group_rows)


def _kill_switch(run: Run) -> None:
    events, _ = run.tail("events").decoded("KillSwitch", EventLine)
    flag = run.kill.value
    if flag is not None:
        reason = flag.get("reason", "") if isinstance(flag, dict) else str(flag)
        st.error(f"Kill switch ENGAGED: flag `{run.kill.path}` is present ({reason}); the daemon is HALTED. "
                 "Clear it with `hedge kill --clear` after stopping the daemon.")
    else:
        st.success(f"Kill switch: not engaged (no flag file at `{run.kill.path}`)")
    if events:
        last = events[-1]
        st.caption(f"last KillSwitch event {iso(last.ts_ns)}: engaged={last.data.get('engaged')} "
                   f"{last.data.get('reason', '')}")


def render_run(run: Run) -> None:
    limits = run.limits
    show_freshness(run, [run.risk, run.positions])
    show_problems(run.risk, run.positions)
    if limits.problem:
        st.warning(limits.problem)
    risk = run.risk.value
    if risk is not None:
        colour = STATE_COLOUR.get(risk.trading_state, "gray")
        st.markdown(f"#### Trading state: :{colour}[{risk.trading_state}]"
                    + (f" - {risk.reason}" if risk.reason else ""))
        if risk.state_changed_ns:
            st.caption(f"since {iso(risk.state_changed_ns)}")
        lim = limits.cfg.risk
        cols = st.columns(4)
        cols[0].metric(f"Drawdown (limit {pct(lim.portfolio_dd_limit)})", pct(risk.drawdown))
        cols[1].metric(f"Daily drawdown (limit {pct(lim.daily_dd_limit)})", pct(risk.daily_drawdown))
        cols[2].metric(f"VaR / CVaR (limit {pct(lim.cvar_limit)})", f"{pct(risk.var)} / {pct(risk.cvar)}")
        cols[3].metric(f"Gross / net exposure (limits {lim.gross_exposure_max:g}x / {lim.net_exposure_max:g}x)",
                       f"{risk.gross_exposure:.3f}x / {risk.net_exposure:+.3f}x")
        table = _limits_table(run, limits)
        st.markdown("**Use of each limit (value / limit)**")
        st.bar_chart(table.set_index("measure")[["use"]], height=200, horizontal=True)
    _kill_switch(run)
    symbols, groups = _symbols_table(run, limits)
    st.markdown("**Per-symbol exposure vs its tier cap**")
    if symbols.empty:
        st.caption("no open position")
    else:
        st.dataframe(symbols, hide_index=True)
    st.markdown("**Correlation groups**")
    if not groups.empty:
        st.dataframe(groups, hide_index=True)
    changes, _ = run.tail("events").decoded("TradingStateChange", EventLine)
    if changes:
        st.markdown("**Trading state changes (latest)**")
        st.dataframe(pd.DataFrame([{"time": iso(c.ts_ns), **c.data} for c in reversed(changes[-20:])]),
                     hide_index=True)
