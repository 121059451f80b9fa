"""Operator surfaces: the JSONL journal, atomic state files and their manifest, Prometheus
metrics, /health and alerts. Must never: make a trading decision.
"""
