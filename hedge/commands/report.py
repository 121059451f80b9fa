"""``hedge report LOGDIR``: charts of one run (a replay's or a live daemon's log dir) as PNGs and one HTML file.

Writes ``equity.png`` (NAV and drawdown), ``fills.png`` (the fills of the most traded symbol on its
price), ``vetoes.png`` (risk vetoes over time by reason) and ``report.html`` (all of them embedded,
with a summary) to ``--out`` (default: LOGDIR/report). Exit 1 when LOGDIR has no journals.

Owns: the options and the printed list of files.

Must never: write into LOGDIR outside the output directory, or change a file it reads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("log_dir", metavar="LOGDIR", help="a replay's or a daemon's log directory")
    p.add_argument("--out", metavar="DIR", default=None, help="where the charts go (default: LOGDIR/report)")


def main(args: argparse.Namespace) -> int:
    from hedge.research.run_report import write

    log_dir = Path(args.log_dir)
    if not (log_dir / "events.jsonl").exists() and not (log_dir / "fills.jsonl").exists():
        print(f"hedge report: no journals (events.jsonl, fills.jsonl) in {log_dir}", file=sys.stderr)
        return 1
    for p in write(log_dir, Path(args.out) if args.out else log_dir / "report"):
        print(f"wrote {p}")
    return 0
