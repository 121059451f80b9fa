"""Bad input to every command that reads recordings (issue 24, items 1, 2 and 16).

``hedge replay``, ``hedge replay --verify-book`` and ``hedge calibrate`` on real files built in
tmp: a file without market data (empty, random bytes, CSV, plain text, gzip cut before its first
line) is refused with "no market data in FILE" and exit code 2; a truncated gzip (cut inside the
first MiB, and past it) is read up to the damage with one warning naming the file and the line,
and is marked in the summary; a file of mostly bad lines is warned about; a file that continues
an earlier one (depth diffs, no snapshot) says which file to give before it.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hedge.cli import main
from hedge.feeds.recording import bundled_btcusdt

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = str(ROOT / "configs")
B0718, B0719 = bundled_btcusdt()
STOPPED = re.compile(r"recording (\S+) is damaged: reading stopped at line ([\d,]+)")

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def hedge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    """Run a command in this process: (exit code, stdout, stderr). ``replay`` gets its own log dir.
    The root logger's handlers are put back afterwards (the command points them at the captured stderr)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level

    def run(*argv: str) -> tuple[int, str, str]:
        extra = ["--log-dir", str(tmp_path / "logs")] if argv[0] == "replay" and "--verify-book" not in argv else []
        capsys.readouterr()
        rc = main([*argv, *extra, "--config", CONFIGS])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return rc, out, err

    yield run
    root.handlers[:] = handlers
    root.setLevel(level)


COMMANDS = {
    "replay": ("replay",),
    "verify-book": ("replay", "--verify-book"),
    "calibrate": ("calibrate", "--dry-run"),
}


