"""`hedge calibrate` on the bundled recording: prints the fit, writes calibrator.yaml, config reads it back."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.cli import main
from hedge.config import load_config


def test_calibrate_writes_calibrator_yaml_that_config_overlays(cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    strategy_before = (cfg_dir / "strategy.yaml").read_text()
    rc = main(["calibrate", "--config", str(cfg_dir), "--tp-bps", "3", "--sl-bps", "3", "--horizon-s", "30"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "labels: TP 3 bps before SL 3 bps within 30 s" in out
    assert f"wrote {cfg_dir / 'calibrator.yaml'}" in out
    assert "warning: fitted with TP/SL 3/3 bps" in err
    assert (cfg_dir / "strategy.yaml").read_text() == strategy_before  # never rewritten
    cal = load_config(cfg_dir, env={}).strategy.calibrator
    assert cal.samples > 100 and 0 < cal.positives < cal.samples
    assert cal.horizon_s == 30.0 and cal.fitted_on == "btcusdt_20240718.gz,btcusdt_20240719.gz"
    assert f"a={cal.a:.6f} b={cal.b:.6f}" in out
    assert cal.b > 0.0  # on this recording a stronger scalper score is likelier to win


def test_degenerate_fit_is_not_written_without_force(cfg_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["calibrate", "--config", str(cfg_dir)])  # exits' TP 50 / SL 25 bps: never reached in 8 minutes
    _, err = capsys.readouterr()
    assert rc == 1 and "labels are losses" in err
    assert not (cfg_dir / "calibrator.yaml").exists()
    assert main(["calibrate", "--config", str(cfg_dir), "--force"]) == 0
    assert load_config(cfg_dir, env={}).strategy.calibrator.positives == 0


def test_bad_input(cfg_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--config", str(cfg_dir), str(tmp_path / "missing.gz")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["calibrate", "--config", str(cfg_dir), "--tp-bps", "0"]) == 2
    (cfg_dir / "strategy.yaml").write_text("strategies: [{name: nope}]\n")
    assert main(["calibrate", "--config", str(cfg_dir), "--dry-run"]) == 2
    assert "unknown strategy 'nope'" in capsys.readouterr().err
