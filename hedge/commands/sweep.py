"""``hedge sweep SPEC.yaml [FILE...]``: replay many settings (and walk-forward windows) as Ray tasks.

The spec (``hedge.research.spec``) names configuration keys with value lists or ranges, the
recordings and an optional walk-forward. Every key and value is checked against the
configuration schema before anything runs (exit 2 with each problem named). Each point is one
replay in a Ray task: a local Ray of ``--workers`` CPUs by default, an existing cluster with
``--address auto|HOST:PORT|ray://HOST:PORT`` (``hedge.research.cluster``: a cluster that cannot be
joined is one line naming the address, exit 1); on a cluster the recordings and the configuration
directory travel through Ray's object store (``--shared-fs``: the workers see them at the same paths).
``--out DIR`` (default ``sweeps/<spec name>``) gets ``results.parquet`` and ``results.csv`` (one row
per point, in the spec's order), ``report.html`` with the charts, ``sweep.json`` (how it ran:
workers, wall time, per-worker peak memory) and, for a walk-forward, ``calibrators/<point>.yaml``.
A failed point is a row with its error; the exit code is then 1 (0 when all ran, 2 bad usage).

Each row equals a plain ``hedge replay``: ``HEDGE_<key with __>=<value> hedge replay FILES --config DIR``
gives the row's fingerprint (a walk-forward row: ``--config`` a copy of DIR with the point's calibrator.yaml).

Owns: the options and their checks, the progress bar, writing the output files, the exit code (and
the sweep's wall time for sweep.json: a duration, the one wall-clock reading here).

Must never: change what a point computes (``hedge.research.points`` does), or print the table to stdout
in any order but the spec's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC.yaml", help="the sweep spec (docs/sweeps.md)")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="recordings (override the spec's; A+B: one recording in two files, read as one stream; "
                   "default: the bundled BTCUSDT recording, its two files as one)")
    p.add_argument("--address", metavar="auto|HOST:PORT|ray://HOST:PORT", default=None,
                   help="an existing Ray cluster: auto (this node's), HOST:PORT (the head's GCS port) or "
                   "ray://HOST:PORT (its Ray client server); default: start a local Ray of --workers CPUs")
    p.add_argument("--shared-fs", action="store_true",
                   help="with --address: the workers see the recordings and the config directory at the same "
                   "paths (a shared file system); default: send them through Ray's object store")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="local Ray CPUs (default 2)")
    p.add_argument("--out", metavar="DIR", default=None, help="output directory (default sweeps/<spec name>)")


def main(args: argparse.Namespace) -> int:
    import os
    import time

    import msgspec

    from hedge.commands.common import check_recordings
    from hedge.commands.progress import ProgressBar
    from hedge.feeds.recording import bundled_btcusdt
    from hedge.research import cluster, sweep, sweep_report, table
    from hedge.research.points import PointResult
    from hedge.research.spec import SpecError, check, load_spec, point_env, points, recordings

    if args.workers < 1:
        print("hedge sweep: --workers must be >= 1", file=sys.stderr)
        return 2
    try:
        if args.address not in (None, cluster.AUTO):
            cluster.host_port(args.address)
    except cluster.ClusterError as exc:
        print(f"hedge sweep: {exc}", file=sys.stderr)
        return 2
    try:
        spec = load_spec(args.spec)
        recs = recordings(spec, [str(f) for f in args.files], [str(p) for p in bundled_btcusdt()])
        files = [f for r in recs for f in r]
        if not check_recordings("hedge sweep", files):
            return 2
        pts = points(spec, recs)
        problems = check(spec, spec.config, os.environ)
    except SpecError as exc:
        print(f"hedge sweep: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"hedge sweep: {args.spec}: {problem}", file=sys.stderr)
    if problems:
        return 2
    out = Path(args.out or Path("sweeps") / Path(args.spec).stem)
    out.mkdir(parents=True, exist_ok=True)
    envs = [point_env(os.environ, p.params) for p in pts]
    try:
        info = sweep.connect(args.address, args.workers)
    except cluster.ClusterError as exc:
        print(f"hedge sweep: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # ray's own errors starting a local Ray
        print(f"hedge sweep: cannot start Ray: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
              file=sys.stderr)
        return 1
    print(f"hedge sweep: {len(pts)} replays on Ray ({info['cpus']:.0f} CPUs)", file=sys.stderr)
    bar = ProgressBar("sweep", len(pts), after_s=0.0)
    failed = 0

    def done(n: int, res: PointResult) -> None:
        nonlocal failed
        failed += bool(res.row["error"])
        bar.update(n, f"{failed} failed" if failed else "")

    t0 = time.perf_counter()
    try:
        results = sweep.run_ray(pts, spec.config, envs, done, ship=args.address is not None and not args.shared_fs)
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    rows = [r.row for r in results]
    written = table.write(rows, list(spec.params), out)
    for r in results:
        if r.calibrator:
            cal = out / "calibrators" / f"{r.row['point']:04d}.yaml"
            cal.parent.mkdir(exist_ok=True)
            cal.write_text(r.calibrator)
    written.append(sweep_report.write(spec, results, out, f"hedge sweep {Path(args.spec).name}"))
    rss: dict[int, float] = {}
    for r in results:
        rss[r.pid] = max(rss.get(r.pid, 0.0), r.rss_mb)
    meta = {"spec": str(args.spec), "files": files, "points": len(pts), "failed": failed,
            "address": args.address or "local", "inputs": "shared paths" if args.address is None or args.shared_fs
            else "object store", "cpus": info["cpus"], "wall_s": round(wall, 3),
            "worker_peak_rss_mb": {str(k): v for k, v in sorted(rss.items()) if k}}
    (out / "sweep.json").write_bytes(msgspec.json.format(msgspec.json.encode(meta)) + b"\n")
    best = sweep_report.ranked(results, spec.report.metric)
    print(f"hedge sweep: {len(pts)} replays in {wall:.1f}s, {failed} failed"
          + (f"; best {spec.report.metric}: point {best[0].row['point']} ({best[0].row[spec.report.metric]})"
             if best else ""), file=sys.stderr)
    for p in [*written, out / "sweep.json"]:
        print(f"wrote {p}")
    return 1 if failed else 0
