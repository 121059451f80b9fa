"""Benchmark Parquet tapes against their gz source on the bundled BTCUSDT recording (71,984 messages).

Converts the two bundled files (``hedge.feeds.parquet.convert``, timed), then alternates rounds of:
- reading to events (the stage a tape replaces: gz lines + msgspec JSON decoding, vs tape rows built
  into the same events), gz vs tape;
- the feeds alone (read -> decode -> book sync onto a bare bus: where JSON decoding lives), gz vs tape;
- the full replay (``hedge.replay.runner.Replay``, as ``hedge replay``), gz vs tape, with the default
  configuration and the classic exit profile (it trades), checking every fingerprint is equal;
- the bound a reader cannot beat: the feeds and the full replay fed from records already in memory (a
  reader costing nothing; ``free``), so ``replay_speedup_cap`` = free / gz is the most any tape reader
  could give the whole replay while the engine's own per-event work stays as it is.
From the best rounds, the per-event split of a replay (microseconds of CPU per event): the engine
``E`` = 1 / free, the gz reader ``Rgz`` = 1 / gz - E, the tape reader ``Rpq`` = 1 / parquet - E; the
replay speed-up is (E + Rgz) / (E + Rpq), so it is 2x only while E <= Rgz - 2 Rpq.
Every figure is events per CPU second of this process (``time.process_time``): the machine is shared,
and wall time mostly measured the other jobs (the same run's wall-time rates varied 3x between rounds).
Reports the best round of each and the speed-ups (best vs best, and the median of the paired
per-round ratios), file sizes and conversion time.

Usage: .venv/bin/python scripts/bench_parquet.py [ROUNDS]   (default 3)
Last line: one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hedge.app import run_async
from hedge.bus import Bus
from hedge.config import Config, default_config, exit_profile
from hedge.feeds.codec import Codec
from hedge.feeds.parquet import best_codec, convert
from hedge.feeds.recording import Record, RecordedLine, ReplaySource, bundled_btcusdt, iter_recording
from hedge.replay.runner import Replay
from hedge.replay.summary import ReplaySummary


def read_events(files: list[Path]) -> float:
    """Events/s of reading ``files`` into hedge events (gz: lines decoded by the codec; a tape: its rows)."""
    codec = Codec()
    t0 = time.process_time()
    n = 0
    for r in iter_recording(files):
        if isinstance(r, RecordedLine):
            ev = codec.decode_snapshot(r.raw, r.symbol, r.recv_ns) if r.is_snapshot else codec.decode(r.raw, r.recv_ns)
            n += ev is not None
        else:
            n += 1
    return n / (time.process_time() - t0)


def feeds_only(files: list[Path], records: list[Record] | None = None) -> float:
    """Events/s of the feeds alone (``records``: fed from memory instead of read from ``files``)."""
    source = ReplaySource(files, Bus())
    if records is not None:
        source.records = lambda: iter(records)  # type: ignore[method-assign]
    t0 = time.process_time()
    source.run_sync()
    return sum(source.feed_stats().messages.values()) / (time.process_time() - t0)


def replay(files: list[Path], cfg: Config, records: list[Record] | None = None) -> tuple[ReplaySummary, float]:
    """One full replay and its events per CPU second (``records``: fed from memory, see ``feeds_only``)."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Replay(cfg, files, log_dir=tmp)
        if records is not None:
            run.source.records = lambda: iter(records)  # type: ignore[method-assign]
        t0 = time.process_time()
        s = run_async(run.run())
        return s, s.events / (time.process_time() - t0)


def split_us(best: dict[str, float]) -> dict[str, float]:
    """The per-event CPU split of a replay (see the module docstring), in microseconds."""
    engine = 1e6 / best["free"]
    return {"engine_us_per_event": round(engine, 3), "gz_reader_us_per_event": round(1e6 / best["gz"] - engine, 3),
            "parquet_reader_us_per_event": round(1e6 / best["parquet"] - engine, 3)}


