"""``hedge replay FILE... [--verify-book]``: replay recordings.

``--verify-book`` runs the feeds and the books only (codec -> book sync -> BookUpdate, every
bookTicker with the update id of an applied diff compared with the book's top) and prints one
JSON summary. The full-pipeline replay (signals, risk, router, simulated venue) is not built yet:
without ``--verify-book`` the command exits 3.
"""

from __future__ import annotations

import argparse
import sys

EXIT_NOT_BUILT = 3


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="recordings: hftbacktest <ns> <json> files (.gz or plain, read in order as one stream), "
        "a cryptofeed *.ws.* file (its *.http.* sibling is merged) or a directory of them",
    )
    p.add_argument("--verify-book", action="store_true", help="feeds + books only; print a JSON summary")


def main(args: argparse.Namespace) -> int:
    if not args.verify_book:
        print("hedge replay: full pipeline replay not built yet (use --verify-book)", file=sys.stderr)
        return EXIT_NOT_BUILT
    return verify_book(args.files)


def verify_book(files: list[str]) -> int:
    from pathlib import Path

    import msgspec

    from hedge.bus import Bus
    from hedge.feeds.recording import ReplaySource
    from hedge.feeds.verify import BookVerifier

    missing = [f for f in files if not Path(f).exists()]
    if missing:
        print(f"hedge replay: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    bus = Bus()
    verifier = BookVerifier(bus)
    source = ReplaySource(files, bus)
    rs = source.run_sync()
    fs = source.feed_stats()
    vs = verifier.stats
    events = sum(fs.messages.values())
    summary = {
        "files": files,
        "lines": rs.lines,
        "bad_lines": rs.bad_lines,
        "truncated_files": rs.truncated_files,
        "messages": fs.messages,
        "unknown_types": fs.unknown_types,
        "parse_errors": fs.parse_errors,
        "diffs_applied": fs.diffs_applied,
        "gaps": fs.gaps,
        "resyncs": fs.resyncs,
        "crossed": fs.crossed,
        "stale_diffs": fs.stale_diffs,
        "snapshots_applied": fs.snapshots_applied,
        "snapshots_rejected": fs.snapshots_rejected,
        "snapshots_unattributed": rs.snapshots_unattributed,
        "books": {s: b.state for s, b in fs.books.items()},
        "bookticker_checks": vs.bookticker_checks,
        "bookticker_mismatches": vs.bookticker_mismatches,
        "first_mismatches": vs.first_mismatches,
        "recorded_s": round((rs.last_recv_ns - rs.first_recv_ns) / 1e9, 3),
        "wall_s": round(rs.wall_s, 3),
        "events_per_s": round(events / rs.wall_s) if rs.wall_s > 0 else 0,
    }
    print(msgspec.json.encode(summary).decode())
    ok = (
        fs.gaps == 0
        and fs.crossed == 0
        and vs.bookticker_mismatches == 0
        and rs.bad_lines == 0
        and rs.truncated_files == 0
    )
    return 0 if ok else 1
