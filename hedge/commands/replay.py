"""``hedge replay [FILE...]``: the whole pipeline over recordings, with the simulated venue.

Without ``--verify-book``: recordings (hftbacktest ``<ns> <json>`` files, cryptofeed ``*.ws.*``
files or directories of them; default: the bundled BTCUSDT recording) -> feeds -> the daemon's
pipeline (signals, risk, router; ``hedge.pipeline``) -> the simulated venue on the local
exchange's matching engine, in event time, as fast as it goes (or ``--speed X`` times real
time). Journals and state files go under ``--log-dir`` (default ``runtime.replay.log_dir``). Prints
one line of JSON (the ``ReplaySummary``, also written to ``--out``); the same input and
configuration always give the same ``fingerprint``.

``--verify-book`` runs the feeds and the books only (codec -> book sync -> BookUpdate, every
bookTicker with the update id of an applied diff compared with the book's top) and prints one
JSON summary.

On a terminal (stderr a TTY) a progress bar shows the lines replayed out of the recordings' lines
once the run has lasted two seconds; it is cleared before the summary is printed.

Ctrl-C (SIGINT) stops the replay after the line being handled: the summary of what was replayed
so far is printed and written to ``--out`` as usual, marked ``"interrupted": true``, and the exit
code is 130. A second Ctrl-C stops at once, without a summary.

A recording is checked before the run (``hedge.feeds.recording.probe``): a missing, empty, CSV or
random-byte file — anything without a market-data line among its first lines — is refused with
``no market data in FILE: ...`` and exit code 2. A truncated or corrupt gzip is read up to the
damage: one warning names the file, the line and the byte where reading stopped, the summary lists
it under ``damaged_files``, and the exit code stays 0 (nothing usable read at all: 2). Input that
is mostly bad lines, or a book with depth diffs but no snapshot (a file that continues an earlier
one), is warned about on stderr with what to do.

Exit codes: 0 done, 1 the replay failed (or ``--verify-book`` found a mismatch, or a book it could
not verify), 2 bad usage, configuration, a missing file or no market data, 130 interrupted (Ctrl-C).

Owns: the options and their checks, the choice between a full replay and ``--verify-book``,
Ctrl-C during a replay, printing/writing the summary and the exit codes.

Must never: run the pipeline differently from ``hedge.replay.runner`` (the fingerprint must be the
one the tests and other callers get), or read the wall clock into the outcome.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hedge.commands.common import add_config_arg

if TYPE_CHECKING:
    from hedge.replay.summary import ReplaySummary


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="recordings: hftbacktest <ns> <json> files (.gz or plain, read in order as one stream), "
        "a cryptofeed *.ws.* file (its *.http.* sibling is merged) or a directory of them "
        "(default: the bundled BTCUSDT recording)",
    )
    p.add_argument("--verify-book", action="store_true", help="feeds + books only; print a JSON summary")
    p.add_argument("--speed", type=float, metavar="X", help="X times real time (default: as fast as possible)")
    p.add_argument("--out", metavar="SUMMARY.json", help="also write the summary JSON to this file")
    p.add_argument("--log-dir", metavar="DIR", help="journals and state files (default: runtime.replay.log_dir)")
    p.add_argument("--latency-ms", type=float, metavar="MS", help="override runtime.replay.latency_ms")
    add_config_arg(p)


def _files(args: argparse.Namespace) -> list[str] | None:
    from hedge.commands.common import check_recordings
    from hedge.feeds.recording import bundled_btcusdt

    files = [str(f) for f in args.files] or [str(p) for p in bundled_btcusdt()]
    return files if check_recordings("hedge replay", files) else None


def main(args: argparse.Namespace) -> int:
    files = _files(args)
    if files is None:
        return 2
    if args.verify_book:
        return verify_book(files)
    if args.speed is not None and args.speed <= 0:
        print("hedge replay: --speed must be > 0", file=sys.stderr)
        return 2
    if args.latency_ms is not None and args.latency_ms < 0:
        print("hedge replay: --latency-ms must be >= 0", file=sys.stderr)
        return 2
    return replay(args, files)


def replay(args: argparse.Namespace, files: list[str]) -> int:
    import signal

    import msgspec

    from hedge.app import run_async
    from hedge.commands.common import EXIT_INTERRUPTED, load_config_or_report
    from hedge.commands.progress import ProgressBar
    from hedge.replay.runner import Replay

    cfg = load_config_or_report(args.config)
    if cfg is None:
        return 2
    rt = cfg.runtime
    log_dir = args.log_dir or rt.replay.log_dir
    replay_cfg = rt.replay
    if args.latency_ms is not None:
        replay_cfg = msgspec.structs.replace(replay_cfg, latency_ms=args.latency_ms)
    cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(rt, log_dir=log_dir, replay=replay_cfg))
    previous = signal.getsignal(signal.SIGINT)
    bar = ProgressBar("replay", count_lines(files) if sys.stderr.isatty() else None)
    try:
        run = Replay(cfg, files, log_dir=log_dir, speed=args.speed, on_progress=bar.update if bar.enabled else None)

        def on_sigint(signum: int, frame: object) -> None:
            del signum, frame
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C stops at once
            run.interrupt()

        signal.signal(signal.SIGINT, on_sigint)
        summary = run_async(run.run())
    except (OSError, RuntimeError) as exc:  # unreadable recording or log dir; a venue call that never settles
        print(f"hedge replay: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    data = msgspec.json.encode(summary)
    rc = EXIT_INTERRUPTED if summary.interrupted else 0 if summary.events else 2
    if args.out:
        out = Path(args.out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(msgspec.json.format(data, indent=2) + b"\n")
        except OSError as exc:  # the run is done: its summary still goes to stdout
            print(f"hedge replay: cannot write --out {out}: {exc.strerror or exc}", file=sys.stderr)
            rc = 1
    print(human(summary), file=sys.stderr)
    print(data.decode())
    if rc == 2:
        print(f"hedge replay: no market data in {', '.join(files)}: no market event decoded "
              f"({summary.bad_lines:,} bad lines)", file=sys.stderr)
    return rc


def count_lines(files: list[str]) -> int | None:
    """Lines in the recordings (the progress bar's total: about one replayed line each); None when
    a file is not a line file (a directory of cryptofeed files, a columnar file) or unreadable."""
    import gzip

    total = 0
    for f in files:
        path = Path(f)
        if not path.is_file() or path.suffix not in (".gz", ".txt", ".jsonl", ""):
            return None
        try:
            with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
                while chunk := fh.read(1 << 22):
                    total += chunk.count(b"\n")
        except (OSError, EOFError):  # damaged: the replay itself says where
            return None
    return total


def human(s: ReplaySummary) -> str:
    """The summary in a few lines for a terminal (stderr; stdout keeps the one JSON line)."""
    from hedge.replay.performance import describe

    vetoes = ", ".join(f"{k} {v}" for k, v in s.vetoes.items()) or "none"
    return (
        ("replay INTERRUPTED (Ctrl-C): a partial summary of the lines replayed so far\n" if s.interrupted else "")
        + f"replay: {s.events:,} events over {s.recorded_s:.0f}s of market in {s.wall_s:.2f}s "
        f"({s.events_per_s:,.0f} events/s)\n"
        f"  intents {s.intents}  approved {s.approved}  vetoed {s.vetoed} ({vetoes})\n"
        f"  orders {s.orders}  cancels {s.cancels}  fills {s.fills} (maker {s.maker_fills}, "
        f"maker ratio {s.maker_ratio:.2f})  fees {s.fees:.4f} USDT\n"
        f"  PnL {s.pnl:+.4f} USDT (realized {s.realized_pnl:+.4f}, unrealized {s.unrealized_pnl:+.4f})  "
        f"max drawdown {s.max_drawdown:.4%}\n"
        + (describe(s.performance) + "\n" if s.performance is not None else "")
        + f"  fingerprint {s.fingerprint}"
        + (f"\n  bad lines {s.bad_lines:,} (counted, not replayed): "
           + ", ".join(f"{k} {v:,}" for k, v in s.bad_lines_by_kind.items()) if s.bad_lines else "")
        + "".join(f"\n  DAMAGED {f}: {where}" for f, where in s.damaged_files.items())
        + (f"\n  WARNING: {s.snapshots_unattributed} depth snapshot(s) without a symbol matched no book's update "
           "ids and were not applied: books that needed them never synced" if s.snapshots_unattributed else "")
    )


def verify_book(files: list[str]) -> int:
    import msgspec

    from hedge.bus import Bus
    from hedge.commands.common import report_read
    from hedge.feeds.input_report import no_snapshot
    from hedge.feeds.recording import ReplaySource
    from hedge.feeds.verify import BookVerifier

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
        "damaged_files": rs.damaged,
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
    if not report_read("hedge replay --verify-book", files, rs, fs):
        return 2
    ok = (
        fs.gaps == 0
        and fs.crossed == 0
        and vs.bookticker_mismatches == 0
        and rs.bad_lines == 0
        and not rs.damaged
        and not any(no_snapshot(b) for b in fs.books.values())  # a book it could not verify
    )
    return 0 if ok else 1
