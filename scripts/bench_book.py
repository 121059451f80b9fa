"""Benchmark the L2 order book alone: the recordings' depth diffs applied, compiled vs pure, in ONE run.

The bundled BTCUSDT recordings are decoded once (outside the clock) into their snapshots and depth
diffs, in stream order. Each round then replays that sequence into a fresh ``OrderBook``:
``apply_snapshot`` per snapshot, ``apply`` + ``touch(5)`` (the per-diff summary the book sync
publishes) per diff. Two implementations, timed in the same process, alternating:

- ``loaded``: ``hedge.feeds.book`` as this process imports it (the compiled extension when the build
  has one and ``HEDGE_PURE`` is unset, else the ``.py``);
- ``pure``: ``hedge/feeds/book.py`` executed as plain Python under another module name (the
  reference, whatever the build).

Each book gets the sides as its build gets them: ``loaded`` what this process's codec produced
(compiled: ``Levels`` over C doubles, which the compiled book reads with a C loop), ``pure`` lists
of tuples (what the pure codec, msgspec, produces).

Figures: best of ``ROUNDS`` rounds, process CPU seconds; ns per level applied (levels = every
(price, qty) pair of every diff) and the ratio pure / loaded (higher = the loaded book is faster).
Both books' final tops are checked equal.

Usage: .venv/bin/python scripts/bench_book.py [ROUNDS]   (default 7)
Last line: one JSON object.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from types import ModuleType
from typing import Any

from hedge import native
from hedge.bus import Bus
from hedge.events import DepthDiff, DepthSnapshot
from hedge.feeds import book as loaded
from hedge.feeds.recording import ReplaySource, bundled_btcusdt

Step = tuple[bool, Any, Any]  # (is_snapshot, bids, asks)


def recorded_steps() -> list[Step]:
    """The recordings' snapshots and diffs, in the order the book sync sees them."""
    bus = Bus()
    steps: list[Step] = []
    bus.subscribe(DepthDiff, lambda d: steps.append((False, d.bids, d.asks)))
    src = ReplaySource(bundled_btcusdt(), bus)
    on_snapshot = src.dispatcher.on_snapshot

    def snap(s: DepthSnapshot) -> None:
        steps.append((True, s.bids, s.asks))
        on_snapshot(s)

    src.dispatcher.on_snapshot = snap  # type: ignore[method-assign,assignment]
    src.run_sync()
    return steps


def as_lists(steps: list[Step]) -> list[Step]:
    """The same steps with every side a list of (px, qty) tuples (the pure codec's form)."""
    return [(s, list(b), list(a)) for s, b, a in steps]


def run(mod: ModuleType, steps: list[Step]) -> tuple[float, Any]:
    book = mod.OrderBook()
    apply, load, touch = book.apply, book.apply_snapshot, book.touch
    t = None
    gc.disable()
    t0 = time.process_time()
    for is_snap, bids, asks in steps:
        if is_snap:
            load(bids, asks)
        else:
            apply(bids, asks)
            t = touch(5)
    dt = time.process_time() - t0
    gc.enable()
    return dt, (t, book.bids(20), book.asks(20), book.depth())


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    steps = recorded_steps()
    levels = sum(len(b) + len(a) for s, b, a in steps if not s)
    diffs = sum(1 for s, _, _ in steps if not s)
    impls: dict[str, ModuleType] = {"loaded": loaded, "pure": native.load_pure("hedge.feeds.book")}
    inputs = {"loaded": steps, "pure": as_lists(steps)}
    best: dict[str, float] = {k: float("inf") for k in impls}
    ends: dict[str, Any] = {}
    for _ in range(rounds):
        for name, mod in impls.items():
            dt, ends[name] = run(mod, inputs[name])
            best[name] = min(best[name], dt)
    assert ends["loaded"] == ends["pure"], "the loaded and the pure book disagree"
    kind = "compiled" if "hedge.feeds.book" in native.compiled_modules() else "pure"
    for name, sec in best.items():
        print(f"{name:7s} ({kind if name == 'loaded' else 'pure'}): {sec * 1e3:8.1f} ms CPU, "
              f"{sec / levels * 1e9:6.1f} ns/level, {sec / diffs * 1e6:6.2f} us/diff")
    print(json.dumps({"loaded": kind, "diffs": diffs, "levels": levels,
                      "loaded_ns_per_level": round(best["loaded"] / levels * 1e9, 1),
                      "pure_ns_per_level": round(best["pure"] / levels * 1e9, 1),
                      "speedup": round(best["pure"] / best["loaded"], 2)}))


if __name__ == "__main__":
    main()
