"""The kill switch for real: flag file -> HALTED + CancelAll within 2 s, SIGUSR1 (in-process and
to a running daemon process), and ``hedge kill`` exit codes."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hedge.bus import Bus
from hedge.commands import kill as kill_cmd
from hedge.events import CancelAll, TradingState, TradingStateChange
from hedge.risk.kill_switch import KillSwitchService, read_flag, write_flag
from hedge.risk.stage import RiskStage
from hedge.state.journal import read_journal
from tests.kit.wait import budget_s, wait_for, wait_for_sync
from tests.unit.risk.helpers import risk_config

ROOT = Path(__file__).resolve().parents[3]


def count_polls(svc: KillSwitchService) -> list[int]:
    """How many times the service has looked at its flag file (one counter, updated in place)."""
    polls = [0]
    check = svc.check

    def counted() -> bool:
        polls[0] += 1
        return check()

    svc.check = counted  # type: ignore[method-assign]
    return polls


def catches_sigusr1(pid: int) -> bool:
    """Whether process ``pid`` has a SIGUSR1 handler installed (Linux: the SigCgt mask of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signal.SIGUSR1 - 1) & 1)
    return False


def rig() -> tuple[Bus, RiskStage, list[tuple[float, object]]]:
    bus = Bus()
    stage = RiskStage(bus, risk_config())
    stage.attach()
    seen: list[tuple[float, object]] = []
    for t in (CancelAll, TradingStateChange):
        bus.subscribe(t, lambda e: seen.append((time.monotonic(), e)))
    return bus, stage, seen


async def test_flag_file_halts_and_requests_cancel_all_within_2s(tmp_path: Path) -> None:
    bus, stage, seen = rig()
    cancelled = asyncio.Event()
    bus.subscribe(CancelAll, lambda e: cancelled.set())
    flag = tmp_path / "run" / "KILL"
    svc = KillSwitchService(flag, stage.halt, poll_s=0.25, signals=False)
    polls = count_polls(svc)
    task = asyncio.create_task(svc.run())
    try:
        await wait_for(lambda: polls[0] >= 1, what="a poll without the flag")
        assert stage.machine.state is TradingState.ACTIVE and seen == []
        t0 = time.monotonic()
        write_flag(flag, "test: flag file", ts_ns=time.time_ns())
        await asyncio.wait_for(cancelled.wait(), 30)
        assert stage.machine.state is TradingState.HALTED
        cancels = [(t, e) for t, e in seen if isinstance(e, CancelAll)]
        assert len(cancels) == 1 and cancels[0][0] - t0 < budget_s(2.0)
        assert cancels[0][1].reason == "kill switch: test: flag file"  # type: ignore[attr-defined]
        done = polls[0]
        await wait_for(lambda: polls[0] >= done + 2, what="two more polls")  # the flag stays: it fires once
        assert svc.engaged == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_flag_present_at_start_halts_at_once_and_garbage_still_halts(tmp_path: Path) -> None:
    _bus, stage, _seen = rig()
    flag = tmp_path / "KILL"
    flag.write_text("not json at all\n")
    assert read_flag(flag) is not None and read_flag(flag).reason == "not json at all"  # type: ignore[union-attr]
    svc = KillSwitchService(flag, stage.halt, signals=False)
    assert svc.check() and stage.machine.state is TradingState.HALTED
    assert not svc.check()  # fired once
    flag.unlink()
    assert not svc.check()
    write_flag(flag, "again", ts_ns=time.time_ns())
    assert svc.check() and svc.engaged == 2  # re-armed after the flag went away


async def test_sigusr1_halts_and_writes_the_flag(tmp_path: Path) -> None:
    _bus, stage, seen = rig()
    flag = tmp_path / "KILL"
    svc = KillSwitchService(flag, stage.halt, poll_s=0.05)
    polls = count_polls(svc)
    task = asyncio.create_task(svc.run())
    try:
        await wait_for(lambda: polls[0] >= 1, what="the service's start (its SIGUSR1 handler installed)")
        os.kill(os.getpid(), signal.SIGUSR1)
        await wait_for(lambda: stage.machine.state is TradingState.HALTED, 30, what="HALTED")
        flag_data = read_flag(flag)
        assert flag_data is not None and flag_data.reason.startswith("SIGUSR1") and flag_data.pid == os.getpid()
        done = polls[0]
        await wait_for(lambda: polls[0] >= done + 2, what="two polls that see the flag it wrote")
        assert svc.engaged == 1 and len([e for _, e in seen if isinstance(e, CancelAll)]) == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # the handler is removed with the service: the default action (terminate) would apply again
    assert signal.getsignal(signal.SIGUSR1) in (signal.SIG_DFL, None)


