"""``hedge sweep`` on a real local Ray: the table in spec order, a row equal to a plain ``hedge replay``,
the same table twice, a failed point recorded, a walk-forward fitted as ``hedge calibrate`` fits."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hedge.cli import main
from hedge.feeds.recording import bundled_btcusdt
from hedge.research.spec import Point, Window, point_env
from hedge.research.sweep import run_ray

# one worker holds the one local Ray (make test: xdist --dist loadgroup)
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_ray"), pytest.mark.xdist_group("ray")]

DAY1 = str(bundled_btcusdt()[0])  # the short bundled recording (8 minutes)
SPEC = """params:
  strategy.exits.profile: [classic, scalper]
  runtime.replay.latency_ms: [0, 5]
report: {best: 2}
"""
KEYS = ["strategy.exits.profile", "runtime.replay.latency_ms"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("sweep")
    (d / "spec.yaml").write_text(SPEC)
    assert main(["sweep", str(d / "spec.yaml"), DAY1, "--out", str(d / "out")]) == 0
    return d / "out"


def _replay_fingerprint(tmp: Path, env: dict[str, str], files: list[str], config: str | None = None) -> str:
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        args = ["replay", *files, "--log-dir", str(tmp / "log"), "--out", str(tmp / "s.json")]
        assert main([*args, *(["--config", config] if config else [])]) == 0
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return str(json.loads((tmp / "s.json").read_text())["fingerprint"])


def test_the_table_holds_every_point_in_spec_order(swept: Path) -> None:
    rows = pq.read_table(swept / "results.parquet").to_pylist()
    assert [(r["point"], r["strategy.exits.profile"], r["runtime.replay.latency_ms"]) for r in rows] == [
        (0, "classic", 0), (1, "classic", 5), (2, "scalper", 0), (3, "scalper", 5)]
    assert all(r["error"] == r["warning"] == "" and r["recordings"] == "btcusdt_20240718.gz" for r in rows)
    assert rows[0]["fills"] > 0 and rows[0]["pnl"] != 0.0 and rows[2]["fills"] == 0
    with (swept / "results.csv").open() as f:
        assert [r["fingerprint"] for r in csv.DictReader(f)] == [r["fingerprint"] for r in rows]
    page = (swept / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2  # the heat map and the equity curves
    meta = json.loads((swept / "sweep.json").read_text())
    assert meta["points"] == 4 and meta["failed"] == 0 and meta["worker_peak_rss_mb"]


def test_a_row_is_a_plain_hedge_replay(swept: Path, tmp_path: Path) -> None:
    row = pq.read_table(swept / "results.parquet").to_pylist()[1]  # classic, latency 5 ms
    env = {"HEDGE_STRATEGY__EXITS__PROFILE": "classic", "HEDGE_RUNTIME__REPLAY__LATENCY_MS": "5"}
    assert _replay_fingerprint(tmp_path, env, [DAY1]) == row["fingerprint"]


def test_the_same_points_give_the_same_rows_and_a_failed_point_is_a_row(swept: Path, tmp_path: Path) -> None:
    rows = pq.read_table(swept / "results.parquet").to_pylist()
    pts = [Point(0, {KEYS[0]: "classic", KEYS[1]: 0}, Window([DAY1], test_label="btcusdt_20240718.gz")),
           Point(1, {KEYS[0]: "classic", KEYS[1]: 0}, Window([str(tmp_path / "gone.gz")]))]
    got = run_ray(pts, None, [point_env(os.environ, p.params) for p in pts])
    again = {k: v for k, v in got[0].row.items() if k != "wall_s"}
    assert again == {k: v for k, v in rows[0].items() if k != "wall_s"}
    assert got[1].row["fingerprint"] is None and "gone.gz" in got[1].row["error"]


def test_walk_forward_fits_on_one_day_and_replays_the_next(tmp_path: Path) -> None:
    spec = tmp_path / "wf.yaml"
    spec.write_text("params:\n  strategy.exits.profile: [classic, scalper]\nwalk_forward: {train: 1, test: 1}\n")
    days = [str(p) for p in bundled_btcusdt()]
    assert main(["sweep", str(spec), *days, "--out", str(tmp_path / "out")]) == 1  # one point failed
    rows = pq.read_table(tmp_path / "out" / "results.parquet").to_pylist()
    assert [(r["trained_on"], r["recordings"]) for r in rows] == [("btcusdt_20240718.gz", "btcusdt_20240719.gz")] * 2
    assert "degenerate fit" in rows[0]["error"]  # classic: every label of day 1 a loss, as hedge calibrate says
    assert rows[1]["error"] == ""
    assert "no snapshot for BTCUSDT" in rows[1]["warning"]  # day 2 alone continues day 1: its book never syncs
    config = tmp_path / "config"  # what `hedge calibrate DAY1 --out config/calibrator.yaml` gives, on configs/
    shutil.copytree("configs", config)
    shutil.copyfile(tmp_path / "out" / "calibrators" / "0001.yaml", config / "calibrator.yaml")
    fp = _replay_fingerprint(tmp_path, {"HEDGE_STRATEGY__EXITS__PROFILE": "scalper"}, days[1:], str(config))
    assert fp == rows[1]["fingerprint"]
