"""Crash safety, a few kill -9 points (``scripts/crash_portfolio.py --points 100`` runs the full set):
the real daemon (``python -m hedge run``, pointed at a local exchange in its own process as at any
Binance-compatible URL) is killed at random points, some just after an order reached the exchange,
and restarted on the same log directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
@pytest.mark.xdist_group("heavy-b")  # see tests/conftest.py: at most two of the heaviest daemon tests at once
@pytest.mark.timeout(300)  # six daemon starts (5 kills, then a graceful run): 96 s in a 4-worker run at load 12
def test_kill_9_never_duplicates_an_order_and_the_ledger_ends_equal_to_the_exchange(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "crash_portfolio.py"), "--points", "5", "--seed", "3",
         "--dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=280,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["kill_points"] == 5 and out["never_ready"] == 0
    assert out["orders_accepted"] > 0, out  # orders were working across the kills
    assert out["duplicate_client_order_ids"] == 0, out
    assert out["orders_before_reconciled"] == 0, out  # per the daemon's events.jsonl and the exchange's order log
    assert out["ledger_equals_exchange"], out
    assert out["drifts"] == 0, out  # every restart explained the exchange's positions by its fills
