"""deploy/systemd and deploy/supervisor: the unit passes ``systemd-analyze verify`` (with /opt/hedge
pointed at this checkout), and both run ``hedge run`` stopped by SIGTERM, hedge's orderly stop."""

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
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    opt = tmp_path / "opt"
    (opt / ".venv" / "bin").mkdir(parents=True)
    (opt / ".venv" / "bin" / "hedge").symlink_to(Path(sys.executable).parent / "hedge")
    unit = tmp_path / "hedge.service"
    unit.write_text((DEPLOY / "systemd" / "hedge.service").read_text().replace("/opt/hedge", str(opt)))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "hedge.service" not in r.stdout + r.stderr, r.stdout + r.stderr


def test_units_run_the_daemon_and_stop_it_with_sigterm() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "systemd" / "hedge.service")
    assert unit["Service"]["ExecStart"].endswith("hedge run --config configs --log-dir logs")
    assert unit["Service"]["KillSignal"] == "SIGTERM"
    sup = configparser.ConfigParser(interpolation=None)
    sup.read(DEPLOY / "supervisor" / "hedge.conf")
    prog = sup["program:hedge"]
    assert prog["command"] == unit["Service"]["ExecStart"] and prog["stopsignal"] == "TERM"
