"""Replay with ``router.mode: auto`` (issue 16): every slice's choice is recorded with its predicted fill
probability, no fill goes beyond the slippage budget, and the same input gives the same run."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from hedge.config import Config
from tests.kit.replay import classic_config, run_replay


def auto_config() -> Config:
    cfg = classic_config()
    r = msgspec.structs.replace
    return r(cfg, strategy=r(cfg.strategy, per_trade_nav_pct=0.02),
             risk=r(cfg.risk, cooloff=r(cfg.risk.cooloff, seconds=0.0)),
             runtime=r(cfg.runtime, router=r(cfg.runtime.router, mode="auto")))


@pytest.mark.slow
def test_auto_mode_in_replay(tmp_path: Path) -> None:
    s1, r1 = run_replay(tmp_path / "a", auto_config())
    s2, _ = run_replay(tmp_path / "b", auto_config())
    assert s1.fingerprint == s2.fingerprint  # deterministic: event time, fitted on the run's own attempts
    assert list(s1.tca) == ["auto"]
    row = s1.tca["auto"]["all"]
    # one execution may still be resting when the recording ends (it has no record; maker_first's runs too)
    assert s1.approved - 1 <= row.intents <= s1.approved and s1.approved > 0 and row.budget_violations == 0
    recs = list(r1.pipeline.router.tca.done)
    choices = [c for rec in recs for c in rec.choices]
    assert len(choices) >= len(recs)  # one per slice
    # the default model (the pegged maker leg fitted on 0718): P ~0.06 in 5 s at first, but the fallback costs
    # only ~0.05 bps more than crossing at once, so resting (a 3 bps cheaper fee when it fills) is mostly the
    # cheaper plan (a slice crosses once the fallbacks seen drifted far enough)
    rested = [c for c in choices if c.rest]
    assert len(rested) > 0.8 * len(choices) and row.maker_share > 0.5
    # and rests 1, 2 or 4 maker timeouts (router.auto.horizons), mostly the longest: P grows faster than the drift
    assert {c.features.horizon_s for c in rested} <= {5.0, 10.0, 20.0}
    assert sum(c.features.horizon_s == 20.0 for c in rested) > len(rested) / 2
    assert max(c.p_fill for c in choices) > 2 * min(c.p_fill for c in choices)
    assert all(0.0 < c.p_fill < 1.0 and (c.rest == (c.maker_bps < c.taker_bps)) for c in choices)
    assert all(not c.filled for c in choices if not c.rest)
