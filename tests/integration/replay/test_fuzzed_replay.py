"""A fuzzed recording (3 bytes corrupted in about half the lines, ``scripts/make_fuzzed_recording.py``)
replays at about the clean file's rate per line; its bad lines are counted by kind in the summary
and each kind is logged once, not once per line (issue 15, item 5)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from hedge.feeds.recording import bundled_btcusdt
from hedge.replay.summary import ReplaySummary
from tests.kit.replay import run_replay

ROOT = Path(__file__).resolve().parents[3]
ROUNDS = 2


def fuzz(out: Path) -> dict[str, object]:
    p = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_fuzzed_recording.py"), str(out), "--seed", "7"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    result: dict[str, object] = json.loads(p.stdout.strip().splitlines()[-1])
    return result


def logged_kinds(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The kind of every bad-line / malformed-frame warning logged (its first argument)."""
    return [str(r.args[0]) for r in caplog.records  # type: ignore[index]
            if r.name in ("hedge.feeds.recording", "hedge.feeds.codec") and r.levelno == logging.WARNING
            and ("bad line" in r.msg or "malformed frame" in r.msg)]


def test_a_fuzzed_recording_replays_at_the_clean_rate(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clean = bundled_btcusdt()[0]
    fuzzed = tmp_path / "fuzzed" / clean.name  # the same name: the snapshot's symbol comes from it
    made = fuzz(fuzzed)
    assert made["lines"] == 11_414 and 5_000 < int(str(made["corrupted"])) < 6_500

    caplog.set_level(logging.WARNING)
    runs: dict[str, list[ReplaySummary]] = {"clean": [], "fuzzed": []}
    kinds: list[list[str]] = []
    for i in range(ROUNDS):  # alternating: a loaded machine slows both alike
        runs["clean"].append(run_replay(tmp_path / f"clean{i}", files=[clean])[0])
        caplog.clear()
        runs["fuzzed"].append(run_replay(tmp_path / f"fuzzed{i}", files=[fuzzed])[0])
        kinds.append(logged_kinds(caplog))

    c, f = runs["clean"][0], runs["fuzzed"][0]
    # Counted by kind: every corrupted line that is not still valid JSON of the right shape.
    assert c.bad_lines == 0 and c.bad_lines_by_kind == {}
    assert f.bad_lines == sum(f.bad_lines_by_kind.values())
    assert 0.95 * int(str(made["corrupted"])) <= f.bad_lines <= int(str(made["corrupted"]))
    assert {"no_receive_time", "receive_time_out_of_order", "invalid_json"} <= set(f.bad_lines_by_kind)
    assert f.lines + f.bad_lines_by_kind["no_receive_time"] + f.bad_lines_by_kind["receive_time_out_of_order"] \
        == 11_414
    # A corrupted receive time never moves the event clock: the fuzzed file covers the clean file's time.
    assert f.recorded_s <= c.recorded_s + 1.0
    # Logged once per kind per replay, not once per line.
    for logged in kinds:
        assert sorted(logged) == sorted(set(logged)), logged
        assert {"no_receive_time", "invalid_json"} <= set(logged)

    # The rate: lines (good and bad) per second of the best round of each, within a generous 3x.
    lines = 11_414
    clean_rate = lines / min(s.wall_s for s in runs["clean"])
    fuzzed_rate = lines / min(s.wall_s for s in runs["fuzzed"])
    assert fuzzed_rate * 3 >= clean_rate, (fuzzed_rate, clean_rate)
