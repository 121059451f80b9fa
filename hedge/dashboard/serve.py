"""The dashboard's server process: what the first page needs is read before Streamlit listens.

``python -m hedge.dashboard.serve <the arguments of streamlit run>`` (``hedge dashboard`` builds
them). Before handing the process to Streamlit's own command line (in-process, so the app's
caches find what was read here), it imports what the panels draw with (pandas, the charts'
altair and pyarrow) and reads the journal tails of every log dir the app was given, before the
port opens (in the background, that read competed with the first page for the two cores). A
browser's first page then waits for the frontend and a warm script, not for a cold
1-million-line read (``scripts/bench_dashboard.py``); the server takes that much longer to start.

Owns: ``WARM`` (the tails read at start, keyed by resolved log dir and journal name; the app's
``journal_tail`` cache takes them) and the time warming took (logged).

Must never: write anything, serve anything itself, or fail the start (a log dir that cannot be
read is read again by the app, which says why).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hedge.dashboard.lines import TAILS
from hedge.dashboard.tail import JournalTail
from hedge.model.clock import LiveClock

log = logging.getLogger("hedge.dashboard")

PRELOAD = ("pandas", "pyarrow", "altair", *(f"hedge.dashboard.{m}" for m in (
    "equity", "execution", "risk", "router", "positions", "scores", "health")))
WARM: dict[tuple[Path, str], JournalTail] = {}


def tail_of(log_dir: Path, name: str) -> JournalTail:
    """The warm tail of ``log_dir``'s ``name`` journal, or a new (cold) one."""
    got = WARM.get((log_dir, name))
    if got is not None:
        return got
    spec = TAILS[name]
    return JournalTail(log_dir / f"{name}.jsonl", spec.keep, spec.budget, extract=spec.extract)


def app_log_dirs(argv: Sequence[str]) -> list[Path]:
    """The ``--log-dir`` options after ``--`` (the app's own), resolved as the app resolves them."""
    rest = list(argv)[list(argv).index("--") + 1:] if "--" in argv else []
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--log-dir", action="append", default=[])
    args, _ = p.parse_known_args(rest)
    return [Path(d).resolve() for d in args.log_dir or ["logs"]]


def warm(dirs: Sequence[Path]) -> float:
    """Import the drawing modules and read every journal tail of ``dirs``; returns the seconds it took."""
    clock = LiveClock()
    t0 = clock.now_ns()
    for mod in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(mod)
    with contextlib.suppress(Exception):  # the charts' first Vega-Lite schema validation (a warm-up never fails)
        import altair
        import pandas

        altair.Chart(pandas.DataFrame({"x": [0.0]})).mark_line().encode(x="x").to_dict()
    for d in dirs:
        for name in TAILS:
            t = WARM[(d, name)] = tail_of(d, name)
            t.refresh()
    took = (clock.now_ns() - t0) / 1e9
    log.info("dashboard: journals read and modules imported in %.2f s; serving", took)
    return took


def main(argv: Sequence[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    warm(app_log_dirs(argv))
    from streamlit.web import cli

    cli.main(args=list(argv), prog_name="streamlit")


if __name__ == "__main__":
    # run as ``-m``, this file is ``__main__``: the app imports ``hedge.dashboard.serve``, a second copy whose
    # ``WARM`` would be empty. Warm that one.
    importlib.import_module("hedge.dashboard.serve").main(sys.argv[1:])
