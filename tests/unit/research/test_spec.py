"""A sweep spec: ranges, the points' fixed order, the environment of a point, the schema check up front."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.config import load_config
from hedge.research.spec import (
    SpecError,
    SweepSpec,
    WalkForward,
    check,
    env_name,
    expand,
    load_spec,
    point_env,
    points,
    recordings,
)


def test_a_range_includes_its_end_without_float_noise() -> None:
    assert expand("k", {"from": 0.1, "to": 0.3, "step": 0.1}) == [0.1, 0.2, 0.3]
    assert expand("k", {"from": 1, "to": 5, "step": 2}) == [1, 3, 5]
    assert expand("k", ["a", "b"]) == ["a", "b"]
    with pytest.raises(SpecError, match="from, to, step"):
        expand("k", {"from": 1, "to": 2})
    with pytest.raises(SpecError, match="empty"):
        expand("k", [])


@given(lo=st.integers(-50, 50), n=st.integers(1, 20), step=st.sampled_from([0.5, 0.25, 1.0, 0.1]))
def test_a_range_has_its_count_and_bounds(lo: int, n: int, step: float) -> None:
    values = expand("k", {"from": lo, "to": lo + (n - 1) * step, "step": step})
    assert len(values) == n
    assert values[0] == lo
    assert values[-1] == pytest.approx(lo + (n - 1) * step)


def test_points_are_the_product_in_spec_order_then_the_recordings() -> None:
    spec = SweepSpec(params={"strategy.a": [1, 2], "risk.b": ["x", "y"]})
    pts = points(spec, [["d1.gz"], ["d2.gz"]])
    assert [p.index for p in pts] == list(range(8))
    assert [(p.params["strategy.a"], p.params["risk.b"], p.window.test[0]) for p in pts[:3]] == [
        (1, "x", "d1.gz"), (1, "x", "d2.gz"), (1, "y", "d1.gz")]
    assert points(spec, [["d1.gz"], ["d2.gz"]]) == pts


def test_walk_forward_windows_move_on_by_the_test_size() -> None:
    spec = SweepSpec(params={"strategy.a": [1]}, walk_forward=WalkForward(train=2, test=1))
    wins = [(p.window.train, p.window.test) for p in points(spec, [["a"], ["b"], ["c"], ["d"]])]
    assert wins == [(["a", "b"], ["c"]), (["b", "c"], ["d"])]
    with pytest.raises(SpecError, match="no window"):
        points(spec, [["a"], ["b"]])


def test_a_recording_may_span_files() -> None:
    spec = SweepSpec(params={"strategy.a": [1]}, recordings=["x/a.gz", ["x/b1.gz", "x/b2.gz"]])
    assert recordings(spec, [], ["d.gz"]) == [["x/a.gz"], ["x/b1.gz", "x/b2.gz"]]
    assert recordings(spec, ["y/c1.gz+y/c2.gz"], ["d.gz"]) == [["y/c1.gz", "y/c2.gz"]]
    assert recordings(SweepSpec(), [], ["d1.gz", "d2.gz"]) == [["d1.gz", "d2.gz"]]  # the bundled pair: one stream
    pts = points(spec, recordings(spec, [], []))
    assert [(p.window.test, p.window.test_label) for p in pts] == [
        (["x/a.gz"], "a.gz"), (["x/b1.gz", "x/b2.gz"], "b1.gz+b2.gz")]


def test_a_point_is_the_environment_hedge_replay_reads() -> None:
    assert env_name("strategy.exits.profile") == "HEDGE_strategy__exits__profile"
    env = point_env({"HEDGE_STRATEGY__EXITS__PROFILE": "scalper", "PATH": "/bin", "DRY_RUN": "1"},
                    {"strategy.exits.profile": "classic", "runtime.replay.latency_ms": 2.5})
    assert env == {"DRY_RUN": "1", "HEDGE_strategy__exits__profile": "classic", "HEDGE_runtime__replay__latency_ms": "2.5"}
    cfg = load_config(None, env=env)
    assert cfg.strategy.exits.profile == "classic"
    assert cfg.runtime.replay.latency_ms == 2.5


def test_the_schema_check_names_every_bad_key_and_value(tmp_path: Path) -> None:
    spec_file = tmp_path / "s.yaml"
    spec_file.write_text("params:\n  strategy.exits.profile: [classic, nope]\n  strategy.exits.bogus: [1]\n"
                         "  runtime.replay.latency_ms: {from: 0, to: 1, step: 1}\n")
    problems = check(load_spec(spec_file), None, {})
    assert len(problems) == 2
    assert "strategy.exits.profile = 'nope'" in problems[0] and "expected one of" in problems[0]
    assert "strategy.exits.bogus" in problems[1]
    assert check(SweepSpec(params={"nosection": [1]}), None, {})[0].startswith("params.nosection: expected")


def test_a_bad_spec_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("params: {}\nrunz: each\n")
    with pytest.raises(SpecError, match="runz"):
        load_spec(f)
    f.write_text("params: {a.b: [1]}\nreport: {heatmap: [x.y, a.b]}\n")
    with pytest.raises(SpecError, match="heatmap"):
        load_spec(f)
