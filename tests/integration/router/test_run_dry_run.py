"""``hedge run --dry-run`` starts the pipeline on the dry-run venue and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_run_dry_run_starts_the_router(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hedge", "run", "--dry-run", "--config", str(ROOT / "configs"), "--log-dir", str(logs)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HEDGE_RUNTIME__METRICS__PORT": "0"},
    )
    seen = ""
    try:
        deadline = time.monotonic() + 60
        assert proc.stderr is not None
        while time.monotonic() < deadline and "pipeline: ready" not in seen:
            seen += proc.stderr.readline()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "pipeline: ready (venue dry-run" in seen, seen[-2000:]
    assert rc == 0
    assert (logs / "state" / "pending_orders.jsonl").exists()


def test_run_on_binance_without_keys_exits_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINANCE_API")}
    r = subprocess.run(
        [sys.executable, "-m", "hedge", "run", "--venue", "binance-testnet", "--config", str(ROOT / "configs"),
         "--log-dir", str(tmp_path / "logs")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**env, "HEDGE_RUNTIME__METRICS__PORT": "0", "HEDGE_STRATEGY__CALIBRATOR__MAX_AGE_DAYS": "0"},
    )
    assert r.returncode == 2
    assert "BINANCE_API_KEY and BINANCE_API_SECRET must be set" in r.stderr
    assert "BINANCE_API_SECRET=" not in r.stderr


def test_run_on_a_real_venue_refuses_the_stale_shipped_calibrator(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "hedge", "run", "--venue", "binance-testnet", "--config", str(ROOT / "configs"),
         "--log-dir", str(tmp_path / "logs")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "HEDGE_RUNTIME__METRICS__PORT": "0", "BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s"},
    )
    assert r.returncode == 2
    assert "refusing to trade on binance-testnet: the calibrator was fitted on data up to 2024-07-19T00:00:12" in r.stderr
    assert not (tmp_path / "logs").exists()  # refused before anything was opened or sent
