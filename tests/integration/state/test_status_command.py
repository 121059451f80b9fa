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

import pytest

from hedge.bus import Bus
from hedge.events import Nav, OrderIntent, RiskDecision, RiskSnapshot, Side
from hedge.model.clock import EventClock
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



@pytest.mark.parametrize(("sig", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
def test_status_watch_started_in_the_background_stops_on_a_signal(
    tmp_path: Path, sig: signal.Signals, expected: int
) -> None:
    """A shell starts a background job with SIGINT ignored (``hedge status --watch &``): --watch must
    still stop on SIGINT (130, as every long command) and on SIGTERM (0)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "hedge", "status", "--log-dir", str(tmp_path), "--watch", "0.1"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # what a shell does for `cmd &`
    )
    screens: list[str] = []
    reader = threading.Thread(target=lambda: screens.extend(iter(proc.stdout.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for_sync(lambda: "no state files" in "".join(screens), 30, what="the first screen")
        proc.send_signal(sig)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=5)
    assert rc == expected


def _vetoes(bus: Bus, reasons: list[tuple[str, ...]]) -> None:
    for i, why in enumerate(reasons):
        intent = OrderIntent(intent_id=f"v-{i}", symbol="BTCUSDT", side=Side.BUY, notional=100.0,
                             strategy="micro_scalper", reason="entry", recv_ns=time.time_ns())
        bus.publish(RiskDecision(intent=intent, allow=False, max_qty=0.0, reasons=why, recv_ns=time.time_ns()))


def test_status_says_why_nothing_trades_vetoes_by_reason_and_the_cooloff_left(tmp_path: Path) -> None:
    bus = Bus()
    obs = Observability(bus, obs_config(), tmp_path)
    publish_session(bus)  # one veto: spread + gross_exposure
    _vetoes(bus, [("cooloff",)] * 12 + [("min_notional",)] * 3)
    until_ms = time.time_ns() // 1_000_000 + 300_000
    bus.publish(RiskSnapshot(nav=10_000.0, cooloff_until_ms=until_ms, cooloff_reason="3 consecutive losses",
                             recv_ns=time.time_ns()))
    obs.publisher.flush()
    r = status("--log-dir", str(tmp_path))
    assert r.returncode == 0, r.stdout
    assert "Vetoes   16 of 18 decisions vetoed, by reason: cooloff 12, min_notional 3, gross_exposure 1, spread 1" \
        in r.stdout
    cooloff = next(line for line in r.stdout.splitlines() if line.startswith("Cooloff"))
    left_s = float(cooloff.split("vetoed for ")[1].split(" s more")[0])
    assert 200 <= left_s <= 300 and "(3 consecutive losses)" in cooloff
    # a cooloff that has ended is not shown
    bus.publish(RiskSnapshot(nav=10_000.0, cooloff_until_ms=until_ms - 600_000, recv_ns=time.time_ns()))
    obs.publisher.flush()
    assert "Cooloff" not in status("--log-dir", str(tmp_path)).stdout


def test_status_of_a_replay_shows_market_time_and_says_it_is_a_replay(tmp_path: Path) -> None:
    """A replay's stamps are market time (2024): wall-clock ages ("75025888 s ago") and staleness mean nothing."""
    bus = Bus()
    event_ns = 1_721_347_500_000_000_000  # 2024-07-19T00:05:00Z
    clock = EventClock(event_ns)
    obs = Observability(bus, obs_config(), tmp_path, clock=clock)
    bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="sim", recv_ns=event_ns - 2 * 10**9))
    bus.publish(RiskSnapshot(nav=10_000.0, cooloff_until_ms=event_ns // 1_000_000 + 18_000, recv_ns=event_ns))
    obs.publisher.flush()
    r = status("--log-dir", str(tmp_path))
    assert r.returncode == 0, r.stdout
    assert "(a replay, shown as of its last event 2024-07-19T00:05:00Z; ages in market time)" in r.stdout
    assert "(sim, 2.0 s ago)" in r.stdout
    assert "Cooloff  new exposure vetoed for 18 s more, until 2024-07-19T00:05:18Z" in r.stdout
    assert "at the replay's end" in r.stdout and "UNKNOWN" not in r.stdout and "not written" not in r.stdout
