"""`hedge run` and `hedge check-config` refuse a strategy entry with bad params, naming file and key (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.cli import main


def test_run_reports_bad_strategy_params(cfg_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (cfg_dir / "strategy.yaml").write_text("strategies: [{name: micro_scalper, params: {w_bok: 1.0}}]\n")
    rc = main(["run", "--once", "--config", str(cfg_dir), "--log-dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{cfg_dir}/strategy.yaml: strategies[0].params.w_bok: unknown parameter of 'micro_scalper'" in err


def test_check_config_validates_strategy_params(cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(cfg_dir)]) == 0
    assert "strategies=micro_scalper" in capsys.readouterr().out
    (cfg_dir / "strategy.yaml").write_text("strategies: [{name: vol_trend, params: {fast_halflife_s: 120.0}}]\n")
    assert main(["check-config", str(cfg_dir)]) == 2
    err = capsys.readouterr().err
    assert f"{cfg_dir}/strategy.yaml: strategies[0].params: fast_halflife_s must be < slow_halflife_s" in err
