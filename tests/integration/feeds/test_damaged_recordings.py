"""A recording file cut or corrupted anywhere is read up to the damage, never raised out of the reader.

Property: a valid gzip recording truncated at any byte gives a prefix of the full file's records
(every complete line before the cut), names the file in ``ReadStats.damaged`` with the line where
reading stopped, and ``probe`` never raises. Corrupt bytes anywhere never raise either.
"""

from __future__ import annotations

import gzip
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedge.feeds import recording
from hedge.feeds.recording import (
    ReadStats,
    RecordedLine,
    bundled_btcusdt,
    gzip_readers,
    iter_recording,
    probe,
    read_lines,
)

LINES = gzip.decompress(bundled_btcusdt()[0].read_bytes()).splitlines(keepends=True)[:400]
# Two gzip members (a recorder that appended), small blocks: cuts land in headers, blocks and trailers.
MEMBER1 = gzip.compress(b"".join(LINES[:150]), compresslevel=1, mtime=0)
DATA = MEMBER1 + gzip.compress(b"".join(LINES[150:]), compresslevel=1, mtime=0)
TMP = Path(tempfile.mkdtemp(prefix="hedge-damaged-"))


def _read(data: bytes, name: str) -> tuple[list[RecordedLine], ReadStats, str]:
    path = TMP / name
    path.write_bytes(data)
    stats = ReadStats()
    return list(iter_recording([path], stats)), stats, probe(path)


FULL, FULL_STATS, _ = _read(DATA, "btcusdt_20240718.gz")


def test_the_intact_file_is_read_whole() -> None:
    assert len(FULL) == FULL_STATS.lines == 400 and not FULL_STATS.damaged and not FULL_STATS.bad_lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=len(DATA) - 1))
def test_a_cut_anywhere_reads_a_prefix(cut: int) -> None:
    recs, stats, why = _read(DATA[:cut], "btcusdt_20240718.gz")
    assert recs == FULL[: len(recs)]
    complete = zlib.decompressobj(wbits=31).decompress(DATA[:cut]).count(b"\n")  # the first member's
    assert len(recs) >= min(complete, 150)
    if cut < len(b"\x1f\x8b"):  # not even the gzip magic: read as plain text, no market data
        assert not recs and not stats.damaged and why == ("empty" if cut == 0 else why) and why
        return
    if cut == len(MEMBER1):  # a whole gzip member: a complete file
        assert len(recs) == 150 and not stats.damaged and why == ""
        return
    [(path, where)] = stats.damaged.items()
    assert path.endswith("btcusdt_20240718.gz")
    assert (f"reading stopped at line {len(recs) + 1:,}" if recs else "before its first complete line") in where
    assert (why == "") == bool(recs)  # probe: usable when a line was read, else "damaged before any market data"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, len(DATA) - 1), st.integers(1, 255)), min_size=1, max_size=4))
def test_corrupt_bytes_never_raise(flips: list[tuple[int, int]]) -> None:
    data = bytearray(DATA)
    for at, x in flips:
        data[at] ^= x
    recs, stats, _ = _read(bytes(data), "btcusdt_20240718.gz")
    assert len(recs) <= stats.lines <= len(LINES) + 1


def test_a_line_without_an_end_in_64_mib_is_damage_not_memory(tmp_path: Path) -> None:
    big = tmp_path / "zeros.bin"
    with open(big, "wb") as f:
        f.truncate(65 << 20)  # 65 MiB of NUL bytes, no line end
    seen: list[str] = []
    assert list(read_lines(big, lambda p, where: seen.append(where))) == []
    assert len(seen) == 1 and "no line end in 64 MiB" in seen[0]


def _damaged_reads() -> list[tuple[list[RecordedLine], str]]:
    corrupt = bytearray(DATA)
    corrupt[len(MEMBER1) + 200] ^= 0x55  # inside the second member's deflate data
    out = []
    for damaged in (DATA[: len(MEMBER1) - 100], DATA[: len(DATA) * 3 // 4], bytes(corrupt)):
        recs, stats, _ = _read(damaged, "btcusdt_20240718.gz")
        [where] = stats.damaged.values()
        out.append((recs, where.split(":")[0]))  # where reading stopped; the error's own words differ
    return out


@pytest.mark.parametrize("reader", list(gzip_readers()))
def test_every_installed_inflater_reads_and_reports_damage_alike(reader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """isal and zlib-ng (which fail a whole buffer before the damage) give the lines the standard
    library's gzip (``HEDGE_PURE=1``) gives, and stop at the same line on a cut or a corrupt block."""
    monkeypatch.setattr(recording, "_INFLATER", ("gzip", *gzip_readers()["gzip"]))
    expected = _damaged_reads()
    assert expected[0][0] and expected[2][0]  # lines before the damage: there is something to lose
    monkeypatch.setattr(recording, "_INFLATER", (reader, *gzip_readers()[reader]))
    assert _read(DATA, "btcusdt_20240718.gz")[0] == FULL
    assert _damaged_reads() == expected
