"""Benchmark hedge's market-data path and full replay against a minimal pure-Python floor, in ONE run.

Three engines on the same bundled BTCUSDT recordings (both files, 71,984 raw messages), each timed
twice: excluding file reading (the lines are read and split into records before the clock starts)
and including it (gunzip + line split inside the timed region):

- ``floor``: the least a Python engine can do per message (reading: the standard library's gzip,
  line by line): one msgspec decode (tagged union on
  ``"e"``, floats decoded in C), a dict + bisect L2 book, and a quoting decision (micro-price and
  top-5 imbalance -> a bid/ask quote, counted when it changes); no bus, no orders, no journals;
- ``feeds``: hedge's feeds alone (``ReplaySource``: decode -> book sync -> BookUpdate onto a bare bus);
- ``pipeline``: the full ``Replay`` (feeds, signals, risk, router, the simulated venue, journals and
  state files under a temporary directory), its fingerprint checked identical in every round.

The machine is shared: every figure is the best of ``ROUNDS`` rounds, in process CPU seconds (the
wall seconds of that round beside it), and the ratios (``vs floor``: floor seconds / engine
seconds, higher is faster) are between figures of the same run. Messages/s = raw market messages
(the codec's count) / CPU seconds.

Usage: .venv/bin/python scripts/bench_pipeline.py [ROUNDS]   (default 5)
Last line: one JSON object.
"""

from __future__ import annotations

import gc
import gzip
import json
import logging
import os
import sys
import tempfile
import time
from bisect import bisect_left, insort
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from hedge.app import run_async
from hedge.bus import Bus
from hedge.config import default_config
from hedge.feeds.recording import Record, ReplaySource, bundled_btcusdt, iter_recording, read_lines
from hedge.replay.runner import Replay

FILES = bundled_btcusdt()

# --------------------------------------------------------------------------- the floor loop


class _Depth(msgspec.Struct, tag="depthUpdate", tag_field="e"):
    s: str
    U: int
    u: int
    pu: int
    b: list[tuple[float, float]]
    a: list[tuple[float, float]]


class _Ticker(msgspec.Struct, tag="bookTicker", tag_field="e"):
    s: str
    u: int
    b: float
    B: float
    a: float
    A: float


class _Trade(msgspec.Struct, tag="trade", tag_field="e"):
    s: str
    p: float
    q: float
    m: bool


class _Frame(msgspec.Struct):
    stream: str
    data: _Depth | _Ticker | _Trade


class _Snap(msgspec.Struct):
    lastUpdateId: int
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]


def floor_loop(lines: Iterator[bytes]) -> int:
    """decode + dict/bisect book + quote decision over raw ``<ns> <json>`` lines; returns messages."""
    frame = msgspec.json.Decoder(_Frame, strict=False).decode
    snap = msgspec.json.Decoder(_Snap, strict=False).decode
    bq: dict[float, float] = {}
    aq: dict[float, float] = {}
    bk: list[float] = []  # +price ascending, best last
    ak: list[float] = []  # -price ascending, best last
    quote = (0.0, 0.0)
    msgs = changes = 0
    last_u = 0
    for line in lines:
        sp = line.find(b" ")
        int(line[:sp])
        raw = line[sp + 1:]
        if raw[:9] != b'{"stream"':
            if b'"lastUpdateId"' in raw:
                s = snap(raw)
                bq = {p: q for p, q in s.bids if q > 0}
                aq = {p: q for p, q in s.asks if q > 0}
                bk = sorted(bq)
                ak = sorted(-p for p in aq)
                last_u = s.lastUpdateId
                msgs += 1
            continue
        try:
            d = frame(raw).data
        except msgspec.DecodeError:
            continue
        msgs += 1
        if type(d) is _Depth:
            if d.u < last_u:
                continue
            last_u = d.u
            for p, q in d.b:
                if q > 0:
                    if p not in bq:
                        insort(bk, p)
                    bq[p] = q
                elif bq.pop(p, None) is not None:
                    del bk[bisect_left(bk, p)]
            for p, q in d.a:
                if q > 0:
                    if p not in aq:
                        insort(ak, -p)
                    aq[p] = q
                elif aq.pop(p, None) is not None:
                    del ak[bisect_left(ak, -p)]
            if not bk or not ak:
                continue
            bp, ap = bk[-1], -ak[-1]
            bv = sum(bq[k] for k in bk[-5:])
            av = sum(aq[-k] for k in ak[-5:])
            b1, a1 = bq[bp], aq[ap]
        elif type(d) is _Ticker:
            bp, ap, b1, a1 = d.b, d.a, d.B, d.A
            bv, av = b1, a1
        else:
            continue
        micro = (bp * a1 + ap * b1) / (b1 + a1)
        imb = (bv - av) / (bv + av)
        skew = 0.1 * imb
        q = (round(min(bp, micro - 0.5 + skew), 1), round(max(ap, micro + 0.5 + skew), 1))
        if q != quote:
            quote = q
            changes += 1
    return msgs


