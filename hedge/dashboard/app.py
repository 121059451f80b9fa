"""The Streamlit entry of ``hedge dashboard``: one tab per panel, over one or several log dirs.

Run by ``streamlit run hedge/dashboard/app.py -- --log-dir DIR [--log-dir DIR2 ...] [--config
DIR] [--refresh SECONDS]`` (``hedge dashboard`` builds that command). With several log dirs every
panel shows each run in turn and the Equity panel compares them first.

Owns: the options, the page, the process-wide caches (the configuration's limits; one incremental
``JournalTail`` per journal, ``st.cache_resource``: a refresh reads only what was appended; the
ones ``hedge.dashboard.serve`` read at the server's start are taken as they are), the
auto-refresh (a fragment rerun every ``--refresh`` seconds; 0 = off) and the rule that a panel
that fails shows an error line naming the panel and the log dir, never a traceback.

Must never: write a file, or let an exception reach Streamlit's error page.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import streamlit as st

from hedge.dashboard import equity, execution, health, positions, risk, router, scores
from hedge.dashboard.serve import tail_of
from hedge.dashboard.source import Limits, Run
from hedge.dashboard.tail import JournalTail
from hedge.model.clock import LiveClock

log = logging.getLogger("hedge.dashboard")

PANELS: tuple[ModuleType, ...] = (equity, execution, risk, router, positions, scores, health)
CLOCK = LiveClock()  # a daemon's files are read against the wall clock
PANEL_KEY = "panel"  # session state: the title of the open tab


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hedge dashboard (app)")
    p.add_argument("--log-dir", action="append", default=[], help="a log dir (repeat to compare runs)")
    p.add_argument("--config", default=None, help="configuration directory (the limits shown)")
    p.add_argument("--refresh", type=float, default=3.0, help="seconds between refreshes (0: off)")
    args, _ = p.parse_known_args(list(argv))
    args.log_dir = args.log_dir or ["logs"]
    return args


@st.cache_resource(show_spinner=False)
def limits(config: str | None) -> Limits:
    return Limits.load(config)


@st.cache_resource(show_spinner=False, max_entries=256)
def journal_tail(log_dir: Path, name: str) -> JournalTail:
    return tail_of(log_dir, name)  # read at the server's start when ``hedge dashboard`` started it (``serve``)


def labels(dirs: Sequence[Path]) -> list[str]:
    """Short names of the log dirs: the folder name, the whole path where two names collide."""
    names = [d.name or str(d) for d in dirs]
    return [n if names.count(n) == 1 else str(d) for n, d in zip(names, dirs, strict=True)]


def render_panel(panel: ModuleType, runs: list[Run]) -> None:
    st.header(panel.TITLE)
    if len(runs) > 1 and hasattr(panel, "compare"):
        try:
            panel.compare(runs)
        except Exception as exc:  # never a traceback on the page
            log.exception("dashboard: %s comparison failed", panel.TITLE)
            st.error(f"{panel.TITLE}: the comparison could not be drawn ({type(exc).__name__}: {exc})")
    for run in runs:
        if len(runs) > 1:
            st.subheader(run.label)
        try:
            panel.render_run(run)
        except Exception as exc:
            log.exception("dashboard: panel %s failed on %s", panel.TITLE, run.log_dir)
            st.error(f"{panel.TITLE}: could not be drawn for `{run.log_dir}` ({type(exc).__name__}: {exc})")


def body(args: argparse.Namespace) -> None:
    lim = limits(args.config)
    dirs = [Path(d).resolve() for d in args.log_dir]
    runs = [Run.load(d, label, lim, journal_tail, CLOCK.now_ns()) for d, label in zip(dirs, labels(dirs), strict=True)]
    for run in runs:
        kind = "replay" if run.replay else "daemon"
        missing = "" if run.log_dir.is_dir() else " - NO SUCH DIRECTORY"
        st.caption(f"**{run.label}** ({kind}): `{run.log_dir}`{missing}")
    # only the open tab runs (a rerun on switching): one panel's reads and charts per render
    tabs = st.tabs([p.TITLE for p in PANELS], key=PANEL_KEY, on_change="rerun")
    for tab, panel in zip(tabs, PANELS, strict=True):
        if tab.open:
            with tab:
                render_panel(panel, runs)


def main(argv: Sequence[str]) -> None:
    t0 = CLOCK.now_ns()
    args = parse_args(argv)
    st.set_page_config(page_title="hedge dashboard", layout="wide")
    st.title("hedge dashboard")
    with st.sidebar:
        st.markdown("Read-only view of `state/*.json` and the journals.")
        st.markdown("\n".join(f"- `{d}`" for d in args.log_dir))
        st.caption(f"refresh every {args.refresh:g} s" if args.refresh > 0 else "auto-refresh off")
    if args.refresh > 0:
        st.fragment(run_every=args.refresh)(body)(args)
    else:
        body(args)
    log.info("dashboard: script run in %.3f s", (CLOCK.now_ns() - t0) / 1e9)  # server side (scripts/bench_dashboard.py)


if __name__ == "__main__":
    main(sys.argv[1:])
