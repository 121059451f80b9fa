"""The dashboard's journal tail: bounded, incremental, rotation-aware, torn-line tolerant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.dashboard.lines import nav_rows
from hedge.dashboard.tail import ALL, JournalTail, pick
from hedge.state.journal import JournalWriter


def _nav(w: JournalWriter, i: int) -> None:
    w.write("Nav", {"nav": 1000.0 + i, "wallet_balance": 1.0}, ts_ns=i + 1)


def test_pick_takes_the_line_kind_not_a_nested_kind() -> None:
    data = (b'{"ts_ns":1,"kind":"Nav","data":{"nav":1}}\n'
            b'{"ts_ns":2,"kind":"Alert","data":{"x":{"kind":"Nav"}}}\n'
            b'{"ts_ns":3,"kind":"Nav","data":{"nav":3}}\n')
    got = pick(data, ["Nav", "Alert"])
    assert [x[:10] for x in got["Nav"]] == [b'{"ts_ns":1', b'{"ts_ns":3']
    assert len(got["Alert"]) == 1


def test_reads_only_what_was_appended_and_never_a_half_written_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    w = JournalWriter(path)
    for i in range(100):
        _nav(w, i)
    w.flush()
    tail = JournalTail(path, {}, 1 << 20, extract={"Nav": (nav_rows, 1000)})
    tail.refresh()
    assert len(tail.rows("Nav")) == 100
    first_read = tail.bytes_read
    with open(path, "ab") as f:  # a line still being written
        f.write(b'{"ts_ns":500,"kind":"Nav","data":{"na')
    tail.refresh()
    assert len(tail.rows("Nav")) == 100
    with open(path, "ab") as f:
        f.write(b'v":7.0}}\n')
    tail.refresh()
    rows = tail.rows("Nav")
    assert len(rows) == 101 and rows[-1, 1] == 7.0
    assert tail.bytes_read - first_read < 200  # only the appended bytes were read


def test_rotation_starts_over_with_the_backups_within_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    w = JournalWriter(path, max_bytes=4000, backups=3, buffer_bytes=1)
    for i in range(60):
        _nav(w, i)
    w.close()
    assert path.with_name("events.jsonl.1").exists()
    tail = JournalTail(path, {}, 1 << 20, backups=3, extract={"Nav": (nav_rows, 10_000)})
    tail.refresh()
    kept = tail.rows("Nav")[:, 1]
    # every line the rotation kept (current + 3 backups), oldest first
    assert list(kept) == sorted(kept) and kept[-1] == 1059.0
    w = JournalWriter(path, max_bytes=4000, backups=3, buffer_bytes=1)
    for i in range(60, 120):
        _nav(w, i)
    w.close()
    tail.refresh()
    assert tail.rows("Nav")[-1, 1] == 1119.0


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 400), budget=st.integers(200, 20_000), cap=st.integers(1, 300))
def test_memory_is_bounded_by_the_budget_and_the_cap(tmp_path_factory: object, n: int, budget: int, cap: int) -> None:
    d = tmp_path_factory.mktemp("tail")  # type: ignore[attr-defined]
    path = d / "events.jsonl"
    w = JournalWriter(path)
    for i in range(n):
        _nav(w, i)
        w.write("Alert", {"title": f"a{i}"}, ts_ns=i + 1)
    w.close()
    tail = JournalTail(path, {"Alert": cap, ALL: cap}, budget, extract={"Nav": (nav_rows, cap)})
    tail.refresh()
    rows = tail.rows("Nav")
    line = max(len(x) + 1 for x in path.read_bytes().splitlines())  # the longest line: sizes vary with i
    assert len(rows) <= min(cap, n) and len(tail.get("Alert")) <= cap and len(tail.get()) <= cap
    # the newest lines are the ones kept, and the window holds what fits in the budget
    assert rows[-1, 1] == 1000.0 + n - 1
    assert len(rows) >= min(cap, n, int(budget / line / 2) - 1)  # a Nav and an Alert line per i
    assert np.all(np.diff(rows[:, 0]) > 0)


def test_a_corrupt_line_is_counted_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"ts_ns":1,"kind":"Nav","data":{"nav":1.0}}\n'
                     b'{"ts_ns":2,"kind":"Nav","data":{"nav":"lots"}}\n'
                     b'{"ts_ns":3,"kind":"Nav","data":{"nav":3.0}}\n')
    tail = JournalTail(path, {}, 1 << 20, extract={"Nav": (nav_rows, 10)})
    tail.refresh()
    assert tail.rows("Nav")[:, 1].tolist() == [1.0, 3.0] and tail.bad_lines == 1


def test_a_missing_journal_is_empty(tmp_path: Path) -> None:
    tail = JournalTail(tmp_path / "nope.jsonl", {"x": 5}, 100)
    tail.refresh()
    assert not tail.exists and tail.get("x") == []
