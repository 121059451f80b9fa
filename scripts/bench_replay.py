"""Benchmark the full-pipeline replay on the bundled real BTCUSDT recording (71,984 messages).

Each round runs ``hedge.replay.runner.Replay`` exactly as ``python -m hedge replay`` does: gzip
read -> decode -> book sync -> simulated venue (matching engine) -> risk -> router -> signals ->
fills, journals and state files (under a temporary directory), one core, max speed. For scale, the
same rounds also time the feeds alone (read -> decode -> book sync onto a bare bus: the floor of
any replay) on the same data, so a loaded machine shows in both figures.

Reports the best and the median of the rounds (events/s = market messages / wall time), the
replay's fingerprint (identical in every round, or the script fails) and its trade counts.
Last line: one JSON object.

Usage: .venv/bin/python scripts/bench_replay.py [ROUNDS]   (default 5)
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time

from hedge.app import run_async
from hedge.bus import Bus
from hedge.config import default_config
from hedge.feeds.recording import ReplaySource, bundled_btcusdt
from hedge.replay.runner import Replay
from hedge.replay.summary import ReplaySummary

TARGET = 100_000


def feeds_only() -> float:
    source = ReplaySource(bundled_btcusdt(), Bus())
    st = source.run_sync()
    return sum(source.feed_stats().messages.values()) / st.wall_s


def full_replay() -> ReplaySummary:
    with tempfile.TemporaryDirectory() as tmp:
        return run_async(Replay(default_config(), bundled_btcusdt(), log_dir=tmp).run())


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    feeds: list[float] = []
    replays: list[ReplaySummary] = []
    for i in range(rounds):
        feeds.append(feeds_only())
        t0 = time.perf_counter()
        s = full_replay()
        replays.append(s)
        print(f"round {i + 1}: feeds only {feeds[-1]:>9,.0f} ev/s | full pipeline {s.events_per_s:>9,.0f} ev/s "
              f"({s.events} events, {time.perf_counter() - t0:.2f}s incl. set-up)")
    prints = {s.fingerprint for s in replays}
    if len(prints) != 1:
        print(f"FAIL: fingerprints differ between rounds: {sorted(prints)}")
        return 1
    rates = [s.events_per_s for s in replays]
    s = replays[0]
    result = {
        "bench": "replay",
        "events": s.events,
        "rounds": rounds,
        "events_per_s_best": round(max(rates)),
        "events_per_s_median": round(statistics.median(rates)),
        "feeds_only_events_per_s_best": round(max(feeds)),
        "pipeline_share_of_feeds_best": round(max(rates) / max(feeds), 3),
        "target_events_per_s": TARGET,
        "meets_target": max(rates) >= TARGET,
        "intents": s.intents,
        "orders": s.orders,
        "fills": s.fills,
        "fingerprint": s.fingerprint,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
