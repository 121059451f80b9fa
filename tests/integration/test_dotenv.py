"""The command line reads ./.env before the configuration; the process environment wins over it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check_config(cwd: Path, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGE_", "BINANCE_"))}
    r = subprocess.run([sys.executable, "-m", "hedge", "check-config", str(ROOT / "configs")], cwd=cwd,
                       capture_output=True, text=True, timeout=60, env={**base, **env})
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_dotenv_sets_the_configuration_and_the_environment_wins(tmp_path: Path) -> None:
    assert "venue=local" in check_config(tmp_path)
    (tmp_path / ".env").write_text("# a comment\nHEDGE_RUNTIME__VENUE=binance-testnet\n")
    assert "venue=binance-testnet" in check_config(tmp_path)
    assert "venue=binance" in check_config(tmp_path, HEDGE_RUNTIME__VENUE="binance")
    assert "venue=binance," in check_config(tmp_path, HEDGE_RUNTIME__VENUE="binance")
