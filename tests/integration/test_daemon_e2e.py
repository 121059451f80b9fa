"""End to end: ``python -m hedge run`` (a subprocess) against its in-process local exchange, over real sockets.

The daemon plays the bundled real BTCUSDT recording at 6x for ~25 s of wall time (~2.5 minutes of
market) with a livelier strategy config (lower entry threshold, shorter cooldown, sizes above the
exchange's MIN_NOTIONAL). Checked at the exchange (its control API and signed REST): orders were
placed and filled; after the kill switch, no order is left open (within 2 s) and the daemon's
positions state file equals the exchange's positions. Every state file decodes with its schema,
/metrics counters moved, /health answers, and SIGTERM stops the daemon with exit 0 within 2 s.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET, sign
from hedge.risk.kill_switch import write_flag
from hedge.state import schemas as s
from hedge.state.manifest import SURFACES, read_manifest, read_surface
from tests.kit.config import repo_configs
from tests.kit.wait import budget_s, wait_for_sync

ROOT = Path(__file__).resolve().parents[2]
TRADING_S = 25.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def lively_config(tmp: Path) -> Path:
    dst = repo_configs(tmp)
    path = dst / "strategy.yaml"
    strat = yaml.safe_load(path.read_text())
    strat["per_trade_nav_pct"] = 0.03
    strat["exits"] = {"profile": "classic"}  # the unfitted calibrator's p >= 0.5 passes the gate at TP 50 / SL 25
    (dst / "calibrator.yaml").unlink()
    for entry in strat["strategies"]:
        if entry["name"] == "micro_scalper":
            entry["params"].update(entry_threshold=0.15, cooldown_s=1.0)
    path.write_text(yaml.safe_dump(strat))
    return dst


def get(url: str, *, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    text = body.decode()
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def signed(base: str, path: str) -> Any:
    query = f"timestamp={int(time.time() * 1000)}&recvWindow=5000"
    url = f"{base}{path}?{query}&signature={sign(DEFAULT_API_SECRET, query)}"
    status, body = get(url, headers={"X-MBX-APIKEY": DEFAULT_API_KEY})
    assert status == 200, body
    return body


def exchange_positions(base: str) -> dict[str, float]:
    return {p["symbol"]: float(p["positionAmt"]) for p in signed(base, "/fapi/v2/positionRisk")
            if float(p["positionAmt"]) != 0.0}


def daemon_positions(state: Path) -> dict[str, float] | None:
    ps = read_surface(state, s.PositionsState)
    return None if ps is None else {p.symbol: p.qty for p in ps.positions if p.qty != 0.0}


def metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name) and not line.startswith("#"))


@pytest.mark.slow
@pytest.mark.xdist_group("heavy-b")  # see tests/conftest.py: at most two of the heaviest daemon tests at once
@pytest.mark.timeout(300)  # a daemon start, TRADING_S of trading (more until a fill on a loaded machine), the checks
def test_daemon_trades_on_the_local_exchange_end_to_end(tmp_path: Path) -> None:
    t_start = time.monotonic()
    cfg = lively_config(tmp_path)
    logs = tmp_path / "logs"
    state = logs / "state"
    metrics_port = free_port()
    kill_flag = tmp_path / "KILL"
    env = {
        **os.environ,
        "HEDGE_RUNTIME__METRICS__PORT": str(metrics_port),
        "HEDGE_RUNTIME__LOCAL_EXCHANGE__SPEED": "6",
        "HEDGE_RISK__KILL_SWITCH__FLAG_FILE": str(kill_flag),
        "HEDGE_RUNTIME__STATE__MIN_INTERVAL_S": "0.2",
    }
    stderr = (tmp_path / "daemon.err").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hedge", "run", "--config", str(cfg), "--log-dir", str(logs)],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=stderr, env=env,
    )
    try:
        info = wait_for_sync(lambda: (logs / "daemon.json").exists() and json.loads((logs / "daemon.json").read_text()),
                             60, what="daemon.json", interval=0.2)
        base = info["exchange_url"]
        assert info["venue"] == "local" and base.startswith("http://127.0.0.1:")
        metrics_url = f"http://127.0.0.1:{metrics_port}"

        # --- trading: orders placed at the exchange, and some filled
        def executed() -> list[dict[str, Any]]:
            path = logs / "orders_executed.jsonl"  # flushed every runtime.journal.flush_interval_s
            return [json.loads(line)["data"] for line in path.read_text().splitlines()] if path.exists() else []

        def traded() -> bool:
            if time.monotonic() - t_start <= TRADING_S or not any(e["filled_qty"] > 0 for e in executed()):
                return False  # on a loaded machine the first fill may come after TRADING_S: wait for it
            _, orders = get(f"{base}/_hedge/orders")
            placed = [o for o in orders if o["method"] == "POST" and o["http_status"] == 200]
            return len(placed) >= 3

        wait_for_sync(traded, TRADING_S + 90, what="orders at the exchange, one of them filled", interval=1.0)
        _, orders = get(f"{base}/_hedge/orders")
        placed = [o for o in orders if o["method"] == "POST" and o["http_status"] == 200]
        sent = [json.loads(line) for line in (logs / "orders_sent.jsonl").read_text().splitlines()]
        assert {o["client_order_id"] for o in placed} <= {r["data"]["client_order_id"] for r in sent}

        # --- kill switch: every order cancelled at the exchange within 2 s
        t_kill = time.monotonic()
        write_flag(kill_flag, "e2e test", ts_ns=time.time_ns())
        wait_for_sync(lambda: signed(base, "/fapi/v1/openOrders") == [], 30, what="no open order at the exchange")
        kill_s = time.monotonic() - t_kill
        assert kill_s < budget_s(2.0)

        # --- fills happened, and the daemon's positions equal the exchange's
        assert any(e["filled_qty"] > 0 for e in executed()), executed()
        truth = exchange_positions(base)
        wait_for_sync(lambda: daemon_positions(state) == truth, 30, what="positions state == exchange", interval=0.2)

        # --- every state file decodes with its schema; the manifest lists them
        manifest = read_manifest(state)
        assert manifest.surfaces
        for surface in SURFACES:
            if (state / surface.file).exists():
                assert read_surface(state, surface.schema) is not None, surface.file
        nav = read_surface(state, s.NavState)
        assert nav is not None and nav.nav > 0
        risk = read_surface(state, s.RiskSnapshotState)  # the risk stage's own view reaches its file
        assert risk is not None and risk.nav > 0 and risk.peak_nav >= risk.nav
        assert abs(risk.nav - nav.nav) / nav.nav < 0.01

        # --- /metrics counters moved; /health answers with its reasons
        status, text = get(f"{metrics_url}/metrics")
        assert status == 200
        assert metric(text, "hedge_order_requests_total") >= len(placed)
        assert metric(text, "hedge_messages_total") > 1000
        assert 'hedge_parse_errors_total{connection="public"}' in text  # each connection's counters are published
        status, health = get(f"{metrics_url}/health")
        assert status in (200, 503) and isinstance(health, dict)

        # --- clean shutdown
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        assert rc == 0 and time.monotonic() - t0 < budget_s(2.0)
    finally:
        if proc.poll() is None:
            proc.kill()
        stderr.close()
    log_text = (tmp_path / "daemon.err").read_text()
    assert "Traceback" not in log_text, log_text[-3000:]
    kinds = [json.loads(line)["kind"] for line in (logs / "events.jsonl").read_text().splitlines()]
    assert kinds[0] == "engine_started" and kinds[-1] == "engine_stopped"