@pytest.mark.parametrize("how", ["sigusr1", "cli"])
def test_hedge_run_halts_on_sigusr1_or_hedge_kill(tmp_path: Path, how: str) -> None:
    """The real daemon (`hedge run`): SIGUSR1 or `hedge kill` -> one HALTED state change within 2 s."""
    logs, flag = tmp_path / "logs", tmp_path / "KILL"
    env = {**os.environ, "HEDGE_RUNTIME__METRICS__PORT": "0", "HEDGE_RISK__KILL_SWITCH__FLAG_FILE": str(flag)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hedge", "run", "--config", str(ROOT / "configs"), "--log-dir", str(logs)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "engine: started" not in proc.stderr.readline():
            pass
        wait_for_sync(lambda: catches_sigusr1(proc.pid), 30, what="the kill-switch service's SIGUSR1 handler")
        if how == "sigusr1":
            proc.send_signal(signal.SIGUSR1)
        else:
            r = subprocess.run(
                [sys.executable, "-m", "hedge", "kill", "--reason", "cli drill"],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=30,
                env=env,
            )
            assert r.returncode == 0, r.stderr
        halted = False
        while time.monotonic() < deadline and not halted:
            halted = "-> HALTED" in proc.stderr.readline()
        assert halted and proc.poll() is None  # halted, still running
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    changes = [r.decode() for r in read_journal(logs / "events.jsonl") if r.kind == "TradingStateChange"]
    assert len(changes) == 1 and changes[0]["state"] == "HALTED" and changes[0]["previous"] == "ACTIVE"
    assert changes[0]["reason"].startswith("kill switch: " + ("SIGUSR1" if how == "sigusr1" else "cli drill"))
    flag_ts_ms = json.loads(flag.read_text())["ts_ns"] // 1_000_000
    assert 0 <= changes[0]["ts_ms"] - flag_ts_ms < 2000  # flag written -> HALTED in under 2 s


def hedge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hedge", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)


def test_hedge_kill_exit_codes(tmp_path: Path) -> None:
    flag = tmp_path / "a" / "KILL"
    r = hedge("kill", "--flag-file", str(flag), "--reason", "drill")
    assert r.returncode == 0 and "kill switch engaged" in r.stdout
    data = json.loads(flag.read_text())
    assert data["reason"] == "drill" and data["ts_ns"] > 0
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = hedge("kill", "--flag-file", str(blocker / "KILL"))
    assert r.returncode == 1 and "cannot write the flag file" in r.stderr
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "risk.yaml").write_text("kill_switch: {flag_file: 3, bogus: 1}\n")
    assert hedge("kill", "--config", str(tmp_path / "cfg")).returncode == 2
    (tmp_path / "cfg" / "risk.yaml").write_text(f"kill_switch: {{flag_file: {tmp_path / 'cfgflag'}}}\n")
    r = hedge("kill", "--config", str(tmp_path / "cfg"), "--cancel")
    assert r.returncode == 3 and (tmp_path / "cfgflag").exists() and "no running daemon's local exchange" in r.stderr


def test_hedge_kill_cancel_uses_the_injected_cancel_all(tmp_path: Path) -> None:
    calls: list[str] = []

    async def cancel_all() -> None:
        calls.append("cancel_all")

    async def broken() -> None:
        raise ConnectionError("exchange unreachable")

    args = argparse.Namespace(config=None, flag_file=str(tmp_path / "KILL"), reason="drill", cancel=True, clear=False)
    assert kill_cmd.main(args, cancel_all) == 0 and calls == ["cancel_all"]
    assert kill_cmd.main(args, broken) == 1 and (tmp_path / "KILL").exists()
    args.cancel = False
    assert kill_cmd.main(args, cancel_all) == 0 and calls == ["cancel_all"]


def test_hedge_kill_cancel_without_testnet_keys_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No keys for the configured venue = no venue to cancel through: exit 3 (not 1), flag written, no secret."""
    monkeypatch.delenv("BINANCE_API_KEY", raising=False)
    monkeypatch.setenv("BINANCE_API_SECRET", "s3cr3t-never-printed")
    monkeypatch.setenv("BINANCE_TESTNET", "1")
    args = argparse.Namespace(config=None, flag_file=str(tmp_path / "KILL"), reason="drill", cancel=True, clear=False,
                              log_dir=str(tmp_path))
    assert kill_cmd.main(args) == 3
    assert (tmp_path / "KILL").exists()
