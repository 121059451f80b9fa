"""Operator surfaces: the JSONL journal, atomic state files and their manifest, Prometheus
metrics, /health and alerts.

Owns: everything the engine writes for people and tools to read: ``journal`` the append-only
logs, ``atomic``/``coalesced``/``manifest``/``publisher``/``schemas`` the state files,
``prometheus``/``telemetry``/``observability``/``histogram``/``looplag`` the metrics,
``health``/``server`` the HTTP endpoints, ``status_view`` what ``hedge status`` shows,
``masking`` of secrets, ``alerts``.

Must never: make a trading decision.
"""
