"""Missing, partial, corrupt and newer-schema files: the panel names the file and says why; never a
traceback. And a daemon's log dir whose files stopped changing: every panel's age turns red."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from hedge.dashboard.app import PANELS
from tests.integration.dashboard.conftest import Drive, texts


def test_corrupt_partial_and_missing_state_files_are_named(dashboard: Drive, replay_copy: Path) -> None:
    state = replay_copy / "state"
    (state / "nav_state.json").write_text('{"schema_version": 1, "nav": 12')  # torn
    (state / "kpis.json").write_text("")  # empty
    (state / "risk_snapshot.json").unlink()
    (state / "router_health.json").write_text('{"symbols": "not a list"}')  # schema mismatch
    (state / "diagnostics.json").write_bytes(b"\x00\xff garbage")
    for panel in PANELS:
        at = dashboard([replay_copy], panel.TITLE)
        assert not at.error, (panel.TITLE, [e.value for e in at.error])  # no panel failed
    eq = texts(dashboard([replay_copy], "Equity"))
    assert "nav_state.json`: corrupt or partial JSON" in eq and "kpis.json`: empty" in eq
    assert "risk_snapshot.json`: missing" in texts(dashboard([replay_copy], "Risk"))
    assert "router_health.json`: does not match RouterHealthState" in texts(dashboard([replay_copy], "Router health"))
    assert "diagnostics.json`: corrupt or partial JSON" in texts(dashboard([replay_copy], "Health"))


def test_newer_schema_still_shows_with_a_notice(dashboard: Drive, replay_copy: Path) -> None:
    path = replay_copy / "state" / "nav_state.json"
    data = json.loads(path.read_text())
    data.update(schema_version=9, a_field_from_the_future=1)
    path.write_text(json.dumps(data))
    at = dashboard([replay_copy], "Equity")
    assert "written by a newer schema (v9; this dashboard reads v1)" in texts(at)
    assert {m.label: m.value for m in at.metric}["NAV (USDT)"] == f"{data['nav']:,.2f}"


def test_torn_and_corrupt_journal_lines_are_skipped(dashboard: Drive, replay_copy: Path) -> None:
    with open(replay_copy / "fills.jsonl", "ab") as f:
        f.write(b'{"ts_ns":1,"kind":"fill","data":{"source":"user_stream","fill":{"fee": "x"}}}\n{"ts_ns":2,"kind":"fi')
    at = dashboard([replay_copy], "Equity")
    assert "fills.jsonl`: 1 line(s) did not parse" in texts(at)
    assert not at.error


def test_missing_log_dir_and_bad_config(dashboard: Drive, tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "risk.yaml").write_text("daily_dd_limit: lots\n")
    at = dashboard([tmp_path / "nowhere"], "Risk", config=tmp_path / "cfg")
    text = texts(at)
    assert "NO SUCH DIRECTORY" in text and "risk_snapshot.json`: missing" in text
    assert "daily_dd_limit" in text and "built-in defaults are shown" in text


def test_a_stopped_daemons_panels_turn_red(dashboard: Drive, replay_copy: Path) -> None:
    """A daemon's log dir (daemon.json) read against the wall clock: files older than 3 intervals are stale."""
    (replay_copy / "daemon.json").write_text(json.dumps({"pid": 1, "venue": "local"}))
    old = time.time_ns() - 60 * 10**9
    for f in (replay_copy / "state").glob("*.json"):
        data = json.loads(f.read_text())
        if "updated_ns" in data:
            data["updated_ns"] = old
            f.write_text(json.dumps(data))
    for f in replay_copy.glob("*.jsonl"):
        os.utime(f, ns=(old, old))
    for panel in PANELS:
        at = dashboard([replay_copy], panel.TITLE)
        ages = [c.value for c in at.caption if "data age" in c.value]
        assert ages and all(a.startswith(":red[STALE: data age ") for a in ages), (panel.TITLE, ages)
        # 60 s old when written; a loaded machine may take a while to get here, never less
        assert all(float(a.split("data age ")[1].split(" s")[0]) >= 60 for a in ages), (panel.TITLE, ages)


def test_a_running_daemons_panels_are_green(dashboard: Drive, replay_copy: Path) -> None:
    (replay_copy / "daemon.json").write_text(json.dumps({"pid": 1, "venue": "local"}))
    path = replay_copy / "state" / "diagnostics.json"
    data = json.loads(path.read_text())
    data["updated_ns"] = time.time_ns()  # the heartbeat: rewritten every interval while the engine runs
    path.write_text(json.dumps(data))
    at = dashboard([replay_copy], "Risk")
    ages = [c.value for c in at.caption if "data age" in c.value]
    assert ages and all(a.startswith(":green[") for a in ages), ages
