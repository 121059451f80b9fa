"""Benchmark the one-way Firestore sync of a live daemon: writes a minute and sync latency.

A real Firestore emulator (``gcloud emulators firestore start`` on a free loopback port) and a real
``hedge run`` on the local exchange (the bundled recording at ``--speed``) with
``HEDGE_FEATURE_FIRESTORE_SYNC=1``. /metrics is scraped every 0.25 s for ``--seconds``: the writes
and commits counted, and the sync latency of each commit seen (``hedge_firestore_latency_seconds``:
the committed state file's ``updated_ns`` to the end of its commit; it includes the sync's 1 s
poll of the state files and the state publisher's own 1 s pacing).

Usage: .venv/bin/python scripts/bench_firestore.py [--seconds 60] [--speed 4]
Last line: one JSON object (writes_per_min, commits_per_min, latency_p50_s, latency_p95_s, ...).

Owns: this benchmark's scenario, measurements and report.

Must never: touch a real Google Cloud project (the emulator only).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return str(r.read().decode())
    except OSError:
        return ""


def metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith((name + " ", name + "{")))


def wait(cond: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            sys.exit(f"bench_firestore: no {what} within {timeout:g} s")
        time.sleep(0.2)


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] if s else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--speed", type=float, default=4.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-firestore-"))
    emu_host = f"127.0.0.1:{free_port()}"
    emu = subprocess.Popen(["gcloud", "emulators", "firestore", "start", f"--host-port={emu_host}", "--quiet"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    daemon = None
    try:
        wait(lambda: get(f"http://{emu_host}/").strip() == "Ok", 120, "emulator")
        port = free_port()
        env = {**os.environ, "FIRESTORE_EMULATOR_HOST": emu_host, "HEDGE_FEATURE_FIRESTORE_SYNC": "1",
               "HEDGE_RUNTIME__METRICS__PORT": str(port), "HEDGE_RUNTIME__LOCAL_EXCHANGE__SPEED": str(args.speed)}
        daemon = subprocess.Popen([sys.executable, "-m", "hedge", "run", "--config", str(ROOT / "configs"),
                                   "--log-dir", str(tmp / "logs")], cwd=tmp, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/metrics"
        wait(lambda: metric(get(url), "hedge_firestore_commits_total") >= 1, 120, "first commit")
        text = get(url)
        w0, c0 = metric(text, "hedge_firestore_writes_total"), metric(text, "hedge_firestore_commits_total")
        t0 = time.monotonic()
        latencies: list[float] = []
        commits = c0
        while time.monotonic() - t0 < args.seconds:
            text = get(url)
            c = metric(text, "hedge_firestore_commits_total")
            if c > commits:
                latencies.append(metric(text, "hedge_firestore_latency_seconds"))
                commits = c
            time.sleep(0.25)
        elapsed = time.monotonic() - t0
        text = get(url)
        writes = metric(text, "hedge_firestore_writes_total") - w0
        commits_n = metric(text, "hedge_firestore_commits_total") - c0
        out = {
            "seconds": round(elapsed, 1),
            "writes": int(writes),
            "commits": int(commits_n),
            "writes_per_min": round(writes / elapsed * 60, 1),
            "commits_per_min": round(commits_n / elapsed * 60, 1),
            "unchanged_reads": int(metric(text, "hedge_firestore_unchanged_total")),
            "failures": int(metric(text, "hedge_firestore_failures_total")),
            "latency_samples": len(latencies),
            "latency_p50_s": round(pct(latencies, 0.5), 3),
            "latency_p95_s": round(pct(latencies, 0.95), 3),
            "latency_max_s": round(max(latencies, default=0.0), 3),
        }
        print(json.dumps(out))
    finally:
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)
        os.killpg(emu.pid, signal.SIGKILL)
        emu.wait(timeout=30)


if __name__ == "__main__":
    main()