# --------------------------------------------------------------------------- hedge's engines


def _cpu(fn: Callable[[], int]) -> tuple[float, float, int]:
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    n = fn()
    return time.process_time() - c0, time.perf_counter() - w0, n


def _gunzip_lines(path: Path) -> Iterator[bytes]:
    """The floor's reader: the standard library's gzip, whole lines (hedge's own may be faster)."""
    with gzip.open(path, "rb") as f:
        for line in f:
            yield line.rstrip(b"\n")


def _lines() -> list[bytes]:
    return [line for f in FILES for line in read_lines(f)]


def _records() -> list[Record]:
    return list(iter_recording(FILES))


def feeds(records: list[Record] | None) -> int:
    src = ReplaySource(FILES, Bus())
    handle = src.handle
    for rec in records if records is not None else src.records():
        handle(rec)
    return sum(src.feed_stats().messages.values())


def pipeline(records: list[Record] | None, prints: set[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        rp = Replay(default_config(), FILES, log_dir=tmp)
        if records is not None:
            rp.source.records = lambda: iter(records)  # type: ignore[method-assign]
        s = run_async(rp.run())
    prints.add(s.fingerprint)
    return s.events


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    logging.disable(logging.WARNING)  # the replay's calibrator warning, once per round
    lines, records = _lines(), _records()
    prints: set[str] = set()
    engines: dict[str, Callable[[], int]] = {
        "floor": lambda: floor_loop(iter(lines)),
        "floor_read": lambda: floor_loop(line for f in FILES for line in _gunzip_lines(f)),
        "feeds": lambda: feeds(records),
        "feeds_read": lambda: feeds(None),
        "pipeline": lambda: pipeline(records, prints),
        "pipeline_read": lambda: pipeline(None, prints),
    }
    best: dict[str, tuple[float, float, int]] = {}
    for i in range(rounds):
        for name, fn in engines.items():
            r = _cpu(fn)
            if name not in best or r[0] < best[name][0]:
                best[name] = r
        print(f"round {i + 1}: " + " | ".join(f"{n} {best[n][0]:.3f}s" for n in engines), flush=True)
    if len(prints) != 1:
        print(f"FAIL: fingerprints differ: {sorted(prints)}")
        return 1
    floor_s = best["floor"][0]
    print(f"{'engine':<15}{'cpu s':>8}{'wall s':>8}{'msgs':>8}{'msgs/s':>10}{'vs floor':>10}")
    for name, (cpu, wall, n) in best.items():
        base = best["floor_read"][0] if name.endswith("_read") else floor_s
        print(f"{name:<15}{cpu:>8.3f}{wall:>8.3f}{n:>8}{n / cpu:>10,.0f}{base / cpu:>10.2f}")
    result: dict[str, object] = {"bench": "pipeline", "rounds": rounds, "loadavg_1m": round(os.getloadavg()[0], 2)}
    for name, (cpu, _, n) in best.items():
        base = best["floor_read"][0] if name.endswith("_read") else floor_s
        result[f"{name}_msgs_per_s"] = round(n / cpu)
        result[f"{name}_vs_floor"] = round(base / cpu, 3)
    result["messages"] = best["pipeline"][2]
    result["fingerprint"] = next(iter(prints))
    result["compiled"] = _compiled()
    print(json.dumps(result))
    return 0


def _compiled() -> list[str]:
    """The hedge modules loaded from a compiled extension (none: the pure-Python build)."""
    return sorted(n for n, m in sys.modules.items()
                  if n.startswith("hedge") and Path(getattr(m, "__file__", "") or "").suffix in (".so", ".pyd"))


if __name__ == "__main__":
    sys.exit(main())
