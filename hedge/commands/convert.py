"""``hedge convert IN... --out DIR``: recordings -> Parquet tapes (typed columns, no JSON left).

Each input — an hftbacktest file (``.gz`` or plain), a cryptofeed ``.ws`` file or a directory of
them (with their ``.http`` snapshots), or a tape — becomes ``DIR/<name>.parquet`` (``.gz`` dropped):
one table of events in receive order with typed columns (``hedge.feeds.parquet``), which
``hedge replay`` and ``hedge exchange --market`` read without decoding JSON, with the same
fingerprint as the source. Prints one JSON summary (per file: rows, bytes in and out, seconds).

Exit codes: 0 done, 1 an input unreadable or the output not writable, 2 bad usage.

Owns: the options, naming the outputs, and the summary.

Clock: ``time.perf_counter()`` times each file's conversion for the summary (a tool, not an engine
component; tests/unit/model/test_clock_usage.py).

Must never: change what a recording says (the conversion is the feeds' ``convert``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="IN", help="hftbacktest files, cryptofeed .ws files or directories")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (created)")


def out_name(src: Path) -> str:
    """``btcusdt_20240718.gz`` -> ``btcusdt_20240718.parquet``; a directory or other name + ``.parquet``."""
    name = src.name.removesuffix(".gz").removesuffix(".parquet")
    return f"{name}.parquet"


def main(args: argparse.Namespace) -> int:
    import time

    import msgspec

    from hedge.feeds.parquet import best_codec, convert
    from hedge.feeds.recording import ReadStats, probe

    out_dir = Path(args.out)
    srcs = [Path(x) for x in args.inputs]
    for src in srcs:
        why = probe(src) if src.exists() else "no such file"
        if why:
            print(f"hedge convert: {src}: {why}", file=sys.stderr)
            return 1
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"hedge convert: cannot create {out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    files = []
    for src in srcs:
        dst = out_dir / out_name(src)
        st = ReadStats()
        t0 = time.perf_counter()
        try:
            w = convert(src, dst, st)
        except OSError as exc:
            print(f"hedge convert: cannot write {dst}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        size_in = sum(f.stat().st_size for f in src.iterdir()) if src.is_dir() else src.stat().st_size
        files.append({
            "in": str(src), "out": str(dst), "rows": w.rows, "bad_lines": st.bad_lines,
            "bad_lines_by_kind": st.bad_kinds, "damaged": st.damaged, "unusable": w.codec.stats.errors,
            "bytes_in": size_in, "bytes_out": dst.stat().st_size, "seconds": round(time.perf_counter() - t0, 3),
        })
    print(msgspec.json.encode({"codec": best_codec(), "files": files}).decode())
    return 0
