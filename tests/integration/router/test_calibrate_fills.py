"""`hedge calibrate-fills` on the bundled recordings: fits on 0718, scores 0719, writes fillprob.yaml that config reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.cli import main
from hedge.config import load_config
from hedge.feeds.recording import bundled_btcusdt


def test_calibrate_fills_writes_fillprob_yaml_that_config_overlays(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    fit, later = bundled_btcusdt()
    (tmp_path / "runtime.yaml").write_text("router:\n  maker_timeout_s: 4.0\n")
    rc = main(["calibrate-fills", str(fit), "--check", str(later), "--config", str(tmp_path)])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "reliability, in sample:" in out and "reliability, out of sample (--check):" in out
    assert "fill rate by distance" in out and "fill rate by queue ahead" in out
    text = (tmp_path / "fillprob.yaml").read_text()
    assert "# reliability, out of sample (--check):" in text
    cfg = load_config(tmp_path, env={})
    m = cfg.runtime.router.auto.model
    assert cfg.runtime.router.maker_timeout_s == 4.0  # runtime.yaml's own keys stay
    assert m.fitted_on == fit.name and m.checked_on == later.name and m.horizon_s == 4.0
    assert m.samples > 1000 and 0 < m.positives < m.samples and m.check_samples > 1000
    assert m.data_from < m.data_to and 0.0 < m.brier < 1.0 and 0.0 < m.check_ece < 1.0
    assert f"b0={m.b0:+.4f}" in out
    assert m.label == "peg reprice_ticks=2 max_reprices=0 budget_bps=10"  # the router's maker leg, as configured
    assert m.fill_bps > m.half_spread_bps > 0.0  # a pegged order that fills was chased above its start touch


def test_a_bad_fillprob_yaml_is_a_config_error(tmp_path: Path) -> None:
    from hedge.config import ConfigErrors

    (tmp_path / "fillprob.yaml").write_text("b0: high\n")
    with pytest.raises(ConfigErrors, match=r"fillprob\.yaml"):
        load_config(tmp_path, env={})
