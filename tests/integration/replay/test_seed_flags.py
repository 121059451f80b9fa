"""The seed's flag names, end to end: each environment name, through the real configuration loading
(configs/), builds in a replay what the intel issue says it turns on, and a short slice of the bundled
recording runs with it; ``RISK_ENGINE_V6_ENABLED=0`` is a configuration error; with none set nothing
of it is built."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest

from hedge.app import run_async
from hedge.config import ConfigErrors, load_config
from hedge.feeds.recording import bundled_btcusdt
from hedge.replay.runner import Replay
from hedge.state import schemas as s
from hedge.state.manifest import read_surface, state_dir
from tests.kit.config import CONFIGS, make_config

LINES = 4000  # ~6 s of market: a snapshot, books, trades


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seed-flags") / "btcusdt_head.gz"
    with gzip.open(bundled_btcusdt()[0], "rt") as src, gzip.open(path, "wt") as dst:
        dst.writelines(itertools.islice(src, LINES))
    return path


def built(r: Replay) -> dict[str, object]:
    """What the flags can build, as found on the replay's pipeline."""
    sig, router = r.pipeline.signals, r.pipeline.router
    return {
        "conviction": sig.conviction is not None and sig.screener.conviction is sig.conviction,
        "shadow": r.shadow is not None,
        "allocator": sig.allocator is not None and sig.screener.allocator is sig.allocator,
        "autotune": None if router.autotune is None else ("applies" if router.autotune.apply else "proposes"),
    }


NOTHING = {"conviction": False, "shadow": False, "allocator": False, "autotune": None}


CASES = [
    ({}, NOTHING),
    ({"INTEL_V6_ENABLED": "1"}, {**NOTHING, "conviction": True}),
    ({"PIPELINE_V6_SHADOW_ENABLED": "1"}, {**NOTHING, "shadow": True}),
    ({"FEEDBACK_ALLOCATOR_V6_ENABLED": "1"}, {**NOTHING, "allocator": True}),
    ({"ROUTER_AUTOTUNE_V6_ENABLED": "1"}, {**NOTHING, "autotune": "proposes"}),
    ({"ROUTER_AUTOTUNE_V6_ENABLED": "1", "ROUTER_AUTOTUNE_V6_APPLY_ENABLED": "0"}, {**NOTHING, "autotune": "proposes"}),
    ({"ROUTER_AUTOTUNE_V6_APPLY_ENABLED": "1"}, {**NOTHING, "autotune": "applies"}),
    ({"RISK_ENGINE_V6_ENABLED": "1"}, NOTHING),
]


@pytest.mark.parametrize(("env", "expected"), CASES, ids=[",".join(f"{k}={v}" for k, v in e.items()) or "none"
                                                          for e, _ in CASES])
def test_each_seed_name_turns_on_its_part_in_a_replay(
    env: dict[str, str], expected: dict[str, object], recording: Path, tmp_path: Path,
) -> None:
    cfg = make_config(tmp_path / "logs", base=load_config(CONFIGS, env=env))
    r = Replay(cfg, [recording], log_dir=tmp_path / "logs")
    assert built(r) == expected
    summary = run_async(r.run())
    assert summary.events > 0
    shadow = read_surface(state_dir(tmp_path / "logs"), s.ShadowState)
    if expected["shadow"]:  # it started, decided on the ticks and reported
        assert r.shadow is not None and r.shadow.ticks > 0 and r.shadow.errors == 0
        assert shadow is not None and shadow.enabled and shadow.ticks == r.shadow.ticks
    else:
        assert shadow is None or not shadow.enabled


def test_turning_the_risk_engine_off_is_a_configuration_error() -> None:
    with pytest.raises(ConfigErrors, match="RISK_ENGINE_V6_ENABLED"):
        load_config(CONFIGS, env={"RISK_ENGINE_V6_ENABLED": "0"})