def _gzip_of(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


BAD_FILES: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "empty": ("empty.gz", lambda: b"", "empty"),
    "empty gzip": ("empty2.gz", lambda: _gzip_of(b""), "empty"),
    "random bytes": ("garbage.gz", lambda: random.Random(7).randbytes(50_000), "unknown format"),
    "random bytes in gzip": ("garbage2.gz", lambda: _gzip_of(random.Random(8).randbytes(50_000)), "unknown format"),
    "csv": ("prices.csv", lambda: b"ts,price,qty\n1721347022504,64000.1,0.5\n" * 50, "unknown format"),
    "plain text": ("notes.txt", lambda: b"these are my notes\nnothing to see\n", "unknown format"),
    "gzip cut before its first line": ("btcusdt_20240718.gz", lambda: B0718.read_bytes()[:300],
                                       "damaged before any market data"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("kind", BAD_FILES)
def test_a_file_without_market_data_is_refused(hedge: Run, tmp_path: Path, command: str, kind: str) -> None:
    name, content, why = BAD_FILES[kind]
    bad = tmp_path / name
    bad.write_bytes(content())
    rc, out, err = hedge(*COMMANDS[command], str(bad))
    assert rc == 2
    assert f"no market data in {bad}: {why}" in err
    assert out == ""  # refused before anything ran: no summary, no fit


def test_a_directory_without_recordings_is_refused(hedge: Run, tmp_path: Path) -> None:
    (tmp_path / "recs").mkdir()
    rc, _, err = hedge("replay", str(tmp_path / "recs"))
    assert rc == 2 and "a directory without cryptofeed *.ws.* files" in err


def _cut(tmp_path: Path, src: Path, size: int) -> Path:
    cut = tmp_path / src.name
    cut.write_bytes(src.read_bytes()[:size])
    return cut


def _complete_lines(gz: Path) -> int:
    """The complete lines in what a truncated gzip still holds (read by zlib, independently of hedge)."""
    import zlib

    data = zlib.decompressobj(wbits=31).decompress(gz.read_bytes())
    return data.count(b"\n")


def _one_damage_warning(err: str, path: Path) -> int:
    """The line number of the one damage warning in ``err`` (which must name ``path``)."""
    found = STOPPED.findall(err)
    assert len(found) == 1, err
    assert found[0][0] == str(path)
    return int(found[0][1].replace(",", ""))


# Cut points: inside the first MiB (the issue's command: it tripped the format sniffing), near the
# end of the compressed stream, and past the first MiB of the longer file.
CUTS = [(B0718, 100_000), (B0718, 560_000), (B0719, 1_500_000)]


@pytest.mark.parametrize(("src", "size"), CUTS, ids=["0718@100k", "0718@560k", "0719@1.5M"])
def test_a_truncated_gzip_replays_up_to_the_damage(hedge: Run, tmp_path: Path, src: Path, size: int) -> None:
    cut = _cut(tmp_path, src, size)
    rc, out, err = hedge("replay", str(cut))
    assert rc == 0, err
    line = _one_damage_warning(err, cut)
    summary = json.loads(out)
    assert line - 1 == _complete_lines(cut) == summary["lines"]  # every complete line before the damage
    assert list(summary["damaged_files"]) == [str(cut)]
    assert f"reading stopped at line {line:,}" in summary["damaged_files"][str(cut)]
    assert f"DAMAGED {cut}: reading stopped at line {line:,}" in err  # the terminal summary marks it


def test_a_truncated_gzip_in_verify_book_and_calibrate(hedge: Run, tmp_path: Path) -> None:
    cut = _cut(tmp_path, B0718, 400_000)
    rc, out, err = hedge("replay", "--verify-book", str(cut))
    assert rc == 1  # verification fails on a damaged input, but reads it and says where
    line = _one_damage_warning(err, cut)
    summary = json.loads(out)
    assert summary["lines"] == line - 1 and list(summary["damaged_files"]) == [str(cut)]
    assert summary["bookticker_checks"] > 0 and summary["bookticker_mismatches"] == 0
    rc, out, err = hedge("calibrate", "--dry-run", "--tp-bps", "3", "--sl-bps", "3", "--horizon-s", "30", str(cut))
    assert rc == 0, err
    line = _one_damage_warning(err, cut)
    assert f"recordings: {cut.name} ({line - 1} lines, 0 bad, damaged (read up to the damage): {cut})" in out


def test_the_issues_command_exits_0_without_a_traceback(tmp_path: Path) -> None:
    """``head -c 100000 btcusdt_20240718.gz > t.gz; hedge replay t.gz`` (a subprocess, as typed)."""
    cut = tmp_path / "t.gz"
    cut.write_bytes(B0718.read_bytes()[:100_000])
    r = subprocess.run([sys.executable, "-m", "hedge", "replay", str(cut), "--log-dir", str(tmp_path / "logs")],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert _one_damage_warning(r.stderr, cut) > 1000
    assert json.loads(r.stdout)["damaged_files"]


def _mostly_garbage(path: Path, good: int = 3000) -> Path:
    """The first ``good`` lines of the bundled recording, each followed by two lines of garbage."""
    lines = gzip.decompress(B0718.read_bytes()).splitlines()[:good]
    with gzip.open(path, "wb") as f:
        for line in lines:
            f.write(line + b"\nnot a recorded line\n1721347022,64000.1,0.5\n")
    return path


def test_a_file_of_mostly_bad_lines_is_warned_about(hedge: Run, tmp_path: Path) -> None:
    mostly = _mostly_garbage(tmp_path / "mostly.gz")
    rc, out, err = hedge("replay", str(mostly))
    assert rc == 0  # its good lines are replayed
    assert "6,000 of the 9,000 lines read (67%) are not usable market data (no_receive_time 6,000)" in err
    summary = json.loads(out)
    assert summary["events"] == summary["lines"] == 3000
    assert summary["bad_lines"] == 6000 and summary["bad_lines_by_kind"] == {"no_receive_time": 6000}
    for command in ("verify-book", "calibrate"):
        _, _, err = hedge(*COMMANDS[command], str(mostly))
        assert "WARNING: 6,000 of the 9,000 lines read (67%) are not usable market data" in err


def test_a_few_bad_lines_are_not_warned_about(hedge: Run, tmp_path: Path) -> None:
    lines = gzip.decompress(B0718.read_bytes()).splitlines()[:3000]
    p = tmp_path / "some.gz"
    p.write_bytes(gzip.compress(b"\n".join(lines[:1500] + [b"garbage"] * 100 + lines[1500:]) + b"\n"))
    rc, out, err = hedge("replay", str(p))
    assert rc == 0 and json.loads(out)["bad_lines"] == 100
    assert "not usable market data" not in err


def test_lines_with_receive_times_but_no_market_data_exit_2(hedge: Run, tmp_path: Path) -> None:
    p = tmp_path / "odd.gz"
    p.write_bytes(gzip.compress(b"".join(b'%d {"hello": "world"}\n' % (1721347022504000000 + i) for i in range(50))))
    rc, out, err = hedge("replay", str(p))
    assert rc == 2 and f"hedge replay: no market data in {p}: no market event decoded (50 bad lines)" in err
    assert json.loads(out)["events"] == 0  # the run's summary is still printed


NO_SNAPSHOT = ("BTCUSDT: the recording has depth diffs but no snapshot (it continues an earlier file?), so its "
               "book never synced; give the file that holds the snapshot before it, e.g. ")


def test_a_file_that_continues_an_earlier_one_says_which_to_give_first(hedge: Run) -> None:
    rc, _, err = hedge("replay", str(B0719))
    assert rc == 0
    assert NO_SNAPSHOT + f"hedge replay {B0718} {B0719}" in err
    assert "no book data for" not in err  # not the misleading "it has: none"
    rc, out, err = hedge("replay", "--verify-book", str(B0719))
    assert rc == 1 and json.loads(out)["books"] == {"BTCUSDT": "SYNCING"}  # nothing could be verified
    assert NO_SNAPSHOT + f"hedge replay --verify-book {B0718} {B0719}" in err
    _, _, err = hedge("calibrate", "--dry-run", str(B0719))
    assert NO_SNAPSHOT + f"hedge calibrate {B0718} {B0719}" in err


def test_without_the_earlier_file_at_hand_the_advice_names_a_placeholder(hedge: Run, tmp_path: Path) -> None:
    alone = tmp_path / "alone" / B0719.name
    alone.parent.mkdir()
    shutil.copy(B0719, alone)
    rc, _, err = hedge("replay", "--verify-book", str(alone))
    assert rc == 1 and NO_SNAPSHOT + f"hedge replay --verify-book EARLIER_FILE {alone}" in err
