"""deploy/systemd and deploy/supervisor: the units (daemon and gate) pass ``systemd-analyze verify`` (with
/opt/hedge pointed at this checkout), and both run ``hedge run`` / ``hedge gate`` stopped by SIGTERM, hedge's
orderly stop."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
@pytest.mark.parametrize("name", ["hedge.service", "hedge-gate.service"])
def test_systemd_unit_verifies(tmp_path: Path, name: str) -> None:
    opt = tmp_path / "opt"
    (opt / ".venv" / "bin").mkdir(parents=True)
    (opt / ".venv" / "bin" / "hedge").symlink_to(Path(sys.executable).parent / "hedge")
    unit = tmp_path / name
    unit.write_text((DEPLOY / "systemd" / name).read_text().replace("/opt/hedge", str(opt)))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and name not in r.stdout + r.stderr, r.stdout + r.stderr


def test_units_run_the_daemon_and_stop_it_with_sigterm() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "systemd" / "hedge.service")
    assert unit["Service"]["ExecStart"].endswith("hedge run --config configs --log-dir logs")
    assert unit["Service"]["KillSignal"] == "SIGTERM"
    sup = configparser.ConfigParser(interpolation=None)
    sup.read(DEPLOY / "supervisor" / "hedge.conf")
    prog = sup["program:hedge"]
    assert prog["command"] == unit["Service"]["ExecStart"] and prog["stopsignal"] == "TERM"


def test_the_gate_units_run_hedge_gate_as_compose_does() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "systemd" / "hedge-gate.service")
    cmd = unit["Service"]["ExecStart"]
    assert cmd.endswith("hedge gate --config configs --log-dir logs/gate") and "hedge.service" in unit["Unit"]["After"]
    sup = configparser.ConfigParser(interpolation=None)
    sup.read(DEPLOY / "supervisor" / "hedge.conf")
    assert sup["program:hedge-gate"]["command"] == cmd and sup["program:hedge-gate"]["stopsignal"] == "TERM"
