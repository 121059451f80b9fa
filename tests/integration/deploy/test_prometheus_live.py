"""A real Prometheus server on loopback scrapes a running daemon with deploy/prometheus's rules:
hedge's series are queryable, and the feed-stale alert fires while the local exchange stalls the
market feed (``/_hedge/actions/ws_stall``), then resolves when the data flows again."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.test_daemon_e2e import free_port, get
from tests.kit.wait import wait_for_sync

ROOT = Path(__file__).resolve().parents[3]
PROM = ROOT / "deploy" / "prometheus"
PROMETHEUS = shutil.which("prometheus")
STALL_S = 30


def api(base: str, path: str, **query: str) -> Any:
    status, body = get(f"{base}/api/v1/{path}?{urllib.parse.urlencode(query)}")
    assert status == 200 and body["status"] == "success", body
    return body["data"]


def feed_stale(base: str) -> list[dict[str, Any]]:
    return [a for a in api(base, "alerts")["alerts"] if a["labels"]["alertname"] == "HedgeFeedStale"]


@pytest.mark.slow
@pytest.mark.xdist_group("heavy-a")  # see tests/conftest.py: at most two of the heaviest daemon tests at once
@pytest.mark.timeout(300)
@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus missing: apt-get install prometheus (.ci/run does)")
def test_prometheus_scrapes_the_daemon_and_the_feed_stale_alert_fires_and_resolves(tmp_path: Path) -> None:
    assert PROMETHEUS is not None
    metrics_port, prom_port = free_port(), free_port()
    cfg = yaml.safe_load((PROM / "prometheus.yml").read_text())
    cfg["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    cfg["scrape_configs"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{metrics_port}"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(cfg))
    shutil.copy(PROM / "alerts.yml", tmp_path / "alerts.yml")
    logs = tmp_path / "logs"
    env = {**os.environ, "HEDGE_RUNTIME__METRICS__PORT": str(metrics_port),
           "HEDGE_RUNTIME__FEEDS__WATCHDOG_S": "300"}  # no reconnect during the stall: the feed stays stale
    daemon_err = (tmp_path / "daemon.err").open("w")
    daemon = subprocess.Popen([sys.executable, "-m", "hedge", "run", "--config", str(ROOT / "configs"),
                               "--log-dir", str(logs)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                              stderr=daemon_err, env=env)
    prom_err = (tmp_path / "prom.err").open("w")
    prom = subprocess.Popen([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=prom_err)
    base = f"http://127.0.0.1:{prom_port}"
    try:
        wait_for_sync(lambda: (logs / "daemon.json").exists(), 60, what="daemon.json", interval=0.2)
        exchange = json.loads((logs / "daemon.json").read_text())["exchange_url"]

        def series(query: str) -> list[dict[str, Any]]:
            try:
                return list(api(base, "query", query=query)["result"])
            except OSError:
                return []

        wait_for_sync(lambda: series('up{job="hedge"} == 1'), 90, what="Prometheus scraping the daemon", interval=0.5)
        wait_for_sync(lambda: series('hedge_feed_age_seconds{symbol="BTCUSDT"} < 5'), 90,
                      what="hedge's feed age in Prometheus", interval=0.5)
        assert series("hedge_nav_usdt") and series("hedge_trading_state == 0")
        assert not feed_stale(base)

        req = urllib.request.Request(f"{exchange}/_hedge/actions/ws_stall?seconds={STALL_S}", method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
        wait_for_sync(lambda: any(a["state"] == "firing" for a in feed_stale(base)), 90,
                      what="HedgeFeedStale firing", interval=0.5)
        alert = next(a for a in feed_stale(base) if a["state"] == "firing")
        assert alert["labels"]["symbol"] == "BTCUSDT" and alert["labels"]["severity"] == "critical"
        wait_for_sync(lambda: not feed_stale(base), STALL_S + 90, what="HedgeFeedStale resolved", interval=0.5)
        assert series('hedge_feed_age_seconds{symbol="BTCUSDT"} < 5')
    finally:
        prom.send_signal(signal.SIGTERM)
        daemon.send_signal(signal.SIGTERM)
        prom.wait(timeout=60)
        daemon.wait(timeout=60)
        daemon_err.close()
        prom_err.close()
