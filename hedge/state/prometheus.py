"""Prometheus exposition of ``Telemetry`` and ``StateModel``, in a private registry per engine.

Owns: metric names, types, labels and help texts (listed in the README's Observability section).

Design: a custom collector that reads the plain counters and histograms of ``Telemetry`` (and the
bus's own publish counts) only when Prometheus scrapes, so the hot path never calls
prometheus-client. Each engine gets its own ``CollectorRegistry`` (never the global one), so
several engines — and tests — can run in one process.

Must never: export a label value that could carry a secret (labels are event types, symbols,
connection names, veto reasons and order outcomes), or mutate what it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from hedge.bus import Bus
from hedge.events import BookState, Nav, TradingState
from hedge.state import schemas as s
from hedge.state.health import HealthMonitor
from hedge.state.histogram import Histogram
from hedge.state.surfaces import StateModel
from hedge.state.telemetry import Telemetry

PREFIX = "hedge"
TRADING_STATE_CODE = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def _counter(name: str, doc: str, label: str, values: Mapping[str, int]) -> CounterMetricFamily:
    fam = CounterMetricFamily(f"{PREFIX}_{name}", doc, labels=[label])
    for k, v in sorted(values.items()):
        fam.add_metric([k], v)
    return fam


def _plain_counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", doc, value=value)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=value)


def buckets(h: Histogram) -> list[tuple[str, int]]:
    """``h``'s cumulative buckets as Prometheus wants them (``le`` label, count)."""
    return [("+Inf" if b == float("inf") else repr(b), n) for b, n in h.cumulative()]


def _histogram(name: str, doc: str, h: Histogram) -> HistogramMetricFamily:
    fam = HistogramMetricFamily(f"{PREFIX}_{name}", doc)
    fam.add_metric([], buckets(h), sum_value=h.sum)
    return fam


