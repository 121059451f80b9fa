"""The engine's own surfaces: router health, the shadow's report, diagnostics (feeds, books, components, bus,
alerts, writes, flags).

Owns: turning ``Telemetry``'s counters, the ``HealthMonitor``'s verdict, the bus's statistics,
the alert dispatcher's and the publisher's counts into ``router_health`` and ``diagnostics``;
the router autotune's latest window into ``router_autotune``;
``WriteStats``, the publisher's count of state-file writes and failures.

Must never: do I/O, or change a counter (it only reads them).
"""

from __future__ import annotations

from hedge.bus import Bus
from hedge.events import RouterAutotune, RouterHealth, ShadowReport
from hedge.state import schemas as s
from hedge.state.health import HealthMonitor
from hedge.state.mirror import mirror
from hedge.state.telemetry import Telemetry


class WriteStats:
    def __init__(self) -> None:
        self.writes = 0
        self.errors = 0


def router_health(
    t: Telemetry, router: dict[str, RouterHealth], banned_until_ms: int
) -> s.RouterHealthState:
    return s.RouterHealthState(
        symbols=[mirror(s.RouterSymbolRow, r) for _, r in sorted(router.items())],
        banned_until_ms=banned_until_ms,
        requests_sent=t.requests_sent,
        orders_by_outcome=dict(sorted(t.orders_by_outcome.items())),
        ack_latency_ms_p50=t.order_ack.quantile(0.5) * 1e3,
        ack_latency_ms_p99=t.order_ack.quantile(0.99) * 1e3,
        throttled_429=t.throttled_429,
        banned_418=t.banned_418,
    )


def router_autotune(ev: RouterAutotune | None) -> s.RouterAutotuneState:
    return s.RouterAutotuneState() if ev is None else mirror(s.RouterAutotuneState, ev)


def shadow_state(r: ShadowReport | None) -> s.ShadowState:
    """The shadow pipeline's latest report (``enabled`` False until one arrives: the feature is off)."""
    if r is None:
        return s.ShadowState()
    return mirror(s.ShadowState, r, enabled=True, report_ns=r.recv_ns)


def diagnostics(
    t: Telemetry, health: HealthMonitor, bus: Bus, alerts: s.AlertStats, writes: WriteStats,
    features: dict[str, bool] | None = None,
) -> s.Diagnostics:
    now = t.clock.now_ns()
    stats = bus.stats()
    report = health.evaluate(now)
    feeds: dict[str, s.FeedRow] = {}
    for conn in sorted(set(t.feed_status) | set(t.feed_stats)):
        st, fs = t.feed_status.get(conn), t.feed_stats.get(conn)
        feeds[conn] = s.FeedRow(
            connection=conn,
            connected=st.connected if st is not None else True,
            reason=st.reason if st is not None else "",
            reconnects=max(st.reconnects if st else 0, fs.reconnects if fs else 0),
            messages=fs.messages if fs is not None else 0,
            parse_errors=fs.parse_errors if fs is not None else 0,
            gaps=fs.gaps if fs is not None else 0,
            changed_ns=t.feed_status_ns.get(conn, 0),
        )
    books = [
        s.BookRow(
            symbol=sym,
            state=t.books[sym].state.value if sym in t.books else "UNKNOWN",
            reason=t.books[sym].reason if sym in t.books else "",
            resyncs=t.books[sym].resyncs if sym in t.books else 0,
            changed_ns=t.books_ns.get(sym, 0),
            last_data_age_s=round((now - t.last_data_ns[sym]) * 1e-9, 3) if sym in t.last_data_ns else -1.0,
        )
        for sym in sorted(set(t.books) | set(t.last_data_ns))
    ]
    recent, recent_s = t.veto_window.recent(now)
    return s.Diagnostics(
        vetoes=dict(sorted(t.vetoes.items())),
        vetoes_recent=recent,
        vetoes_recent_s=recent_s,
        decisions_allowed=t.allowed,
        decisions_vetoed=t.vetoed,
        exits=s.ExitPipeline(
            intents=t.exit_intents,
            by_reason=dict(sorted(t.exit_by_reason.items())),
            orders_sent=t.exit_orders_sent,
            fills=t.exit_fills,
        ),
        feeds=list(feeds.values()),
        books=books,
        components=[
            s.ComponentRow(component=c, ok=hb.ok, detail=hb.detail, beat_ns=hb.recv_ns)
            for c, hb in sorted(t.components.items())
        ],
        last_event_age_s=dict(sorted(t.last_event_ages_s(now).items())),
        messages=dict(sorted(stats.published.items())),
        handler_errors=dict(sorted(stats.handler_errors.items())),
        inbox_dropped={i.name: i.dropped + i.overflow for i in stats.inboxes},
        alerts=alerts,
        loop_lag_ms=t.loop_lag_last_s * 1e3,
        loop_lag_ms_max=t.loop_lag_max_s * 1e3,
        state_writes=writes.writes,
        state_write_errors=writes.errors,
        healthy=report.ok,
        health_reasons=list(report.reasons),
        features=dict(features or {}),
    )
