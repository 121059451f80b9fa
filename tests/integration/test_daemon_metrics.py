"""/metrics and /health answer through a whole daemon run, its shutdown included (issue 15, item 7).

A real ``python -m hedge run`` subprocess on its in-process local exchange is scraped every second
(``HEDGE_TEST_SCRAPE_S`` long, 40 s by default: CI-sized; the issue's run was 150 s): every scrape
must be answered (/metrics 200; /health 200 or 503 with its JSON report) and the market counters
must keep advancing. Then SIGTERM: the endpoints stop only after the engine has stopped and the
venue and local exchange are released, and the log says so (before, they were cancelled first and
refused connections for the rest of the shutdown while the last log line said "serving").
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_daemon_e2e import free_port, get, lively_config, metric
from tests.kit.wait import wait_for_sync

SCRAPE_S = float(os.environ.get("HEDGE_TEST_SCRAPE_S", "40"))


@pytest.mark.slow
@pytest.mark.xdist_group("heavy-b")  # see tests/conftest.py: at most two of the heaviest daemon tests at once
def test_metrics_and_health_answer_every_second_through_a_run(tmp_path: Path) -> None:
    cfg = lively_config(tmp_path)
    logs = tmp_path / "logs"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    err_path = tmp_path / "daemon.err"
    env = {**os.environ, "HEDGE_RUNTIME__METRICS__PORT": str(port), "HEDGE_RUNTIME__LOCAL_EXCHANGE__SPEED": "4"}
    with err_path.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hedge", "run", "--config", str(cfg), "--log-dir", str(logs)],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err, env=env,
        )
    try:
        wait_for_sync(lambda: "metrics: serving" in err_path.read_text(), 30, what="metrics serving", interval=0.2)
        wait_for_sync(lambda: metric(get(f"{url}/metrics")[1], "hedge_messages_total") > 0, 30,
                      what="market data counted", interval=0.5)
        failures: list[str] = []
        seen: list[float] = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < SCRAPE_S:
            try:
                status, text = get(f"{url}/metrics")
                if status != 200:
                    failures.append(f"/metrics {status}")
                else:
                    seen.append(metric(text, "hedge_messages_total"))
                status, report = get(f"{url}/health")
                if status not in (200, 503) or not isinstance(report, dict) or "ok" not in report:
                    failures.append(f"/health {status} {str(report)[:80]}")
            except OSError as exc:  # refused, reset, timed out
                failures.append(f"{time.monotonic() - t0:.1f}s: {exc!r}")
            time.sleep(1.0)  # the scrape interval under test, not a wait for a condition
        assert proc.poll() is None, "the daemon exited during the run"
        assert failures == []
        assert len(seen) >= SCRAPE_S / 3  # scrapes are answered promptly on a loaded machine too
        assert seen == sorted(seen) and seen[-1] > seen[0]  # counters advance, never reset

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = err_path.read_text()
    order = [m.group(0) for m in re.finditer(r"engine: stopped in|metrics: stopped serving", log)]
    assert order == ["engine: stopped in", "metrics: stopped serving"], log[-2000:]
