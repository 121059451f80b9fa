"""The Firestore sync's figures in /metrics: ``hedge_firestore_*`` (served whether the sync runs or not).

Owns: turning ``SyncStats`` into Prometheus families: writes, commits, failures, unchanged reads,
superseded and dropped pending writes (counters), the queue depth, the last sync latency, the time
of the last successful commit and whether the sync is enabled (gauges).
deploy/prometheus/alerts.yml alerts on ``hedge_firestore_failures_total``.

Must never: touch Firestore or the sync's queue (it only reads the counters).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from hedge.state.firestore.service import SyncStats
from hedge.state.prometheus import PREFIX


class FirestoreCollector:
    def __init__(self, stats: SyncStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        st = self.stats
        for name, doc, value in (
            ("writes", "Documents written to Firestore", st.writes),
            ("commits", "Firestore batches committed", st.commits),
            ("failures", "Firestore commits that failed (retried with backoff)", st.failures),
            ("unchanged", "State files read whose content Firestore already holds (not rewritten)", st.unchanged),
            ("superseded", "Pending Firestore writes replaced by newer content", st.superseded),
            ("dropped", "Pending Firestore writes dropped (queue full)", st.dropped),
        ):
            yield CounterMetricFamily(f"{PREFIX}_firestore_{name}", doc, value=value)
        for name, doc, level in (
            ("enabled", "1 when the Firestore sync runs", 1.0 if st.enabled else 0.0),
            ("queue_depth", "Documents waiting to be written to Firestore", float(st.queue_depth)),
            ("latency_seconds", "Last committed state: state file written -> Firestore commit done", st.latency_s),
            ("last_success_timestamp_seconds", "Time of the last successful Firestore commit (0 = none)",
             st.last_success_ns / 1e9),
        ):
            yield GaugeMetricFamily(f"{PREFIX}_firestore_{name}", doc, value=level)
