from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hedge.state.journal import read_journal
from tests.kit.wait import budget_s

ROOT = Path(__file__).resolve().parents[2]


def hedge(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hedge", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_version_and_help() -> None:
    r = hedge("version")
    assert r.returncode == 0 and r.stdout.startswith("hedge ")
    r = hedge("--help")
    assert r.returncode == 0
    for cmd in ("run", "replay", "record", "exchange", "check-config", "status", "version"):
        assert cmd in r.stdout
    for cmd in ("run", "replay", "record", "exchange", "check-config", "status", "version"):
        assert hedge(cmd, "--help").returncode == 0


def test_no_command_and_bad_usage_exit_2() -> None:
    assert hedge().returncode == 2
    assert hedge("frobnicate").returncode == 2


def test_an_unknown_option_shows_the_commands_own_usage() -> None:
    r = hedge("run", "--bogus")
    assert r.returncode == 2
    assert r.stderr.startswith("usage: hedge run ") and "hedge run: error: unrecognized arguments: --bogus" in r.stderr
    r = hedge("replay", "x.gz", "--bogus")
    assert r.returncode == 2 and "hedge replay: error: unrecognized arguments: --bogus" in r.stderr


def test_check_config_takes_the_directory_positional_or_as_config() -> None:
    for args in (("configs",), ("--config", "configs"), ("--config", "configs", "configs"), ()):
        r = hedge("check-config", *args)
        assert r.returncode == 0 and r.stdout.startswith("configs: OK"), (args, r.stderr)
    r = hedge("check-config", "configs", "--config", "elsewhere")
    assert r.returncode == 2 and "two directories given" in r.stderr


@pytest.mark.parametrize("port", ["99999", "-1", "65536", "http"])
def test_exchange_refuses_a_port_out_of_range(port: str) -> None:
    r = hedge("exchange", "--port", port)
    assert r.returncode == 2 and "hedge exchange: error: argument --port:" in r.stderr


def test_python_m_hedge_from_the_folder_that_holds_a_clone_named_hedge(tmp_path: Path) -> None:
    """The clone's folder would shadow the package (a namespace package from the working directory)."""
    (tmp_path / "hedge").symlink_to(ROOT)
    r = hedge("version", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("hedge "), r.stderr


def test_check_config_ok_and_errors(tmp_path: Path) -> None:
    r = hedge("check-config", str(ROOT / "configs"))
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout
    (tmp_path / "risk.yaml").write_text("daily_dd_limit: x\nmax_open_orders: 0\n")
    r = hedge("check-config", str(tmp_path))
    assert r.returncode == 2
    assert f"{tmp_path}/risk.yaml: daily_dd_limit: Expected `float`, got `str`" in r.stderr


def test_run_with_bad_config_exits_2(tmp_path: Path) -> None:
    (tmp_path / "runtime.yaml").write_text("venue: mars\n")
    r = hedge("run", "--config", str(tmp_path))
    assert r.returncode == 2
    assert "runtime.yaml: venue" in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_shuts_down_gracefully_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    logs = tmp_path / "logs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hedge", "run", "--config", str(ROOT / "configs"), "--log-dir", str(logs)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "HEDGE_RUNTIME__METRICS__PORT": "0"},
    )
    try:
        deadline = time.monotonic() + 60
        started = False
        assert proc.stderr is not None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if "engine: started" in line:
                started = True
                break
        assert started, "daemon did not start"
        t0 = time.monotonic()
        proc.send_signal(sig)
        rc = proc.wait(timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == (130 if sig is signal.SIGINT else 0)  # Ctrl-C: 128 + SIGINT, as every long command
    assert elapsed < budget_s(2.0)
    kinds = [r.kind for r in read_journal(logs / "events.jsonl")]
    assert kinds[0] == "engine_started" and kinds[-1] == "engine_stopped"
    last = list(read_journal(logs / "events.jsonl"))[-1].decode()
    assert last == {"reason": sig.name}


def test_an_unwritable_output_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    bad = tmp_path / "a-file"
    r = hedge("record", "--symbols", "BTCUSDT", "--out", str(bad / "r.gz"), "--ws-url", "ws://127.0.0.1:1",
              "--rest-url", "http://127.0.0.1:1", "--minutes", "0.01")
    assert r.returncode == 1 and "Traceback" not in r.stderr and f"hedge record: cannot write {bad / 'r.gz'}" in r.stderr
    r = hedge("calibrate", "--tp-bps", "3", "--sl-bps", "3", "--horizon-s", "30", "--out", str(bad / "c.yaml"),
              timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"hedge calibrate: cannot write {bad / 'c.yaml'}" in r.stderr and "fit: a=" in r.stdout
