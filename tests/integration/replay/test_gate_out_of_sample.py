"""Out of sample: the shipped calibrator (fitted on the start of btcusdt_20240718) gates a replay of
data it never saw — 0719 and the rest of 0718 — and vetoes intents there with ``expected_return``."""

from __future__ import annotations

from pathlib import Path

from hedge.config.calibration_check import epoch_ms
from hedge.feeds.recording import bundled_btcusdt
from hedge.state.journal import read_journal
from tests.kit.config import repo_config
from tests.kit.replay import run_replay


def test_the_gate_vetoes_intents_on_data_the_calibrator_was_not_fitted_on(tmp_path: Path) -> None:
    cfg = repo_config()
    cal = cfg.strategy.calibrator
    assert cal.fitted_on == "btcusdt_20240718.gz" and cal.samples > 0
    fitted_until = epoch_ms(cal.data_to)
    assert fitted_until is not None
    s, _ = run_replay(tmp_path, cfg, bundled_btcusdt())
    vetoes = [r.decode() for r in read_journal(tmp_path / "risk_vetoes.jsonl")]
    unseen = [v for v in vetoes if v["intent"]["ts_ms"] > fitted_until]
    assert len(unseen) >= 10
    assert all("expected_return" in v["reasons"] for v in unseen)
    assert s.vetoes.get("expected_return", 0) >= len(unseen) and s.fills == 0 and s.pnl == 0.0
