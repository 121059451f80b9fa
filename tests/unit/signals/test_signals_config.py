from __future__ import annotations

from pathlib import Path

import pytest

from hedge.config import ConfigErrors, load_config
from tests.kit.config import repo_config


def test_calibrator_yaml_overrides_strategy_section(tmp_path: Path) -> None:
    (tmp_path / "strategy.yaml").write_text("calibrator: {a: 0.1, b: 0.2, fees_bps: 3.0}\n")
    (tmp_path / "calibrator.yaml").write_text("a: -2.0\nb: 4.0\nsamples: 12\n")
    cal = load_config(tmp_path, env={}).strategy.calibrator
    assert (cal.a, cal.b, cal.fees_bps, cal.samples) == (-2.0, 4.0, 3.0, 12)


def test_bad_calibrator_yaml_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "calibrator.yaml").write_text("a: -2.0\nbee: 4.0\n")
    with pytest.raises(ConfigErrors) as ei:
        load_config(tmp_path, env={})
    assert str(ei.value).startswith(f"{tmp_path}/calibrator.yaml: bee: unknown key")
    (tmp_path / "calibrator.yaml").write_text("- 1\n")
    with pytest.raises(ConfigErrors, match=r"calibrator\.yaml: expected a mapping"):
        load_config(tmp_path, env={})


def test_imbalance_levels_must_match_the_book(tmp_path: Path) -> None:
    (tmp_path / "strategy.yaml").write_text("signals: {imbalance_levels: 10}\n")
    with pytest.raises(ConfigErrors, match=r"signals\.imbalance_levels: must equal runtime\.yaml feeds\.imbalance_levels"):
        load_config(tmp_path, env={})


def test_shipped_configs_load() -> None:
    cfg = repo_config()
    assert [s.name for s in cfg.strategy.strategies] == ["micro_scalper", "vol_trend"]
    assert cfg.strategy.signals.vol_low_bps < cfg.strategy.signals.vol_high_bps
