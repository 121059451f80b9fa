"""The feature flags: the seed's environment names map onto ``runtime.features``, HEDGE_FEATURE_<NAME>
wins over them, bad values and turning the risk engine off are configuration errors; the flags
reach diagnostics.json, ``hedge status`` and /metrics."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec
import pytest

from hedge.bus import Bus
from hedge.config import ConfigErrors, Features, load_config
from hedge.config.env import SEED_FLAGS
from hedge.model.clock import EventClock
from hedge.state import schemas as s
from hedge.state.health import HealthMonitor, HealthRules
from hedge.state.prometheus import HedgeCollector, build_registry, render
from hedge.state.schemas import AlertStats
from hedge.state.surfaces import StateModel
from hedge.state.telemetry import Telemetry

RESERVED = ("intel", "shadow_pipeline", "router_autotune", "router_autotune_apply", "feedback_allocator")


def problems(tmp_path: Path, env: dict[str, str]) -> str:
    with pytest.raises(ConfigErrors) as exc:
        load_config(tmp_path, env=env)
    return str(exc.value)


def test_new_flags_exist_and_are_off_by_default(tmp_path: Path) -> None:
    f = load_config(tmp_path, env={}).runtime.features
    assert all(getattr(f, name) is False for name in RESERVED)
    assert set(SEED_FLAGS.values()) <= set(Features.__struct_fields__)


@pytest.mark.parametrize(("var", "flag"), sorted(SEED_FLAGS.items()))
def test_each_seed_name_sets_its_flag(tmp_path: Path, var: str, flag: str) -> None:
    on = load_config(tmp_path, env={var: "1"}).runtime.features
    assert getattr(on, flag) is True
    assert [f for f in RESERVED if getattr(on, f)] == [flag]
    assert getattr(load_config(tmp_path, env={var: "false"}).runtime.features, flag) is False


def test_hedge_feature_name_wins_over_the_seed_name(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        f = load_config(tmp_path, env={"INTEL_V6_ENABLED": "1", "HEDGE_FEATURE_INTEL": "0"}).runtime.features
    assert f.intel is False
    assert "INTEL_V6_ENABLED=1 and HEDGE_FEATURE_INTEL=0 disagree: HEDGE_FEATURE_INTEL wins" in caplog.text
    f = load_config(tmp_path, env={"ROUTER_AUTOTUNE_V6_APPLY_ENABLED": "0",
                                   "HEDGE_FEATURE_ROUTER_AUTOTUNE_APPLY": "1"}).runtime.features
    assert f.router_autotune_apply is True


@pytest.mark.parametrize("value", ["yes", "2", "on", "", "enabled"])
def test_a_bad_seed_value_is_a_config_error(tmp_path: Path, value: str) -> None:
    text = problems(tmp_path, {"INTEL_V6_ENABLED": value})
    assert f"environment INTEL_V6_ENABLED: expected 0, 1, true or false, got {value!r}" in text


def test_the_risk_engine_cannot_be_turned_off(tmp_path: Path) -> None:
    assert "always on in hedge and cannot be turned off" in problems(tmp_path, {"RISK_ENGINE_V6_ENABLED": "0"})
    assert "got '2'" in problems(tmp_path, {"RISK_ENGINE_V6_ENABLED": "2"})
    load_config(tmp_path, env={"RISK_ENGINE_V6_ENABLED": "1"})  # on is what it is: accepted


def test_flags_reach_diagnostics_status_and_metrics(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, env={"INTEL_V6_ENABLED": "1"})
    flags = msgspec.structs.asdict(cfg.runtime.features)
    clock = EventClock(1_000_000_000)
    t = Telemetry(clock)
    health = HealthMonitor(t, HealthRules(symbols=("BTCUSDT",)))
    bus = Bus()
    model = StateModel(t, health, bus, features=flags)
    diag = model.build("diagnostics")
    assert isinstance(diag, s.Diagnostics)
    assert diag.features["intel"] is True and diag.features["feedback_allocator"] is False
    text = render(build_registry(HedgeCollector(t, model, health, bus, AlertStats))).decode()
    assert 'hedge_feature_enabled{flag="intel"} 1.0' in text
    assert 'hedge_feature_enabled{flag="router_autotune_apply"} 0.0' in text
