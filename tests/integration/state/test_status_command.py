"""``python -m hedge status`` over the state files of a real run (subprocess, real files)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hedge.bus import Bus
from hedge.state.observability import Observability
from tests.integration.state.conftest import obs_config
from tests.integration.state.session import publish_session
from tests.kit.wait import wait_for_sync

ROOT = Path(__file__).resolve().parents[3]


def status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hedge", "status", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)


def test_status_shows_the_run(tmp_path: Path) -> None:
    bus = Bus()
    obs = Observability(bus, obs_config(), tmp_path)
    publish_session(bus)
    obs.publisher.flush()
    r = status("--log-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "NAV      10,003.50 USDT" in out
    assert "State    REDUCING (cvar)" in out
    assert "fills 2  win 100%  maker 50%" in out
    assert "BTCUSDT" in out and "VALID" in out
    assert "market       up" in out and "parse errors 2" in out
    assert "Health   OK" in out


def test_status_of_an_engine_that_stopped_writing_is_not_ok(tmp_path: Path) -> None:
    """Diagnostics last written 10 minutes ago: the daemon is gone; its last 'Health OK' must not read as now."""
    bus = Bus()
    obs = Observability(bus, obs_config(), tmp_path)
    publish_session(bus)
    obs.publisher.flush()
    assert status("--log-dir", str(tmp_path)).returncode == 0  # just written: fresh
    diag = obs.state_dir / "diagnostics.json"
    data = json.loads(diag.read_text())
    data["updated_ns"] = time.time_ns() - 600 * 10**9
    diag.write_text(json.dumps(data))
    r = status("--log-dir", str(tmp_path))
    assert r.returncode == 1
    assert "Health   UNKNOWN (the engine is not writing its state" in r.stdout and "Health   OK" not in r.stdout
    # 600 s when written, plus however long the machine took to start the child
    m = re.search(r"! state files not written for (\d+) s", r.stdout)
    assert m is not None and 600 <= int(m.group(1)) < 900, r.stdout


def test_status_without_files_says_so(tmp_path: Path) -> None:
    r = status("--log-dir", str(tmp_path))
    assert r.returncode == 1 and "no state files" in r.stdout


def test_status_before_any_event_and_with_a_corrupt_file(tmp_path: Path) -> None:
    obs = Observability(Bus(), obs_config(), tmp_path)
    obs.publisher.flush()
    r = status("--log-dir", str(tmp_path))
    assert r.returncode == 0 and "NAV      no reading yet" in r.stdout
    assert "UNHEALTHY: no market data for BTCUSDT yet" in r.stdout
    (obs.state_dir / "kpis.json").write_text('{"fills": "many"')
    r = status("--log-dir", str(tmp_path))
    assert r.returncode == 1 and "! KpisState: unreadable" in r.stdout and "NAV" in r.stdout


def test_status_watch_refreshes_until_interrupted(tmp_path: Path) -> None:
    """Three whole screens are seen (waited on, however slow the machine), then SIGINT ends it with 0."""
    bus = Bus()
    obs = Observability(bus, obs_config(), tmp_path)
    publish_session(bus)
    obs.publisher.flush()
    with (tmp_path / "stderr.txt").open("w+") as err:  # a file, not a pipe nobody reads: it can never fill and block the child
        proc = subprocess.Popen([sys.executable, "-m", "hedge", "status", "--log-dir", str(tmp_path), "--watch", "0.1"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True, env=dict(os.environ))
        assert proc.stdout is not None
        screens: list[str] = []
        reader = threading.Thread(target=lambda: screens.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
        reader.start()
        try:
            # whole screens (the NAV line is inside each one); a loaded machine may take long to start the interpreter
            wait_for_sync(lambda: "".join(screens).count("NAV      10,003.50") >= 3, 120, what="three whole screens")
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.join(timeout=120)  # the pipe is closed: the reader ends once it has read what is left
        err.seek(0)
        stderr = err.read()
    out = "".join(screens)
    assert proc.returncode == 130, stderr  # Ctrl-C, as every long command
    assert out.count("\x1b[H\x1b[2J") >= 3 and out.count("NAV      10,003.50") >= 3, out[-2000:]
