"""``hedge report LOGDIR``: equity, fills and vetoes charts and one HTML file from a replay's log dir."""

from __future__ import annotations

from pathlib import Path

from hedge.cli import main
from hedge.replay.summary import ReplaySummary


def test_a_replay_log_dir_gives_the_charts_and_one_page(
        classic_replay: tuple[ReplaySummary, Path], tmp_path: Path, capsys: object) -> None:
    summary, log_dir = classic_replay
    assert main(["report", str(log_dir), "--out", str(tmp_path)]) == 0
    for name in ("equity.png", "fills.png", "vetoes.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3
    assert f"{summary.fills:,} fills" in page and "replay log dir" in page


def test_a_dir_without_journals_is_refused(tmp_path: Path) -> None:
    assert main(["report", str(tmp_path)]) == 1
