"""The feedback allocator in a replay: deterministic (a fixed fingerprint), and its budgets on the scores surface."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from hedge.state import schemas as s
from hedge.state.manifest import read_surface, state_dir
from tests.kit.replay import CLASSIC_FINGERPRINT, classic_config, run_replay

ALLOCATOR_FINGERPRINT = "ad5c0c511d785edad8b5be6419f3e27311c1639cdca4440c2fbc77b0e72efe5f"  # classic + allocator


@pytest.mark.slow
def test_the_allocator_is_deterministic_and_visible(tmp_path: Path) -> None:
    cfg = classic_config()
    rt = cfg.runtime
    cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(
        rt, features=msgspec.structs.replace(rt.features, feedback_allocator=True)))
    summary, _ = run_replay(tmp_path, cfg)
    assert summary.fingerprint == ALLOCATOR_FINGERPRINT != CLASSIC_FINGERPRINT  # the budgets resized intents
    scores = read_surface(state_dir(tmp_path), s.SymbolScores)
    assert scores is not None
    budgets = [row.budget for row in scores.strategies]
    assert budgets and all(0.25 <= b <= 1.5 for b in budgets) and budgets != [1.0]
