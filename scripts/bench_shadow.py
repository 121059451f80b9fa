"""Benchmark the shadow pipeline's cost per tick: the bundled replay with the shadow off and on.

Each round replays the bundled BTCUSDT recording with the classic exit profile (it trades, so the
shadow's router and simulated account work too) exactly as ``hedge replay`` does, once with
``features.shadow_pipeline`` off and once on (candidate = the live configuration), alternating so
a loaded machine weighs on both. Cost per tick = the replay's wall time / market events; the
overhead is (on - off) / off on the best and the median rounds (goal: <= +30%). The shadow's own
sampled measurement (``hedge.shadow.cost``: its handling time of a sampled tick over the live
pipeline's, what the daemon shows on /metrics and in shadow_state.json) is reported beside it
(``sampled_share``, the median round's). Every round also checks that the live fingerprint is the
same with the shadow on, and that the shadow agreed 100%.

Last line: one JSON object.

Usage: .venv/bin/python scripts/bench_shadow.py [ROUNDS]   (default 5)
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile

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


def one(shadow: bool) -> tuple[float, str, float, float]:
    """(µs per market event, live fingerprint, intent agreement or 1.0 when off, sampled share or 0.0)."""
    with tempfile.TemporaryDirectory() as tmp:
        r = Replay(config(shadow), bundled_btcusdt(), log_dir=tmp)
        s = run_async(r.run())
        rep = r.shadow.report() if r.shadow is not None else None
        agreement = rep.intent_agreement if rep is not None else 1.0
        return s.wall_s / s.events * 1e6, s.fingerprint, agreement, rep.cost_share if rep is not None else 0.0


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    one(False)  # warm-up: imports, caches
    off: list[float] = []
    on: list[float] = []
    prints: set[str] = set()
    shares: list[float] = []
    agreement = 1.0
    for _ in range(rounds):
        for shadow, out in ((False, off), (True, on)):
            us, fp, agree, share = one(shadow)
            out.append(us)
            prints.add(fp)
            agreement = min(agreement, agree)
            if shadow:
                shares.append(share)
    best = min(on) / min(off) - 1.0
    median = statistics.median(on) / statistics.median(off) - 1.0
    print(f"off: {', '.join(f'{x:.2f}' for x in off)} us/event")
    print(f"on:  {', '.join(f'{x:.2f}' for x in on)} us/event")
    result = {
        "rounds": rounds,
        "off_us_per_event_best": round(min(off), 3),
        "on_us_per_event_best": round(min(on), 3),
        "overhead_best": round(best, 4),
        "overhead_median": round(median, 4),
        "goal": GOAL,
        "goal_met": median <= GOAL,
        "sampled_share": round(statistics.median(shares), 4),
        "live_fingerprint_unchanged": len(prints) == 1,
        "intent_agreement_min": agreement,
    }
    print(json.dumps(result))
    return 0 if len(prints) == 1 and agreement == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
