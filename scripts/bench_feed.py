"""Benchmark the market-data hot path on the real BTCUSDT recording (bundled, 71,984 messages).

Measures, on one core, with the recording already in memory (file reading and gzip excluded):
- mixed: every message through FrameDispatcher.on_frame: msgspec decode -> bus publish ->
  (depth) BookSync -> OrderBook -> BookUpdate publish to one subscriber;
- depth: only the depth diffs (and the snapshot) through the same path;
- decode: Codec.decode alone.
Targets (issue 3): >= 150k mixed events/s, >= 50k depth diffs/s.
Last line: one JSON object with the headline figures.
"""

from __future__ import annotations

import json
import time

from hedge.bus import Bus
from hedge.events import BookUpdate
from hedge.feeds.codec import Codec
from hedge.feeds.dispatch import FrameDispatcher
from hedge.feeds.recording import RecordedLine, bundled_btcusdt, iter_hftbacktest

ROUNDS = 5


def run(lines: list[RecordedLine]) -> tuple[float, int, int]:
    bus = Bus()
    updates = [0]

    def on_update(ev: BookUpdate) -> None:
        updates[0] += 1

    bus.subscribe(BookUpdate, on_update)
    disp = FrameDispatcher(bus)
    on_frame = disp.on_frame
    t0 = time.perf_counter()
    for r in lines:
        if r.is_snapshot:
            disp.on_snapshot_body(r.raw, "BTCUSDT", r.recv_ns)
        else:
            on_frame(r.raw, r.recv_ns)
    dt = time.perf_counter() - t0
    assert disp.stats().gaps == 0
    return dt, updates[0], disp.stats().diffs_applied


def main() -> None:
    lines = list(iter_hftbacktest(bundled_btcusdt()))
    depth = [r for r in lines if r.is_snapshot or b"depthUpdate" in r.raw[:60]]
    n_diffs = sum(1 for r in depth if not r.is_snapshot)

    mixed = min(run(lines)[0] for _ in range(ROUNDS))
    _, n_updates, applied = run(lines)
    depth_t = min(run(depth)[0] for _ in range(ROUNDS))

    codec = Codec()
    decode = codec.decode
    frames = [(r.raw, r.recv_ns) for r in lines if not r.is_snapshot]
    dec_t = float("inf")
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        for raw, ns in frames:
            decode(raw, ns)
        dec_t = min(dec_t, time.perf_counter() - t0)

    mixed_rate = len(lines) / mixed
    depth_rate = n_diffs / depth_t
    print(f"messages: {len(lines):,} ({n_diffs:,} depth diffs, {applied:,} applied, {n_updates:,} BookUpdates)")
    print(f"mixed  decode+book+BookUpdate : {mixed_rate:12,.0f} events/s ({1e6 / mixed_rate:.2f} us/event)")
    print(f"depth  decode+book+BookUpdate : {depth_rate:12,.0f} diffs/s  ({1e6 / depth_rate:.2f} us/diff)")
    print(f"decode only (all frames)      : {len(frames) / dec_t:12,.0f} frames/s")
    print(json.dumps({
        "messages": len(lines),
        "mixed_events_per_s": round(mixed_rate),
        "depth_diffs_per_s": round(depth_rate),
        "decode_frames_per_s": round(len(frames) / dec_t),
        "mixed_target_met": mixed_rate >= 150_000,
        "depth_target_met": depth_rate >= 50_000,
    }))


if __name__ == "__main__":
    main()
