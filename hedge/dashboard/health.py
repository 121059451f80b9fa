"""The Health panel: the /health verdict and its reasons, feeds, books, components, the event loop,
alerts (counters and the latest ones).

Owns: this panel's view of diagnostics.json (the same rules as ``GET /health``, computed by the
engine: this only shows its verdict) and of the ``Alert`` lines of events.jsonl.

Must never: write, or judge health itself.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hedge.dashboard.lines import AlertLine
from hedge.dashboard.source import Run
from hedge.dashboard.widgets import bad_lines_note, iso, show_freshness, show_problems

TITLE = "Health"


def render_run(run: Run) -> None:
    events = run.tail("events")
    fresh = show_freshness(run, [run.diag], [events])
    show_problems(run.diag)
    diag = run.diag.value
    if diag is not None:
        if fresh.stale:
            st.warning("health UNKNOWN: diagnostics.json is not being rewritten (engine stopped or stuck); "
                       "below is its last verdict")
        if diag.healthy:
            st.success("/health: OK")
        else:
            st.error("/health: UNHEALTHY - " + ("; ".join(diag.health_reasons) or "no reason given"))
        cols = st.columns(4)
        cols[0].metric("Loop lag (last / max)", f"{diag.loop_lag_ms:.1f} / {diag.loop_lag_ms_max:.1f} ms")
        cols[1].metric("State writes (errors)", f"{diag.state_writes:,} ({diag.state_write_errors})")
        cols[2].metric("Handler errors", f"{sum(diag.handler_errors.values()):,}")
        cols[3].metric("Inbox drops", f"{sum(diag.inbox_dropped.values()):,}")
        st.markdown("**Feeds**")
        st.dataframe(pd.DataFrame([{**{k: getattr(f, k) for k in f.__struct_fields__}, "changed": iso(f.changed_ns)}
                                   for f in diag.feeds]), hide_index=True)
        st.markdown("**Books**")
        st.dataframe(pd.DataFrame([{**{k: getattr(b, k) for k in b.__struct_fields__}, "changed": iso(b.changed_ns)}
                                   for b in diag.books]), hide_index=True)
        if diag.components:
            st.markdown("**Components**")
            st.dataframe(pd.DataFrame([{"component": c.component, "ok": c.ok, "detail": c.detail,
                                        "beat": iso(c.beat_ns)} for c in diag.components]), hide_index=True)
        a = diag.alerts
        st.markdown(f"**Alerts**: raised {a.raised}, sent {a.sent}, failed {a.failed}, dropped {a.dropped}, "
                    f"deduplicated {a.deduplicated}")
    alerts, bad = events.decoded("Alert", AlertLine)
    bad_lines_note(events, bad)
    if alerts:
        st.dataframe(pd.DataFrame([{"time": iso(x.ts_ns), "severity": x.data.severity, "title": x.data.title,
                                    "text": x.data.text} for x in reversed(alerts[-50:])]), hide_index=True)
    else:
        st.caption("no alert in events.jsonl")
