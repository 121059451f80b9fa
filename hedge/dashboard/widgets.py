"""What every panel shows the same way: the age of what it read, and the files it could not use.

Owns: a panel's freshness line (its age, red past three times its update period), the notice
naming each missing, partial, corrupt or newer-schema file and why, and small formatting helpers
(times as UTC datetimes, fractions as percents).

Must never: read a file itself (the panels hand it what ``readers``/``tail`` read), or raise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from hedge.dashboard.readers import FileRead
from hedge.dashboard.source import Run
from hedge.dashboard.tail import JournalTail

STALE_FACTOR = 3.0


@dataclasses.dataclass(frozen=True)
class Freshness:
    age_s: float
    period_s: float
    stale: bool
    text: str


def freshness(run: Run, reads: Sequence[FileRead[Any]], tails: Sequence[JournalTail] = ()) -> Freshness:
    """How old a panel's data is: since the newest of its files was written, or the engine last
    confirmed its state (a surface rewritten on change is current while diagnostics.json is)."""
    # a replay's state files carry event time; its journals' mtimes are wall clock: not comparable
    mtimes = [] if run.replay else [t.mtime_ns for t in tails if t.exists]
    newest = max([r.written_ns for r in reads if r.written_ns] + mtimes, default=0)
    names = ", ".join([r.name for r in reads] + [t.path.name for t in tails])
    period = max(run.interval_s, run.flush_s if tails else 0.0)
    if newest == 0:
        return Freshness(float("inf"), period, not run.replay, f"no data yet ({names})")
    if run.replay:
        age = max(0.0, (run.now_ns - newest) * 1e-9)
        return Freshness(age, period, False,
                         f"replay, as of the end of the run ({iso(run.now_ns)} event time); data {age:.1f} s "
                         f"older than that ({names})")
    confirmed = max(newest, run.heartbeat_ns())
    age = max(0.0, (run.now_ns - confirmed) * 1e-9)
    stale = age > STALE_FACTOR * period
    text = f"data age {age:.1f} s (update period {period:g} s; {names})"
    return Freshness(age, period, stale, ("STALE: " + text + " - is the engine running?") if stale else text)


def show_freshness(run: Run, reads: Sequence[FileRead[Any]], tails: Sequence[JournalTail] = ()) -> Freshness:
    f = freshness(run, reads, tails)
    st.caption(f":red[{f.text}]" if f.stale else f":green[{f.text}]")
    return f


def show_problems(*reads: FileRead[Any]) -> None:
    """One line per file that could not be used (or was written by a newer schema), naming it and why."""
    for r in reads:
        if r.problem and r.value is None:
            st.warning(f"`{r.path}`: {r.problem}")
        elif r.problem:
            st.info(f"`{r.path}`: {r.problem}")


def iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ns > 0 else "-"


def pct(x: float) -> str:
    return f"{x:.2%}"


def bad_lines_note(tail: JournalTail, bad: int) -> None:
    if bad:
        st.info(f"`{tail.path}`: {bad} line(s) did not parse (torn or corrupt) and are skipped")
