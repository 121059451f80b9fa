"""Benchmark the shadow pipeline's cost per tick: the bundled replay with the shadow off and on.

Each round replays the bundled BTCUSDT recording with the classic exit profile (it trades, so the
shadow's router and simulated account work too) exactly as ``hedge replay`` does, once with
``features.shadow_pipeline`` off and once on (candidate = the live configuration), alternating so
a loaded machine weighs on both. Cost per tick = the replay's CPU time (``time.process_time``: on a
machine shared with other processes the wall time mostly measures them) / market events, the wall
time's beside it; the overhead is (on - off) / off on the best and the median rounds, and the median
of each round's own on/off ratio (the two runs of a round share the machine's load) (goal: <= +30%). The shadow's own
sampled measurement (``hedge.shadow.cost``: its handling time of a sampled tick over the live
pipeline's, what the daemon shows on /metrics and in shadow_state.json) is reported beside it
(``sampled_share``, the median round's). Every round also checks that the live fingerprint is the
same with the shadow on, and that the shadow agreed 100%.

Last line: one JSON object.

Usage: .venv/bin/python scripts/bench_shadow.py [ROUNDS]   (default 5)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time

import msgspec

from hedge.app import run_async
from hedge.config import Config, default_config, exit_profile
from hedge.feeds.recording import bundled_btcusdt
from hedge.replay.runner import Replay

GOAL = 0.30


def config(shadow: bool) -> Config:
    cfg = default_config()
    rt = cfg.runtime
    return msgspec.structs.replace(
        cfg,
        strategy=msgspec.structs.replace(cfg.strategy, exits=exit_profile("classic")),
        runtime=msgspec.structs.replace(
            rt, features=msgspec.structs.replace(rt.features, shadow_pipeline=shadow)),
    )


def one(shadow: bool) -> tuple[float, float, str, float, float]:
    """(CPU µs per market event, wall µs per market event, live fingerprint, intent agreement or 1.0 when off,
    sampled share or 0.0)."""
    with tempfile.TemporaryDirectory() as tmp:
        r = Replay(config(shadow), bundled_btcusdt(), log_dir=tmp)
        cpu0 = time.process_time()
        s = run_async(r.run())
        cpu = time.process_time() - cpu0
        rep = r.shadow.report() if r.shadow is not None else None
        agreement = rep.intent_agreement if rep is not None else 1.0
        return (cpu / s.events * 1e6, s.wall_s / s.events * 1e6, s.fingerprint, agreement,
                rep.cost_share if rep is not None else 0.0)


def overheads(off: list[float], on: list[float]) -> tuple[float, float, float]:
    """(best to best, median to median, median of the rounds' own ratios) - 1."""
    return (min(on) / min(off) - 1.0, statistics.median(on) / statistics.median(off) - 1.0,
            statistics.median(b / a for a, b in zip(off, on, strict=True)) - 1.0)


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    one(False)  # warm-up: imports, caches
    cpu: dict[bool, list[float]] = {False: [], True: []}
    wall: dict[bool, list[float]] = {False: [], True: []}
    prints: set[str] = set()
    shares: list[float] = []
    agreement = 1.0
    load = os.getloadavg()[0]
    for _ in range(rounds):
        for shadow in (False, True):
            c, w, fp, agree, share = one(shadow)
            cpu[shadow].append(c)
            wall[shadow].append(w)
            prints.add(fp)
            agreement = min(agreement, agree)
            if shadow:
                shares.append(share)
    best, median, paired = overheads(cpu[False], cpu[True])
    wbest, wmedian, wpaired = overheads(wall[False], wall[True])
    for name, d in (("cpu", cpu), ("wall", wall)):
        print(f"{name} off: {', '.join(f'{x:.2f}' for x in d[False])} us/event")
        print(f"{name} on:  {', '.join(f'{x:.2f}' for x in d[True])} us/event")
    result = {
        "rounds": rounds,
        "off_us_per_event_best": round(min(cpu[False]), 3),
        "on_us_per_event_best": round(min(cpu[True]), 3),
        "overhead_best": round(best, 4),
        "overhead_median": round(median, 4),
        "overhead_paired_median": round(paired, 4),
        "wall_overhead_best": round(wbest, 4),
        "wall_overhead_median": round(wmedian, 4),
        "wall_overhead_paired_median": round(wpaired, 4),
        "goal": GOAL,
        "goal_met": max(best, median, paired) <= GOAL,
        "sampled_share": round(statistics.median(shares), 4),
        "sampled_share_max": round(max(shares), 4),
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
        "live_fingerprint_unchanged": len(prints) == 1,
        "intent_agreement_min": agreement,
    }
    print(json.dumps(result))
    return 0 if len(prints) == 1 and agreement == 1.0 else 1

if __name__ == "__main__":
    sys.exit(main())
