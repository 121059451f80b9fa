"""`hedge calibrate` on the bundled recording: prints the fit, writes calibrator.yaml, config reads it back."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.cli import main
from hedge.config import load_config


def test_calibrate_writes_calibrator_yaml_that_config_overlays(cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    strategy_before = (cfg_dir / "strategy.yaml").read_text()
    rc = main(["calibrate", "--config", str(cfg_dir)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "geometry: tp=1bps+1vol sl=1bps+1vol max_R=3 horizon=30s" in out
    assert "held out (later):" in out and "p bucket" in out
    assert f"wrote {cfg_dir / 'calibrator.yaml'}" in out
    assert (cfg_dir / "strategy.yaml").read_text() == strategy_before  # never rewritten
    text = (cfg_dir / "calibrator.yaml").read_text()
    assert "# Reliability, held out (later samples):" in text  # the table is written beside the fit
    cal = load_config(cfg_dir, env={}).strategy.calibrator
    assert cal.samples > 100 and 0 < cal.positives < cal.samples and cal.validation_samples > 100
    assert cal.fitted_on == "btcusdt_20240718.gz,btcusdt_20240719.gz" and cal.data_from < cal.data_to
    assert 0.0 < cal.ece < 1.0 and 0.0 < cal.brier < 1.0 and cal.log_loss > 0.0
    assert f"a={cal.a:.6f} b={cal.b:.6f}" in out
    assert main(["calibrate", "--config", str(cfg_dir), "--check"]) == 0  # scores what is later than its data_to
    assert f"out of sample: samples after {cal.data_to}" in capsys.readouterr().out


def test_degenerate_fit_is_not_written_without_force(cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the classic TP 50 / SL 25 bps: never reached in 8 minutes
    rc = main(["calibrate", "--config", str(cfg_dir), "--tp-bps", "50", "--sl-bps", "25"])
    _, err = capsys.readouterr()
    assert rc == 1 and "labels are losses" in err
    assert not (cfg_dir / "calibrator.yaml").exists()
    assert main(["calibrate", "--config", str(cfg_dir), "--tp-bps", "50", "--sl-bps", "25", "--force"]) == 0
    assert load_config(cfg_dir, env={}).strategy.calibrator.positives == 0


def test_bad_input(cfg_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--config", str(cfg_dir), str(tmp_path / "missing.gz")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["calibrate", "--config", str(cfg_dir), "--tp-bps", "0"]) == 2
    (cfg_dir / "strategy.yaml").write_text("strategies: [{name: nope}]\n")
    assert main(["calibrate", "--config", str(cfg_dir), "--dry-run"]) == 2
    assert "unknown strategy 'nope'" in capsys.readouterr().err
