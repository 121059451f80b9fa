"""The shadow pipeline on the bundled recordings (classic profile: it trades): a candidate equal to the
live configuration agrees 100%; another one shows its differences; neither touches the live pipeline."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from hedge.app import run_async
from hedge.config import Config
from hedge.events import Trade
from hedge.feeds.recording import bundled_btcusdt
from hedge.replay.runner import Replay
from hedge.replay.summary import DecisionRecorder, ReplaySummary
from hedge.shadow.pipeline import SHADOW_JOURNAL
from hedge.state import schemas as s
from hedge.state.manifest import read_manifest, read_surface, state_dir
from tests.kit.replay import CLASSIC_FINGERPRINT, classic_config

pytestmark = pytest.mark.slow  # two full replays with a second pipeline


def shadow_on(cfg: Config, **shadow: str) -> Config:
    rt = cfg.runtime
    return msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(
        rt, features=msgspec.structs.replace(rt.features, shadow_pipeline=True),
        shadow=msgspec.structs.replace(rt.shadow, **shadow)))


def replay(cfg: Config, log_dir: Path, *, break_shadow: bool = False) -> tuple[ReplaySummary, Replay, DecisionRecorder]:
    r = Replay(cfg, bundled_btcusdt(), log_dir=log_dir)
    assert r.shadow is not None
    rec = DecisionRecorder(r.shadow.bus)  # the shadow's own decisions, fingerprinted as a replay's are

    def boom(t: Trade) -> None:
        raise RuntimeError("a bug inside the shadow")

    if break_shadow:
        r.shadow.bus.subscribe(Trade, boom)
    return run_async(r.run()), r, rec


@pytest.fixture(scope="module")
def same(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReplaySummary, Replay, DecisionRecorder, Path]:
    d = tmp_path_factory.mktemp("shadow-same")
    return (*replay(shadow_on(classic_config()), d), d)


def test_a_candidate_equal_to_live_agrees_100_percent(same: tuple[ReplaySummary, Replay, DecisionRecorder, Path]) -> None:
    summary, r, rec, d = same
    assert summary.fingerprint == CLASSIC_FINGERPRINT  # the live pipeline is unchanged with the shadow on
    assert rec.fingerprint == CLASSIC_FINGERPRINT  # the shadow decided exactly what live did
    assert r.shadow is not None
    rep = r.shadow.report()
    assert rep.live_intents == rep.shadow_intents == summary.intents > 0
    assert rep.intents_agreed == rep.live_intents and rep.intent_agreement == 1.0
    assert rep.decisions_compared == summary.intents and rep.decision_agreement == 1.0
    assert rep.shadow_orders == summary.orders > 0 and rep.shadow_fills == rep.live_fills == summary.fills > 0
    assert rep.shadow_pnl == pytest.approx(summary.pnl, abs=1e-6)  # hypothetical = what live got, here
    assert rep.errors == 0 and rep.differences == []
    sig = r.shadow.pipeline.signals  # lean: the live features read, no views, no diagnostics
    assert r.shadow.shares_features and sig.features.states is r.pipeline.signals.features.states
    assert not sig.views and sig.factors is None and r.pipeline.signals.factors is not None
    state = read_surface(state_dir(d), s.ShadowState)
    assert state is not None and state.enabled and state.intent_agreement == 1.0
    assert state.ticks == rep.ticks > 0
    assert "shadow_state" in {e.name for e in read_manifest(state_dir(d)).surfaces}
    kinds = [msgspec.json.decode(line)["kind"] for line in (d / f"{SHADOW_JOURNAL}.jsonl").read_text().splitlines()]
    assert kinds.count("intent") == summary.intents and kinds.count("order") == summary.orders
    assert kinds.count("fill") == summary.fills
    # the live journal holds the live orders only (the shadow's are in its own directory)
    assert len((d / "orders_sent.jsonl").read_text().splitlines()) == len(
        (d / "shadow" / "orders_sent.jsonl").read_text().splitlines())


def test_another_candidate_shows_its_differences_and_its_bugs_stay_inside(tmp_path: Path) -> None:
    overlay = tmp_path / "candidate.yaml"
    overlay.write_text("strategy:\n  strategies:\n    - name: micro_scalper\n      params: {entry_threshold: 0.8}\n")
    summary, r, rec = replay(shadow_on(classic_config(), overlay=str(overlay)), tmp_path / "run", break_shadow=True)
    assert summary.fingerprint == CLASSIC_FINGERPRINT  # a raising shadow never hurts the live pipeline
    assert r.shadow is not None
    rep = r.shadow.report()
    assert rep.candidate == str(overlay)
    assert rep.errors > 0  # counted (and logged)
    assert rep.shadow_intents < rep.live_intents  # a higher threshold: fewer entries
    assert rep.intent_agreement < 1.0 and rep.differences
    assert rec.fingerprint != CLASSIC_FINGERPRINT
    assert r.shadow.shares_features  # the same features, other decisions


def test_a_candidate_with_other_feature_parameters_derives_its_own(tmp_path: Path) -> None:
    overlay = tmp_path / "candidate.yaml"
    overlay.write_text("strategy:\n  signals: {flow_window_s: 2.5}\n")
    summary, r, _ = replay(shadow_on(classic_config(), overlay=str(overlay)), tmp_path / "run")
    assert summary.fingerprint == CLASSIC_FINGERPRINT
    assert r.shadow is not None and not r.shadow.shares_features
    sig = r.shadow.pipeline.signals
    assert sig.features.states is not r.pipeline.signals.features.states
    assert sig.features.params.flow_window_s == 2.5
    rep = r.shadow.report()
    assert rep.errors == 0 and rep.ticks > 0 and rep.shadow_intents > 0
