"""deploy/prometheus: promtool accepts the configuration and the rules, its unit tests of every
alert rule pass, every rule is unit-tested, the drawdown thresholds follow the configuration, and
every metric the rules (and the Grafana dashboard) name is served by a real daemon's /metrics."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.integration.test_daemon_e2e import free_port, get
from tests.kit.config import repo_config
from tests.kit.wait import wait_for_sync

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
PROM = DEPLOY / "prometheus"
DASHBOARDS = sorted((DEPLOY / "grafana").rglob("*.json")) if (DEPLOY / "grafana").is_dir() else []
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool missing: apt-get install prometheus (.ci/run does)")
METRIC = re.compile(r"\bhedge_[a-z0-9_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def rules() -> list[dict[str, object]]:
    doc = yaml.safe_load((PROM / "alerts.yml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def promtool(*args: str) -> str:
    assert PROMTOOL is not None
    r = subprocess.run([PROMTOOL, *args], cwd=PROM, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@needs_promtool
def test_promtool_checks_and_unit_tests_pass(tmp_path: Path) -> None:
    assert "SUCCESS" in promtool("check", "config", "prometheus.yml")
    # compose.yml reads the gate's token from a Docker secret; promtool wants the file: one in its place
    token = tmp_path / "gate_token"
    token.write_text("t")
    compose = PROM / f".compose-check-{os.getpid()}.yml"
    compose.write_text((PROM / "compose.yml").read_text().replace("/run/secrets/gate_token", str(token)))
    try:
        assert "SUCCESS" in promtool("check", "config", compose.name)
    finally:
        compose.unlink()
    assert f"SUCCESS: {len(rules())} rules found" in promtool("check", "rules", "alerts.yml")
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


def test_every_rule_is_unit_tested_firing_and_not_firing() -> None:
    tests = yaml.safe_load((PROM / "alerts_test.yml").read_text())["tests"]
    cases = [c for t in tests for c in t["alert_rule_test"]]
    for rule in rules():
        name = rule["alert"]
        assert any(c["alertname"] == name and c["exp_alerts"] for c in cases), f"{name}: never tested firing"
        assert any(c["alertname"] == name and not c["exp_alerts"] for c in cases), f"{name}: never tested quiet"


def test_thresholds_follow_the_configuration() -> None:
    cfg = repo_config()
    by_name = {r["alert"]: str(r["expr"]) for r in rules()}
    assert by_name["HedgeDailyDrawdownNearLimit"] == f"hedge_daily_drawdown > {0.8 * cfg.risk.daily_dd_limit:.2f}"
    assert by_name["HedgeDrawdownNearLimit"] == f"hedge_drawdown > {0.8 * cfg.risk.portfolio_dd_limit:.2f}"
    assert by_name["HedgeFeedStale"] == f"hedge_feed_age_seconds > {cfg.runtime.metrics.feed_stale_s:g}"


def test_compose_stack_is_consistent() -> None:
    """docker-compose's Prometheus scrapes the hedge service with the same rules; Grafana is provisioned
    with that Prometheus and the dashboard directory; the image checks /health."""
    local, compose = (yaml.safe_load((PROM / n).read_text()) for n in ("prometheus.yml", "compose.yml"))
    assert compose["scrape_configs"][0]["static_configs"] == [{"targets": ["hedge:9108"]}]
    compose["scrape_configs"][0]["static_configs"] = local["scrape_configs"][0]["static_configs"]
    assert compose["scrape_configs"].pop()["job_name"] == "hedge-gate"  # the gate (test_compose_stack.py)
    assert compose == local
    stack = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert set(stack["services"]) == {"hedge", "gate", "prometheus", "grafana"}
    ds = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())["datasources"][0]
    assert ds["url"] == "http://prometheus:9090"
    assert DASHBOARDS and all(json.loads(p.read_text())["panels"] for p in DASHBOARDS)
    docker = (DEPLOY / "Dockerfile").read_text()
    assert "HEALTHCHECK" in docker and "/health" in docker and "\nUSER hedge\n" in docker


def named_metrics() -> set[str]:
    texts = [(PROM / "alerts.yml").read_text(), *(p.read_text() for p in DASHBOARDS)]
    for p in DASHBOARDS:
        json.loads(p.read_text())  # valid JSON
    names = set()
    for text in texts:
        for name in METRIC.findall(text):
            for suffix in SUFFIXES:
                name = name.removesuffix(suffix)
            names.add(name)
    return names


@pytest.mark.slow
def test_every_metric_named_exists_in_a_real_daemons_metrics(tmp_path: Path) -> None:
    port = free_port()
    err_path = tmp_path / "daemon.err"
    env = {**os.environ, "HEDGE_RUNTIME__METRICS__PORT": str(port)}
    with err_path.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "hedge", "run", "--config", str(ROOT / "configs"),
                                 "--log-dir", str(tmp_path / "logs")],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        wait_for_sync(lambda: "metrics: serving" in err_path.read_text(), 60, what="metrics serving", interval=0.2)
        wait_for_sync(lambda: "hedge_feed_age_seconds{" in get(f"http://127.0.0.1:{port}/metrics")[1], 60,
                      what="market data seen", interval=0.5)
        text = get(f"http://127.0.0.1:{port}/metrics")[1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    served = {line.split()[2].removesuffix("_total") for line in text.splitlines() if line.startswith("# TYPE ")}
    named = named_metrics()
    assert len(named) >= 8
    assert named <= served, f"named but not served: {sorted(named - served)}"
