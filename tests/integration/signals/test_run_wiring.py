"""`hedge run` refuses a strategy.yaml whose strategy params are wrong, naming the key (exit 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hedge.cli import main

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def test_run_reports_bad_strategy_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "configs"
    shutil.copytree(CONFIGS, d)
    (d / "calibrator.yaml").unlink(missing_ok=True)
    (d / "strategy.yaml").write_text("strategies: [{name: micro_scalper, params: {w_bok: 1.0}}]\n")
    rc = main(["run", "--once", "--config", str(d), "--log-dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "strategy.yaml: strategies[0].params.w_bok: unknown parameter of 'micro_scalper'" in err
