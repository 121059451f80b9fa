"""The kill flag lives in the log dir the command names (run, kill, status agree), never in the
working directory's ./logs; a daemon halted by a flag says so first, with the command that clears it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hedge.risk.kill_switch import clear_flag, halted_notice, kill_flag_path, read_flag, write_flag

ROOT = Path(__file__).resolve().parents[3]


def hedge(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGE_", "BINANCE_"))}
    return subprocess.run([sys.executable, "-m", "hedge", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**env, "HEDGE_RUNTIME__METRICS__PORT": "0"})


def test_flag_path_clear_and_notice(tmp_path: Path) -> None:
    assert kill_flag_path("KILL", tmp_path / "logs") == tmp_path / "logs" / "KILL"
    assert kill_flag_path(tmp_path / "abs" / "KILL", "logs") == tmp_path / "abs" / "KILL"  # absolute: as is
    flag = tmp_path / "KILL"
    assert clear_flag(flag) is None
    write_flag(flag, "drill", ts_ns=time.time_ns())
    kf = read_flag(flag)
    assert kf is not None
    notice = halted_notice(kf, flag, "some/logs", kf.ts_ns + 90 * 10**9)
    assert "(drill, written 1.5 min ago)" in notice and "`hedge kill --clear --log-dir some/logs`" in notice
    removed = clear_flag(flag)
    assert removed is not None and removed.reason == "drill" and not flag.exists()


def test_kill_on_a_missing_log_dir_is_an_error_and_writes_no_flag(tmp_path: Path) -> None:
    r = hedge("kill", "--config", str(ROOT / "configs"), "--log-dir", str(tmp_path / "nonexistent"), "--cancel",
              cwd=tmp_path)
    assert r.returncode == 2 and f"hedge kill: no log dir {tmp_path / 'nonexistent'}" in r.stderr
    assert list(tmp_path.iterdir()) == []  # neither ./logs/KILL nor the missing dir


def test_kill_status_and_clear_agree_on_the_log_dirs_flag(tmp_path: Path) -> None:
    logs, elsewhere = tmp_path / "mylogs", tmp_path / "elsewhere"
    logs.mkdir()
    elsewhere.mkdir()
    r = hedge("kill", "--config", str(ROOT / "configs"), "--log-dir", str(logs), "--reason", "tour", cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    assert read_flag(logs / "KILL") is not None and not (elsewhere / "logs").exists()
    r = hedge("status", "--log-dir", str(logs), cwd=elsewhere)
    assert f"kill flag {logs / 'KILL'} is present (tour" in r.stdout
    assert f"`hedge kill --clear --log-dir {logs}`" in r.stdout
    r = hedge("kill", "--config", str(ROOT / "configs"), "--log-dir", str(logs), "--clear", cwd=elsewhere)
    assert r.returncode == 0 and f"kill flag {logs / 'KILL'} removed (it said: tour)" in r.stdout
    assert not (logs / "KILL").exists()
    assert "kill flag" not in hedge("status", "--log-dir", str(logs), cwd=elsewhere).stdout
    r = hedge("kill", "--config", str(ROOT / "configs"), "--log-dir", str(logs), "--clear", cwd=elsewhere)
    assert r.returncode == 0 and "nothing to clear" in r.stdout
    assert hedge("kill", "--cancel", "--clear", cwd=elsewhere).returncode == 2  # one or the other


@pytest.mark.slow
def test_a_daemon_halted_by_its_log_dirs_flag_says_so_first_and_a_cwd_flag_halts_nothing(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    write_flag(tmp_path / "logs" / "KILL", "left over in the working directory", ts_ns=time.time_ns())
    other = tmp_path / "other"
    r = hedge("run", "--once", "--config", str(ROOT / "configs"), "--log-dir", str(other), cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "starting HALTED" not in r.stderr and "trading: ACTIVE" in r.stdout
    write_flag(other / "KILL", "tour", ts_ns=time.time_ns())
    r = hedge("run", "--once", "--config", str(ROOT / "configs"), "--log-dir", str(other), cwd=tmp_path)
    first = r.stderr.splitlines()[0]
    assert " WARNING " in first and f"starting HALTED: kill flag {other / 'KILL'} is present (tour" in first
    assert f"`hedge kill --clear --log-dir {other}`" in first
    assert "trading: HALTED" in r.stdout
