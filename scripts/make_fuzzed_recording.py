"""Build a fuzzed copy of a recording, deterministically: 3 random bytes corrupted in about half the lines.

The input is an hftbacktest-format recording (gzip text, ``<recv_ns> <raw JSON>`` per line); the
output is the same format, gzip, same line count: each line is kept or, with probability
``--fraction``, has ``--bytes`` of its bytes (anywhere in the line: the receive time, a key, a
value, a bracket) replaced by a random byte that is not a line end (so the line count never
changes). The same ``--seed`` gives the same file, byte for byte.

Used by ``scripts/bench_replay.py --fuzzed`` and the replay tests: a corrupted line must cost the
replay about what a good one costs.

Usage: .venv/bin/python scripts/make_fuzzed_recording.py OUT.gz [--src FILE] [--seed N]
           [--fraction 0.5] [--bytes 3] [--lines N]
Last line: one JSON object (lines written, lines corrupted, output path).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "hedge/data/binance-usdm/hftbacktest/btcusdt_20240718.gz"
_LINE_ENDS = (0x0A, 0x0D)


def corrupt(line: bytes, rng: random.Random, nbytes: int) -> bytes:
    """``line`` (without its newline) with ``nbytes`` bytes at random positions replaced by random bytes."""
    buf = bytearray(line)
    for pos in rng.sample(range(len(buf)), min(nbytes, len(buf))):
        b = rng.randrange(256)
        while b in _LINE_ENDS or b == buf[pos]:
            b = rng.randrange(256)
        buf[pos] = b
    return bytes(buf)


def make_fuzzed(src: Path, out: Path, *, seed: int = 0, fraction: float = 0.5, nbytes: int = 3,
                max_lines: int = 0) -> tuple[int, int]:
    """Write the fuzzed copy of ``src`` to ``out`` (at most ``max_lines`` lines if > 0): (lines, corrupted)."""
    rng = random.Random(seed)
    lines = corrupted = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the gzip header carries no time, so the same seed gives the same bytes.
    with gzip.open(src, "rb") as f, open(out, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as w:
        for line in f:
            if max_lines and lines >= max_lines:
                break
            body = line.rstrip(b"\r\n")
            lines += 1
            if body and rng.random() < fraction:
                body = corrupt(body, rng, nbytes)
                corrupted += 1
            w.write(body + b"\n")
    return lines, corrupted


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--src", type=Path, default=SRC)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fraction", type=float, default=0.5, help="share of lines corrupted (default 0.5)")
    ap.add_argument("--bytes", type=int, default=3, dest="nbytes", help="bytes corrupted per line (default 3)")
    ap.add_argument("--lines", type=int, default=0, help="keep only the first N lines (0 = all)")
    a = ap.parse_args()
    lines, corrupted = make_fuzzed(a.src, a.out, seed=a.seed, fraction=a.fraction, nbytes=a.nbytes,
                                   max_lines=a.lines)
    print(json.dumps({"script": "make_fuzzed_recording", "out": str(a.out), "src": str(a.src), "seed": a.seed,
                      "lines": lines, "corrupted": corrupted}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
