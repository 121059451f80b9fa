"""Recorded receive times: a corrupted one (a digit flipped: years ahead, or far back) is counted and
dropped, a real jump (the recorder paused, a file starts later) is kept."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.feeds.recording import (
    TIME_LOOKAHEAD,
    TIME_SLACK_NS,
    ReadStats,
    RecordedLine,
    in_time_order,
)

T0 = 1_721_347_020_984_480_942
MS = 1_000_000


def times(ts: list[int]) -> tuple[list[int], ReadStats]:
    stats = ReadStats(lines=len(ts))
    kept = [r.recv_ns for r in in_time_order((RecordedLine(t, b"{}") for t in ts), stats)]
    return kept, stats


def test_a_clean_stream_passes_untouched() -> None:
    ts = [T0 + i * 7 * MS for i in range(50)]
    assert times(ts) == (ts, ReadStats(lines=50))


def test_a_corrupted_time_is_dropped_and_counted_by_kind() -> None:
    ts = [T0 + i * MS for i in range(20)]
    ts[5] += 10**17  # three years ahead
    ts[12] -= 10**12  # 17 minutes back
    kept, stats = times(ts)
    assert kept == [t for i, t in enumerate(ts) if i not in (5, 12)]
    assert stats.lines == 18 and stats.bad_lines == 2
    assert stats.bad_kinds == {"receive_time_out_of_order": 2}


def test_a_real_jump_is_kept_either_way() -> None:
    ahead = [T0 + i * MS for i in range(5)] + [T0 + 40 * 10**9 + i * MS for i in range(10)]  # a 40 s pause
    assert times(ahead)[0] == ahead
    back = [T0 + i * MS for i in range(5)] + [T0 - 3600 * 10**9 + i * MS for i in range(10)]  # files out of order
    assert times(back)[0] == back


def test_the_first_and_last_lines_are_judged_too() -> None:
    ts = [T0 + i * MS for i in range(10)]
    assert times([T0 + 10**17, *ts])[0] == ts  # a first line that nothing after follows
    assert times([*ts, T0 + 10**17])[0] == ts  # a last line nothing confirms, years ahead
    assert times([*ts, T0 + 60 * 10**9])[0] == [*ts, T0 + 60 * 10**9]  # a minute later: a real last line
    assert times([T0])[0] == [T0]  # a one-line recording has nothing to judge it by


def test_a_real_jump_next_to_a_corrupted_line_at_the_end_is_kept() -> None:
    ts = [T0] * 4 + [T0 + 10**9 + 1] * 3  # a real jump of just over a second, three lines before the end
    fuzzed = [*ts[:5], ts[5] - 9 * 10**9 - 1 - 2 * TIME_SLACK_NS, ts[6]]  # the next line's time corrupted
    assert times(fuzzed)[0] == [*ts[:5], ts[6]]


def test_jitter_within_the_slack_is_kept() -> None:
    ts = [T0, T0 + 5 * MS, T0 + 3 * MS, T0 + 900 * MS, T0 + 899 * MS]
    assert times(ts)[0] == ts


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.integers(0, 2 * TIME_SLACK_NS), min_size=TIME_LOOKAHEAD + 2, max_size=200),
    # an upward spike must clear what the next TIME_LOOKAHEAD lines may advance (2 s a step) plus the
    # slack: a smaller one is indistinguishable from a real jump the stream then continues from
    spikes=st.lists(st.tuples(st.integers(0, 199), st.integers((2 * TIME_LOOKAHEAD + 1) * TIME_SLACK_NS + 1, 10**18),
                              st.booleans()), max_size=10),
)
def test_isolated_spikes_are_removed_whatever_the_stream(
    steps: list[int], spikes: list[tuple[int, int, bool]]
) -> None:
    """A non-decreasing stream (gaps up to 2 s) with isolated corrupted times (each at least
    ``TIME_LOOKAHEAD`` lines from the next, never the first or last line): exactly the corrupted ones are dropped."""
    clean = []
    t = T0
    for s in steps:
        t += s
        clean.append(t)
    bad: dict[int, int] = {}
    for i, size, up in sorted(spikes):
        if 0 < i < len(clean) - 1 and all(abs(i - j) > TIME_LOOKAHEAD for j in bad):
            bad[i] = clean[i] + size if up else clean[i] - size - 2 * TIME_SLACK_NS
    fuzzed = [bad.get(i, x) for i, x in enumerate(clean)]
    kept, stats = times(fuzzed)
    assert kept == [x for i, x in enumerate(clean) if i not in bad]
    assert stats.bad_lines == len(bad)
