"""The CI soak: ``scripts/soak.py --minutes 2`` (the daemon and the local exchange as processes, every fault
kind once) meets its goals: no RSS or fd growth, loop lag p99 under 50 ms, nothing duplicated or lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.wait import budget_s

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.xdist_group("heavy-a")  # see tests/conftest.py: at most two of the heaviest daemon tests at once
@pytest.mark.soak
@pytest.mark.timeout(900)  # two minutes of soak plus the start and the final comparison
def test_two_minute_soak_meets_its_goals(tmp_path: Path) -> None:
    # one fault every 15 s: all seven kinds within the two minutes. The loop-lag goal (50 ms) is stretched
    # by the machine's overload: other processes' CPU time is scheduling delay the daemon cannot help.
    lag_ms = budget_s(0.050) * 1e3
    r = subprocess.run([sys.executable, "scripts/soak.py", "--minutes", "2", "--fault-every", "15",
                        "--max-loop-lag-ms", f"{lag_ms:.1f}", "--dir", str(tmp_path)],
                       cwd=ROOT, capture_output=True, text=True, timeout=900)
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert result["ok"] and r.returncode == 0, json.dumps(result) + "\n" + r.stderr[-3000:]
    assert sum(result["faults_injected"].values()) == 7 and len(result["faults_injected"]) == 7
    # the order faults wait for the next order, so they fire only if trading went on after each fault
    assert set(result["faults_fired_at_exchange"]) == {"order_503", "order_drop", "rest_429", "depth_gap"}
    assert result["healthy_at_end"]
    assert result["orders"] > 0 and result["duplicate_client_ids"] == 0
    assert result["position_equals_exchange"] and result["journal_fills_equal_exchange"]
    assert result["rss_growth_pct"] < 5.0 and result["loop_lag_p99_ms"] < lag_ms
