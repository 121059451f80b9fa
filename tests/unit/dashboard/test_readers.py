"""The dashboard's file readers and series: a bad file is a problem to show, never an exception."""

from __future__ import annotations

import math
from pathlib import Path

import msgspec
import numpy as np
import pytest

from hedge.dashboard import series
from hedge.dashboard.positions import r_multiple
from hedge.dashboard.readers import read_state
from hedge.dashboard.scores import sprt_bounds, sprt_verdict
from hedge.state import schemas as s


@pytest.mark.parametrize(("content", "problem"), [
    (None, "missing"),
    (b"", "empty"),
    (b'{"nav": 1', "corrupt or partial JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"nav": "high"}', "does not match NavState v1"),
])
def test_bad_state_files(tmp_path: Path, content: bytes | None, problem: str) -> None:
    (tmp_path / "state").mkdir()
    if content is not None:
        (tmp_path / "state" / "nav_state.json").write_bytes(content)
    got = read_state(tmp_path, s.NavState)
    assert got.value is None and got.problem.startswith(problem) and got.path.name == "nav_state.json"


def test_newer_schema_reads_with_a_notice_and_keeps_unknown_fields(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "router_health.json").write_bytes(msgspec.json.encode(
        {"schema_version": 2, "updated_ns": 5, "symbols": [{"symbol": "X", "quality_score": 0.8}]}))
    got = read_state(tmp_path, s.RouterHealthState)
    assert got.value is not None and got.value.symbols[0].symbol == "X" and got.written_ns == 5
    assert "newer schema (v2" in got.problem and got.extra("symbols")[0]["quality_score"] == 0.8


def test_nav_frame_drawdown_and_daily_pnl() -> None:
    day = 86_400 * 10**9
    rows = np.array([(0, 100.0), (day // 2, 120.0), (day, 90.0), (day + 1, 95.0)], dtype=np.float64)
    nav = series.nav_frame(rows)
    assert nav["drawdown"].tolist() == pytest.approx([0.0, 0.0, -0.25, 95 / 120 - 1])
    assert series.daily_pnl(nav)["pnl"].tolist() == pytest.approx([20.0, -25.0])
    assert len(series.thin(series.nav_frame(np.column_stack([np.arange(10_000.0), np.ones(10_000)])))) == series.MAX_POINTS


def test_r_multiple_and_sprt() -> None:
    assert r_multiple(1.0, 100.0, 95.0, 110.0) == pytest.approx(2.0)
    assert r_multiple(-1.0, 100.0, 105.0, 95.0) == pytest.approx(1.0)
    assert math.isnan(r_multiple(1.0, 100.0, 0.0, 110.0))
    lower, upper = sprt_bounds(0.05, 0.10)
    assert lower == pytest.approx(math.log(0.10 / 0.95)) and upper == pytest.approx(math.log(0.90 / 0.05))
    assert [sprt_verdict(x, True, lower, upper) for x in (lower, 0.0, upper)] == ["no edge (disabled)", "testing", "edge"]