class HedgeCollector:
    def __init__(
        self,
        telemetry: Telemetry,
        model: StateModel,
        health: HealthMonitor,
        bus: Bus,
        alert_stats: Callable[[], s.AlertStats],
    ) -> None:
        self.t = telemetry
        self.model = model
        self.health = health
        self.bus = bus
        self.alert_stats = alert_stats

    def collect(self) -> Iterator[Metric]:
        t, m = self.t, self.model
        stats = self.bus.stats()
        yield _counter("messages", "Events published on the bus, by type", "type", stats.published)
        yield _counter("parse_errors", "Frames that failed to decode, by connection", "connection", t.parse_errors())
        yield _counter("gaps", "Depth update-id gaps, by connection", "connection", t.gaps())
        yield _counter("feed_handler_errors", "Market frames whose handling raised, by connection", "connection",
                       t.feed_handler_errors())
        yield _counter("resyncs", "Order book resyncs, by symbol", "symbol", t.resyncs())
        yield _counter("reconnects", "Websocket reconnects, by connection", "connection", t.reconnects())
        yield _counter("vetoes", "Orders vetoed by the risk gate, by reason", "reason", t.vetoes)
        yield _plain_counter("risk_approvals", "Orders approved by the risk gate", t.allowed)
        yield _counter("orders", "Order updates by outcome", "outcome", t.orders_by_outcome)
        yield _plain_counter("order_requests", "Order requests sent to the venue", t.requests_sent)
        yield _counter("rate_limits", "Venue throttling (429) and bans (418)", "status",
                       {"429": t.throttled_429, "418": t.banned_418})
        a = self.alert_stats()
        yield _counter("alerts", "Alerts by result", "result", {
            "raised": a.raised, "sent": a.sent, "failed": a.failed, "dropped": a.dropped,
            "deduplicated": a.deduplicated,
        })
        yield _plain_counter("state_writes", "State files written", m.write_stats.writes)
        yield _plain_counter("state_write_errors", "State file writes that failed", m.write_stats.errors)
        yield _counter("bus_handler_errors", "Bus subscribers that raised", "handler", stats.handler_errors)
        yield _counter("bus_inbox_dropped", "Events dropped or overflowed in stage inboxes", "inbox",
                       {i.name: i.dropped + i.overflow for i in stats.inboxes})
        depths: dict[str, int] = {}
        for i in stats.inboxes:
            depths[i.name] = depths.get(i.name, 0) + i.depth
        depth = GaugeMetricFamily(f"{PREFIX}_bus_inbox_depth", "Events waiting in stage inboxes", labels=["inbox"])
        for name, n in sorted(depths.items()):
            depth.add_metric([name], n)
        yield depth

        yield _histogram("tick_to_decision_seconds", "Tick receipt to order intent", t.tick_to_decision)
        yield _histogram("decision_to_send_seconds", "Order intent to order request sent", t.decision_to_send)
        yield _histogram("order_ack_seconds", "Order request sent to the venue's first answer", t.order_ack)
        yield _histogram("feed_lag_seconds", "Local receive time minus exchange event time", t.feed_lag)
        yield _histogram("event_loop_lag_seconds", "Event-loop scheduling lag", t.loop_lag)

        nav = m.nav
        risk = m.risk
        yield _gauge("nav_usdt", "Futures-wallet NAV (USDT)", nav.nav if nav else 0.0)
        yield _gauge("peak_nav_usdt", "NAV high-water mark (USDT)", m.peak_nav)
        last_nav = t.last_seen_ns.get(Nav)
        yield _gauge("nav_age_seconds", "Age of the last NAV reading (-1 = none)",
                     (t.clock.now_ns() - last_nav) * 1e-9 if last_nav else -1.0)
        yield _gauge("drawdown", "Drawdown from the NAV high-water mark (fraction)", risk.drawdown if risk else 0.0)
        yield _gauge("daily_drawdown", "Drawdown from the day's opening NAV (fraction)",
                     risk.daily_drawdown if risk else 0.0)
        yield _gauge("gross_exposure", "Gross exposure (x NAV)", risk.gross_exposure if risk else 0.0)
        yield _gauge("net_exposure", "Net exposure (x NAV)", risk.net_exposure if risk else 0.0)
        yield _gauge("trading_state", "Trading state: 0 ACTIVE, 1 REDUCING, 2 HALTED",
                     TRADING_STATE_CODE[m.trading_state])
        yield _gauge("event_loop_lag_last_seconds", "Last event-loop lag probe", t.loop_lag_last_s)
        report = self.health.evaluate()
        yield _gauge("healthy", "1 when /health answers 200", 1.0 if report.ok else 0.0)
        feeds = GaugeMetricFamily(f"{PREFIX}_feed_connected", "1 while a connection is up", labels=["connection"])
        for conn, st in sorted(t.feed_status.items()):
            feeds.add_metric([conn], 1.0 if st.connected else 0.0)
        yield feeds
        now = t.clock.now_ns()
        ages = GaugeMetricFamily(f"{PREFIX}_feed_age_seconds", "Seconds since a symbol's last market data",
                                 labels=["symbol"])
        for sym, last in sorted(t.last_data_ns.items()):
            ages.add_metric([sym], max(0.0, (now - last) * 1e-9))
        yield ages
        books = GaugeMetricFamily(f"{PREFIX}_book_valid", "1 while a book is VALID", labels=["symbol"])
        for sym, bs in sorted(t.books.items()):
            books.add_metric([sym], 1.0 if bs.state is BookState.VALID else 0.0)
        yield books
        flags = GaugeMetricFamily(f"{PREFIX}_feature_enabled", "1 when a feature flag (runtime.features) is on",
                                  labels=["flag"])
        for flag, on in m.features.items():
            flags.add_metric([flag], 1.0 if on else 0.0)
        yield flags


def build_registry(collector: HedgeCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    out: bytes = generate_latest(registry)
    return out
