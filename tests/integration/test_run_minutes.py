"""``hedge run --minutes N [--preflight]``: doctor first (refusing on a FAIL), trade N minutes on the
local exchange, stop cleanly, print and write the run report."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_daemon_e2e import lively_config

ROOT = Path(__file__).resolve().parents[2]


def run(tmp: Path, config: Path, *args: str, port: int = 0, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hedge", "run", "--config", str(config), "--log-dir", str(tmp / "logs"), *args],
        cwd=tmp, capture_output=True, text=True, timeout=180,
        env={**os.environ, "HEDGE_RUNTIME__METRICS__PORT": str(port), "HEDGE_RUNTIME__LOCAL_EXCHANGE__SPEED": "4",
             **env},
    )


def journal(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line)["data"] for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_a_bounded_run_trades_and_its_report_is_what_the_journals_say(tmp_path: Path) -> None:
    """The classic exit profile (the calibrated default stays out of the bundled market) with taker routing on
    the local exchange at 8x: a 6-second run fills orders, and every figure of the report is the journals'."""
    r = run(tmp_path, lively_config(tmp_path), "--minutes", "0.1", HEDGE_RUNTIME__ROUTER__MODE="taker",
            HEDGE_RUNTIME__LOCAL_EXCHANGE__SPEED="8")
    assert r.returncode == 0, r.stderr[-2000:]
    logs = tmp_path / "logs"
    report = json.loads((logs / "run_report.json").read_text())
    sent = journal(logs / "orders_sent.jsonl")
    fills = [f["fill"] for f in journal(logs / "fills.jsonl")]
    assert report["fills"] > 0 and report["notional_usdt"] > 0, r.stdout  # it traded
    assert report["orders_sent"] == len(sent) and report["fills"] == len(fills)
    assert report["maker_fills"] == sum(f["maker"] for f in fills)
    assert report["notional_usdt"] == pytest.approx(sum(f["qty"] * f["price"] for f in fills), rel=1e-9)
    assert report["fees_usdt"] == pytest.approx(sum(f["fee"] for f in fills), rel=1e-9)
    assert report["realized_pnl_usdt"] == pytest.approx(sum(f["realized_pnl"] for f in fills), abs=1e-9)
    last: dict[str, str] = {}
    for u in journal(logs / "order_updates.jsonl"):
        last[u["client_order_id"]] = u["status"]
    assert report["order_outcomes"] == dict(Counter(last.values()))
    assert sum(report["order_outcomes"].values()) == len({s["client_order_id"] for s in sent})
    vetoes = Counter(reason for v in journal(logs / "risk_vetoes.jsonl") for reason in v["reasons"])
    assert report["vetoes"] == dict(vetoes)
    assert f"  fills: {report['fills']} (" in r.stdout


@pytest.mark.slow
def test_minutes_with_preflight_trades_stops_and_reports(tmp_path: Path) -> None:
    r = run(tmp_path, lively_config(tmp_path), "--minutes", "0.25", "--preflight")
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    assert "preflight: PASS  key permissions" in out and "preflight: PASS  clock skew" in out
    assert "hedge run --minutes 0.25: " in out and "(stopped: --minutes 0.25 elapsed)" in out
    for part in ("  orders: ", "  fills: ", "  NAV: 10,000.00 -> ", "  vetoes: ", "  alerts: ", "  health incidents: "):
        assert part in out
    report = json.loads((tmp_path / "logs" / "run_report.json").read_text())
    assert report["venue"] == "local" and report["nav_start"] == 10_000.0
    assert 15 <= report["elapsed_s"] < 60
    assert report["maker_fills"] <= report["fills"] and (report["fills"] == 0) == (report["notional_usdt"] == 0)
    assert f"  orders: {report['orders_sent']} sent" in out
    assert "engine: stopped in" in r.stderr


def test_preflight_refuses_on_a_failed_check(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        r = run(tmp_path, ROOT / "configs", "--minutes", "1", "--preflight", port=taken.getsockname()[1])
    assert r.returncode == 2, r.stderr[-2000:]
    assert "preflight: FAIL  metrics port" in r.stdout
    assert "refusing to start: a preflight check FAILED" in r.stderr
    assert not (tmp_path / "logs" / "daemon.json").exists()


def test_minutes_must_be_positive(tmp_path: Path) -> None:
    r = run(tmp_path, ROOT / "configs", "--minutes", "0")
    assert r.returncode == 2 and "expected a positive number of minutes" in r.stderr
