"""What a read of recordings says about its input, in words for the person who gave it.

Owns: the diagnoses the commands that read recordings (``hedge replay``, ``replay --verify-book``,
``hedge calibrate``) print after the read: input that is mostly bad lines (more than
``BAD_SHARE``), and a book that got depth diffs but never a snapshot (a file that continues an
earlier one: which file to replay before it, found by name next to it).

Must never: read a recording's content, change a counter, or decide an exit code (the commands do).
"""

from __future__ import annotations

import glob
import re
import shlex
from collections.abc import Sequence
from pathlib import Path

from hedge.feeds.dispatch import FeedStats
from hedge.feeds.recording import ReplayStats
from hedge.feeds.sync import BookSyncStats

BAD_SHARE = 0.5  # more bad lines than this share of the lines read: the input is probably not a recording

_DATED = re.compile(r"^(.+_)\d{8}")  # btcusdt_20240718.gz: files of one stream sort by name


def input_problems(files: Sequence[str | Path], rs: ReplayStats, fs: FeedStats, command: str) -> list[str]:
    """What is worth a warning about the input of a finished read (``command``: the one to suggest);
    a damaged file is not repeated here: the reader warned once, where it stopped."""
    problems = [mostly_bad(rs, fs)]
    problems += (missing_snapshot(s, b, files, command) for s, b in sorted(fs.books.items()))
    return [p for p in problems if p]


def mostly_bad(rs: ReplayStats, fs: FeedStats) -> str:
    """The warning when more than ``BAD_SHARE`` of the lines read are not usable market data, else ""."""
    total = rs.lines + rs.bad_lines  # every non-blank line (``lines``: those with a receive time)
    bad = rs.bad_lines + sum(fs.parse_errors.values())
    if not total or bad <= BAD_SHARE * total:
        return ""
    by_kind = ", ".join(f"{k} {v:,}" for k, v in sorted({**rs.bad_kinds, **fs.parse_errors}.items()))
    return (f"{bad:,} of the {total:,} lines read ({bad / total:.0%}) are not usable market data ({by_kind}): "
            "is this a recording in a format hedge reads (docs/market-data.md)?")


def missing_snapshot(symbol: str, book: BookSyncStats, files: Sequence[str | Path], command: str) -> str:
    """Why ``symbol``'s book never synced, when the recording had depth diffs for it but no depth
    snapshot (a file that continues an earlier one), with the command that fixes it; else ""."""
    if not no_snapshot(book):
        return ""
    earlier = _earlier_file(files)
    fix = shlex.join([*command.split(), str(earlier) if earlier else "EARLIER_FILE", *map(str, files)])
    return (f"{symbol}: the recording has depth diffs but no snapshot (it continues an earlier file?), so its book "
            f"never synced; give the file that holds the snapshot before it, e.g. {fix}")


def no_snapshot(book: BookSyncStats) -> bool:
    """Did the book get depth diffs (it asked for a snapshot) but never a snapshot? (A snapshot that
    came and was unusable is the book's own problem, logged by it.)"""
    return bool(book.snapshot_requests) and not (book.snapshots_applied or book.snapshots_rejected)


def _earlier_file(files: Sequence[str | Path]) -> Path | None:
    """The file recorded just before the first of ``files`` (same ``<name>_<yyyymmdd>`` prefix, same
    directory, the last one sorting before it), if there is one."""
    if not files:
        return None
    first = Path(files[0])
    m = _DATED.match(first.name)
    if m is None or not first.parent.is_dir():
        return None
    before = sorted(p for p in first.parent.glob(f"{glob.escape(m.group(1))}*")
                    if _DATED.match(p.name) and p.name < first.name and p.is_file())
    return before[-1] if before else None
