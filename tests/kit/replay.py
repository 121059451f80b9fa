"""One replay of a recording (default: the bundled BTCUSDT recording) with the invariants every
replay must keep; the session fixture ``bundled_replay`` (tests/conftest.py) runs it once."""

from __future__ import annotations

from pathlib import Path

import msgspec

from hedge.app import run_async
from hedge.config import Config, default_config, exit_profile
from hedge.feeds.recording import bundled_btcusdt
from hedge.replay.runner import Replay
from hedge.replay.summary import ReplaySummary

# ``hedge replay`` of the bundled recording with the built-in defaults (issue 14: must not change by accident).
# Issue 25 changed it on purpose: the scalper geometry and the calibrated gate veto every intent.
BUNDLED_FINGERPRINT = "b44882362c736a5266727a828ba4e073b08e57fcffffc5b2fd1130e01164944f"
# The classic exit profile with the unfitted calibrator: the defaults before issue 25, exactly.
CLASSIC_FINGERPRINT = "35c07cdeaef981e4514643145850cbcb4f538542542c34f7a8aa1cb19cfdca98"


def classic_config(base: Config | None = None) -> Config:
    """``base`` (default: the built-in defaults) with the classic exit profile (the pre-issue-25 defaults,
    which trade the bundled recording: the unfitted calibrator's p >= 0.5 passes the gate)."""
    cfg = base or default_config()
    return msgspec.structs.replace(cfg, strategy=msgspec.structs.replace(cfg.strategy, exits=exit_profile("classic")))


def run_replay(log_dir: Path, cfg: Config | None = None, files: list[Path] | None = None) -> tuple[ReplaySummary, Replay]:
    """Replay ``files`` with ``cfg`` (default: the built-in defaults) into ``log_dir``."""
    r = Replay(cfg or default_config(), files or bundled_btcusdt(), log_dir=log_dir)
    s = run_async(r.run())
    assert r.pipeline.router.task_errors == 0  # no venue call failed past the router's own handling
    assert r.pipeline.router.lifecycle.stats.illegal == 0
    return s, r
