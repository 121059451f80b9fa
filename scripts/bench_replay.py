"""Benchmark the full-pipeline replay on the bundled real BTCUSDT recording (71,984 messages).

Each round runs ``hedge.replay.runner.Replay`` exactly as ``python -m hedge replay`` does: gzip
read -> decode -> book sync -> simulated venue (matching engine) -> risk -> router -> signals ->
fills, journals and state files (under a temporary directory), one core, max speed. For scale, the
same rounds also time the feeds alone (read -> decode -> book sync onto a bare bus: the floor of
any replay) on the same data, so a loaded machine shows in both figures.

Reports the best and the median of the rounds (events/s = market messages / wall time), the
replay's fingerprint (identical in every round, or the script fails) and its trade counts.
Last line: one JSON object.

``--fuzzed``: instead, time the replay of ``btcusdt_20240718.gz`` against a fuzzed copy of it
(``scripts/make_fuzzed_recording.py``, seed 0: 3 bytes corrupted in about half the lines),
alternating rounds, and report both rates (events/s, and lines/s: every line read, bad ones
included) and their ratio. A bad line must cost about what a good one costs.

Usage: .venv/bin/python scripts/bench_replay.py [ROUNDS] [--fuzzed]   (default 5 rounds)
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from make_fuzzed_recording import make_fuzzed

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


def full_replay(files: list[Path] | None = None) -> ReplaySummary:
    with tempfile.TemporaryDirectory() as tmp:
        return run_async(Replay(default_config(), files or bundled_btcusdt(), log_dir=tmp).run())


def fuzzed(rounds: int) -> int:
    """The clean 0718 file and its fuzzed copy, alternating rounds; best rates of each."""
    clean = bundled_btcusdt()[0]
    with tempfile.TemporaryDirectory() as tmp:
        fz = Path(tmp) / "btcusdt_20240718.gz"  # the same name: the snapshot's symbol comes from it
        lines, corrupted = make_fuzzed(clean, fz, seed=0)
        runs: dict[str, list[ReplaySummary]] = {"clean": [], "fuzzed": []}
        for i in range(rounds):
            for name, path in (("clean", clean), ("fuzzed", fz)):
                runs[name].append(full_replay([path]))
            c, f = runs["clean"][-1], runs["fuzzed"][-1]
            print(f"round {i + 1}: clean {c.events_per_s:>9,.0f} ev/s | fuzzed {f.events_per_s:>9,.0f} ev/s "
                  f"({f.bad_lines} bad lines)")
    best = {name: min(rs, key=lambda s: s.wall_s) for name, rs in runs.items()}
    c, f = best["clean"], best["fuzzed"]
    clean_lps, fuzz_lps = lines / c.wall_s, lines / f.wall_s
    result = {
        "bench": "replay_fuzzed",
        "rounds": rounds,
        "lines": lines,
        "lines_corrupted": corrupted,
        "fuzzed_bad_lines": f.bad_lines,
        "fuzzed_bad_lines_by_kind": f.bad_lines_by_kind,
        "clean_events_per_s": round(c.events / c.wall_s),
        "fuzzed_events_per_s": round(f.events / f.wall_s),
        "clean_lines_per_s": round(clean_lps),
        "fuzzed_lines_per_s": round(fuzz_lps),
        "fuzzed_over_clean_lines_per_s": round(fuzz_lps / clean_lps, 3),
        "within_2x": fuzz_lps * 2 >= clean_lps,
        "clean_fingerprint": c.fingerprint,
    }
    print(json.dumps(result))
    return 0 if result["within_2x"] else 1


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--fuzzed"]
    rounds = int(args[0]) if args else 5
    if "--fuzzed" in sys.argv[1:]:
        return fuzzed(rounds)
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