def main(rounds: int) -> int:
    import msgspec

    gz = bundled_btcusdt()
    base = default_config()
    classic = msgspec.structs.replace(base, strategy=msgspec.structs.replace(base.strategy,
                                                                              exits=exit_profile("classic")))
    with tempfile.TemporaryDirectory() as tmp:
        tapes = [Path(tmp) / f.name.replace(".gz", ".parquet") for f in gz]
        t0 = time.perf_counter()
        for src, out in zip(gz, tapes, strict=True):
            convert(src, out)
        convert_s = time.perf_counter() - t0
        feeds: dict[str, list[float]] = {"gz": [], "parquet": [], "free": []}
        reads: dict[str, list[float]] = {"gz": [], "parquet": []}
        full: dict[str, list[float]] = {"gz": [], "parquet": [], "free": []}
        in_memory = list(iter_recording(tapes, tickers=False))  # what a replay reads (nobody needs BookTicker)
        prints: dict[str, set[str]] = {"default": set(), "classic": set()}
        for i in range(rounds):
            for name, files in (("gz", gz), ("parquet", tapes)):
                reads[name].append(read_events(files))
                feeds[name].append(feeds_only(files))
                s, rate = replay(files, base)
                full[name].append(rate)
                events = s.events
                prints["default"].add(s.fingerprint)
                prints["classic"].add(replay(files, classic)[0].fingerprint)
            feeds["free"].append(feeds_only(tapes, in_memory))
            s, rate = replay(tapes, base, in_memory)
            full["free"].append(rate)
            prints["default"].add(s.fingerprint)
            print(f"round {i + 1}: read gz {reads['gz'][-1]:>9,.0f} parquet {reads['parquet'][-1]:>9,.0f} | "
                  f"feeds gz {feeds['gz'][-1]:>9,.0f} parquet {feeds['parquet'][-1]:>9,.0f} "
                  f"free {feeds['free'][-1]:>9,.0f} | replay gz {full['gz'][-1]:>8,.0f} "
                  f"parquet {full['parquet'][-1]:>8,.0f} free {full['free'][-1]:>8,.0f} (events per CPU s)",
                  flush=True)
        sizes = {"gz_bytes": sum(f.stat().st_size for f in gz), "parquet_bytes": sum(f.stat().st_size for f in tapes)}
    best_feeds = {k: max(v) for k, v in feeds.items()}
    best_reads = {k: max(v) for k, v in reads.items()}
    best_full = {k: max(v) for k, v in full.items()}

    def paired(d: dict[str, list[float]]) -> float:
        return round(statistics.median(p / g for g, p in zip(d["gz"], d["parquet"], strict=True)), 2)

    result = {
        "bench": "parquet",
        "rounds": rounds,
        "events": events,
        "codec": best_codec(),
        **sizes,
        "size_ratio": round(sizes["parquet_bytes"] / sizes["gz_bytes"], 3),
        "convert_s": round(convert_s, 3),
        "read_gz_events_per_s": round(best_reads["gz"]),
        "read_parquet_events_per_s": round(best_reads["parquet"]),
        "read_speedup": round(best_reads["parquet"] / best_reads["gz"], 2),
        "read_speedup_paired_median": paired(reads),
        "feeds_gz_events_per_s": round(best_feeds["gz"]),
        "feeds_parquet_events_per_s": round(best_feeds["parquet"]),
        "feeds_speedup": round(best_feeds["parquet"] / best_feeds["gz"], 2),
        "feeds_speedup_paired_median": paired(feeds),
        "replay_gz_events_per_s": round(best_full["gz"]),
        "replay_parquet_events_per_s": round(best_full["parquet"]),
        "replay_speedup": round(best_full["parquet"] / best_full["gz"], 2),
        "replay_speedup_paired_median": paired(full),
        "feeds_free_events_per_s": round(best_feeds["free"]),
        "feeds_speedup_cap": round(best_feeds["free"] / best_feeds["gz"], 2),
        "replay_free_events_per_s": round(best_full["free"]),
        "replay_speedup_cap": round(best_full["free"] / best_full["gz"], 2),
        **split_us(best_full),
        "fingerprints_equal": len(prints["default"]) == 1 and len(prints["classic"]) == 1,
        "fingerprint_default": next(iter(prints["default"])),
        "fingerprint_classic": next(iter(prints["classic"])),
    }
    print(json.dumps(result))
    return 0 if result["fingerprints_equal"] else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
