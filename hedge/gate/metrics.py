"""The gate's Prometheus metrics: decisions, vetoes by gate, idempotent replays, post-trade reports,
bad requests, decision latency, the trading state and the post-trade evidence per strategy x symbol.

Owns: the collector that reads ``GateService``'s counters at scrape time and its registry.

Must never: count anything itself (the service counts; this only renders).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from hedge.events import TradingState
from hedge.gate.service import GateService, edge_out


class GateCollector:
    def __init__(self, service: GateService) -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        s = self.service
        c = CounterMetricFamily("hedge_gate_checks", "pre-trade checks decided, by result", labels=["result"])
        for result in ("allow", "veto"):
            c.add_metric([result], s.decisions[result])
        yield c
        c = CounterMetricFamily("hedge_gate_reasons", "gates that fired in a decision", labels=["reason"])
        for reason, n in sorted(s.reasons.items()):
            c.add_metric([reason], n)
        yield c
        c = CounterMetricFamily("hedge_gate_posttrade", "post-trade reports, by status", labels=["status"])
        for status, n in sorted(s.posttrade.items()):
            c.add_metric([status], n)
        yield c
        yield CounterMetricFamily("hedge_gate_replays", "checks answered from the idempotency cache",
                                  value=s.replays)
        yield CounterMetricFamily("hedge_gate_bad_requests", "requests refused (422, 401, 413)",
                                  value=s.bad_requests)
        h = s.latency
        buckets = [(f"{b:g}" if b != float("inf") else "+Inf", n) for b, n in h.cumulative()]
        yield HistogramMetricFamily("hedge_gate_decision_seconds", "time to decide one check",
                                    buckets=buckets, sum_value=h.sum)
        health = s.health()
        g = GaugeMetricFamily("hedge_gate_trading_state", "1 for the current trading state", labels=["state"])
        for st in TradingState:
            g.add_metric([st.value], 1.0 if st is health.state else 0.0)
        yield g
        yield GaugeMetricFamily("hedge_gate_nav", "the account NAV the gate decides with (USDT)", value=health.nav)
        labels = ["symbol", "strategy"]
        exp = GaugeMetricFamily("hedge_gate_expectancy", "mean realised PnL per reported round trip (window)",
                                labels=labels)
        llr = GaugeMetricFamily("hedge_gate_sprt_llr", "SPRT log-likelihood ratio of the reported outcomes",
                                labels=labels)
        off = GaugeMetricFamily("hedge_gate_no_edge", "1 while the post-trade evidence vetoes new exposure",
                                labels=labels)
        for (symbol, strategy), ev in sorted(s.outcomes.records.items()):
            out = edge_out(symbol, strategy, ev)
            exp.add_metric([symbol, strategy], out.expectancy)
            llr.add_metric([symbol, strategy], out.sprt_llr)
            off.add_metric([symbol, strategy], 1.0 if out.vetoing else 0.0)
        yield exp
        yield llr
        yield off


def build_registry(service: GateService) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GateCollector(service))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return bytes(generate_latest(registry))
