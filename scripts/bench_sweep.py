"""Benchmark ``hedge sweep``: 16 configurations x 2 bundled recordings on Ray vs one after another.

The 2 recordings: ``btcusdt_20240718.gz`` alone (8 minutes) and the whole bundled stream
``btcusdt_20240718.gz+btcusdt_20240719.gz`` (the second file continues the first: alone it has no
snapshot and its book never syncs). Runs the points of ``examples/sweep.yaml`` (32 replays) first
one after another in this process (``hedge.research.sweep.run_serial``), then as Ray tasks on a local Ray
of ``--workers`` CPUs (``run_ray``, what ``hedge sweep`` does), and checks both gave the same rows (fingerprints).
Reports the wall times and the speed-up, Ray's start-up, Ray's overhead per task (the round trip
of an empty task, and the Ray wall time beyond the ideal split of the serial work), the peak memory
of each worker, and the load average before and after (the machine is shared: a loaded machine
shows there). Last line: one JSON object.

Usage: .venv/bin/python scripts/bench_sweep.py [--workers 2] [--spec examples/sweep.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from hedge.feeds.recording import bundled_btcusdt
from hedge.research.points import PointResult
from hedge.research.spec import load_spec, point_env, points
from hedge.research.sweep import connect, run_ray, run_serial

ROOT = Path(__file__).resolve().parents[1]
NOOP_TASKS = 200


def _noop() -> int:
    return 0


def _strip(results: list[PointResult]) -> list[dict[str, object]]:
    return [{k: v for k, v in r.row.items() if k != "wall_s"} for r in results]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--spec", default=str(ROOT / "examples" / "sweep.yaml"))
    args = ap.parse_args()
    spec = load_spec(args.spec)
    day1, day2 = (str(p) for p in bundled_btcusdt())
    pts = points(spec, [[day1], [day1, day2]])
    envs = [point_env(os.environ, p.params) for p in pts]
    load_before = os.getloadavg()

    t0 = time.perf_counter()
    serial = run_serial(pts, spec.config, envs)
    serial_s = time.perf_counter() - t0
    print(f"serial: {len(pts)} replays in {serial_s:.1f}s")

    import ray

    t0 = time.perf_counter()
    connect(None, args.workers)
    startup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    par = run_ray(pts, spec.config, envs)
    ray_s = time.perf_counter() - t0
    print(f"ray ({args.workers} workers): {len(pts)} replays in {ray_s:.1f}s (start-up {startup_s:.1f}s)")
    noop = ray.remote(num_cpus=1)(_noop)
    ray.get(noop.remote())
    t0 = time.perf_counter()
    for _ in range(NOOP_TASKS):
        ray.get(noop.remote())
    roundtrip_ms = (time.perf_counter() - t0) / NOOP_TASKS * 1000
    t0 = time.perf_counter()
    ray.get([noop.remote() for _ in range(NOOP_TASKS)])
    batch_ms = (time.perf_counter() - t0) / NOOP_TASKS * 1000
    ray.shutdown()
    load_after = os.getloadavg()

    same = _strip(serial) == _strip(par)
    task_s = sum(float(r.row["wall_s"]) for r in par)
    overhead_ms = max(0.0, (ray_s - task_s / args.workers) / len(pts) * 1000)
    rss: dict[int, float] = {}
    for r in par:
        rss[r.pid] = max(rss.get(r.pid, 0.0), r.rss_mb)
    out = {
        "points": len(pts),
        "failed": sum(1 for r in par if r.row["error"]),
        "workers": args.workers,
        "serial_s": round(serial_s, 2),
        "ray_s": round(ray_s, 2),
        "speedup": round(serial_s / ray_s, 2),
        "goal_speedup": 1.7,
        "ray_startup_s": round(startup_s, 2),
        "task_roundtrip_ms": round(roundtrip_ms, 2),
        "task_batched_ms": round(batch_ms, 2),
        "overhead_per_task_ms": round(overhead_ms, 1),
        "sum_task_wall_s": round(task_s, 2),
        "worker_peak_rss_mb": sorted(rss.values()),
        "driver_peak_rss_mb": round(serial[-1].rss_mb, 1),
        "same_rows": same,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(out))
    if not same:
        raise SystemExit("the Ray rows differ from the serial rows")


if __name__ == "__main__":
    main()
