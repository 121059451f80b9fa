"""The soak: the daemon on the local exchange for N minutes, one fault a period, nothing may leak or be lost.

The local exchange runs in its own process (``python -m hedge exchange``, the bundled real BTCUSDT
recording at ``--speed``, 4x by default) and the real daemon (``python -m hedge run``) in another,
pointed at it as at any Binance-compatible URL (``--venue binance`` with the feeds' URLs and
``BINANCE_API_KEY`` / ``BINANCE_API_SECRET`` set to the exchange's test keys). Its configuration
(written under the run's directory) makes micro_scalper trade often with tight exits, and lifts
the cool-offs and the expected-return gates so that it keeps trading for the whole run.

Once the daemon is healthy, every ``--fault-every`` seconds (60 by default) one fault is injected
through the exchange's control API, rotating through: ws drop, listen-key expiry, order 503, order
drop (committed, connection closed), 429, depth gap, stream stall. Every ``--sample-every``
second the daemon process's RSS and open fds (``/proc/<pid>``), its event-loop lag histogram and
its stage-inbox depths (``/metrics``) are sampled, and the account's fills at the exchange
(``/fapi/v1/userTrades``, which only shows the newest 1000) are collected by trade id. A progress
line goes to stderr.

At the end the kill switch halts the daemon (every order cancelled, so nothing can fill after it
stops), the engine's positions are waited for to equal the exchange's, the daemon is stopped with
SIGTERM, and the run is judged:

- RSS growth over the last 80% of the run (from the mean RSS of the samples just after the first
  20% to the mean of the last 5%) < 5%, fd growth over the same span <= ``--max-fd-growth``;
- event-loop lag p99 over the last 80% (from the lag histogram's buckets) < 50 ms (``--max-loop-lag-ms``:
  a loaded machine's scheduling delays show up here too, whatever the daemon does);
- no client order id accepted twice by the exchange (its order log);
- the engine's positions (state/positions) == the exchange's;
- the fill journal (``fills.jsonl``) holds every exchange fill exactly once, keyed by (symbol, trade id);
- ``/health`` is 200 again within 60 s of the run's end (it recovered from every fault);
- the daemon exits 0 with no traceback in its log, and it placed orders.

Usage: .venv/bin/python scripts/soak.py --minutes 60 [--fault-every 60] [--speed 4] [--dir DIR]
Last line: one JSON object (the figures and ``ok``); the exit code is 1 when a goal fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crash_portfolio import declare_fitted_calibrator  # noqa: E402

from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET, sign  # noqa: E402
from hedge.risk.kill_switch import write_flag  # noqa: E402
from hedge.state import schemas as s  # noqa: E402
from hedge.state.fill_journal import FILLS_JOURNAL, FillRecord  # noqa: E402
from hedge.state.journal import read_journal  # noqa: E402
from hedge.state.manifest import read_surface  # noqa: E402

SYM = "BTCUSDT"
RSS_GROWTH_MAX_PCT = 5.0
# One per period, in this order; each is (name, control-API path, JSON body or None).
FAULTS: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("ws_drop", "/_hedge/actions/ws_drop", None),
    ("listen_key_expiry", "/_hedge/actions/expire_listen_key", None),
    ("order_503", "/_hedge/faults", {"order_503": {"count": 1}}),
    ("order_drop", "/_hedge/faults", {"order_drop": {"count": 1}}),
    ("rest_429", "/_hedge/faults", {"rest_429": {"count": 1}}),
    ("depth_gap", "/_hedge/faults", {"depth_gap": {"count": 1}}),
    ("ws_stall", "/_hedge/actions/ws_stall?seconds=5", None),
)

def config_files(directory: Path, exchange_port: str, metrics_port: int) -> dict[str, dict[str, Any]]:
    """The daemon's configuration files (what is not named keeps hedge's defaults):
    micro_scalper trading often with tight exits, no cool-off or expected-return gate to stop it."""
    local = "127.0.0.1:" + exchange_port
    return {
        "strategy.yaml": {
            "universe": [SYM], "per_trade_nav_pct": 0.03, "screen_min_e_pi_bps": -1e9,
            "strategies": [{"name": "micro_scalper", "enabled": True,
                            "params": {"entry_threshold": 0.15, "cooldown_s": 1.0}}],
            "signals": {"publish_every_ms": 250},
            # the SPRT would switch a losing symbol off within minutes: a soak must keep trading
            "scores": {"sprt_p0": 0.4999, "sprt_p1": 0.5001, "sprt_alpha": 0.001, "sprt_beta": 0.001},
            "exits": {"tp_pct": 1e-4, "sl_pct": 5e-5, "trail_bps": 0.5, "breakeven_after_R": 0.8, "max_R": 3.0},
        },
        "risk.yaml": {
            "pi_min_bps": -1e9, "daily_dd_limit": 0.5, "portfolio_dd_limit": 0.6,
            "cooloff": {"consecutive_losses": 10**6, "consecutive_rejects": 10**6, "seconds": 1},
            "kill_switch": {"flag_file": str(directory / "KILL")},
        },
        "runtime.yaml": {
            "venue": "binance", "log_level": "WARNING", "log_dir": str(directory / "logs"),
            "metrics": {"port": metrics_port},
            "feeds": {"backoff_initial_s": 0.05, "backoff_max_s": 1.0,
                      "rest_url_binance": "http://" + local, "ws_url_binance": "ws://" + local},
        },
    }


# ------------------------------------------------------------------------------------ HTTP


def http(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    """The JSON answer of ``url`` (POST when ``data`` is given); an HTTP error raises."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body[:1] in (b"{", b"[") else body.decode()


def signed(base: str, path: str, **params: str) -> Any:
    """A signed GET; an injected fault that hits the soak's own request (429, dropped) is tried again."""
    for attempt in range(5):
        query = "&".join([*(f"{k}={v}" for k, v in params.items()), f"timestamp={int(time.time() * 1000)}",
                          "recvWindow=10000"])
        try:
            return http(f"{base}{path}?{query}&signature={sign(DEFAULT_API_SECRET, query)}",
                        headers={"X-MBX-APIKEY": DEFAULT_API_KEY})
        except (urllib.error.HTTPError, ConnectionError) as e:
            if attempt == 4 or (isinstance(e, urllib.error.HTTPError) and e.code not in (429, 503)):
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def metrics(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for fam in text_string_to_metric_families(http(f"{url}/metrics")):
        for sample in fam.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


# ------------------------------------------------------------------------------- measures


def lag_buckets(m: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> list[tuple[float, float]]:
    """The loop-lag histogram's cumulative (upper bound, count) pairs, ascending."""
    out = [(float(dict(labels)["le"]), v) for (name, labels), v in m.items()
           if name == "hedge_event_loop_lag_seconds_bucket"]
    return sorted(out)


def quantile(first: list[tuple[float, float]], last: list[tuple[float, float]], q: float) -> float:
    """The q-quantile (s) of the observations between two scrapes of a cumulative histogram,
    interpolated linearly inside its bucket as Prometheus' ``histogram_quantile`` does."""
    before = dict(first)
    counts = [(le, n - before.get(le, 0.0)) for le, n in last]
    total = counts[-1][1] if counts else 0.0
    if total <= 0:
        return 0.0
    rank, lo, below = q * total, 0.0, 0.0
    for le, n in counts:
        if n >= rank:
            if le == float("inf"):
                return lo
            return lo + (le - lo) * ((rank - below) / (n - below) if n > below else 1.0)
        lo, below = le, n
    return lo


def proc_sample(pid: int) -> tuple[int, int]:
    """(RSS in kB, open fds) of process ``pid``."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def fd_kinds(pid: int) -> Counter[str]:
    """The open fds of process ``pid`` by kind: socket, pipe, anon_inode:[...], or a file's name."""
    kinds: Counter[str] = Counter()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(fd_dir / fd)
        except OSError:  # closed meanwhile
            continue
        kinds[target.split(":", 1)[0] if target.startswith(("socket:", "pipe:")) else
              target if target.startswith("anon_inode:") else Path(target).name] += 1
    return kinds


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def journal_fills(logs: Path) -> Counter[tuple[str, int]]:
    """How often each (symbol, trade id) is in the fill journal (fills.jsonl and its rotated backups)."""
    keys: Counter[tuple[str, int]] = Counter()
    for path in sorted(logs.glob(f"{FILLS_JOURNAL}.jsonl*")):
        for rec in read_journal(path):
            if rec.kind == "fill":
                record: FillRecord = rec.decode(FillRecord)
                keys[(record.fill.symbol, record.fill.trade_id)] += 1
    return keys


def duplicate_client_ids(order_log: list[dict[str, Any]]) -> int:
    """Client order ids the exchange accepted (an order id given) more than once."""
    ids: dict[str, set[int]] = {}
    for e in order_log:
        if e["method"] == "POST" and e["client_order_id"] and e["order_id"]:
            ids.setdefault(e["client_order_id"], set()).add(int(e["order_id"]))
    return sum(1 for orders in ids.values() if len(orders) > 1)


# ----------------------------------------------------------------------------------- run


def die_with_parent() -> None:
    """In a child before it runs: SIGTERM when the soak dies, however it dies (Linux PR_SET_PDEATHSIG)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class Rig:
    """The exchange and daemon processes of one soak, and what was collected from them."""

    def __init__(self, directory: Path, speed: float, *, tracemalloc: bool = False) -> None:
        self.dir = directory
        self.tracemalloc = tracemalloc
        self.logs = directory / "logs"
        self.exchange = subprocess.Popen(
            [sys.executable, "-m", "hedge", "exchange", "--port", "0", "--speed", str(speed)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=(directory / "exchange.log").open("wb"), text=True,
            preexec_fn=die_with_parent,
        )
        assert self.exchange.stdout is not None
        line = self.exchange.stdout.readline()  # "local exchange on http://127.0.0.1:PORT (...)"
        self.base = line.split()[3] if line.startswith("local exchange on http://") else ""
        self.metrics_url = ""
        self.daemon: subprocess.Popen[bytes] | None = None
        self.trades: set[tuple[str, int]] = set()

    def start_daemon(self) -> None:
        port, metrics_port = self.base.rsplit(":", 1)[1], free_port()
        cfg = self.dir / "config"
        cfg.mkdir(exist_ok=True)
        for name, content in config_files(self.dir, port, metrics_port).items():
            (cfg / name).write_text(yaml.safe_dump(content))
        declare_fitted_calibrator(cfg, "soak (gate off)")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGE_", "BINANCE_"))}
        env |= {"BINANCE_API_KEY": DEFAULT_API_KEY, "BINANCE_API_SECRET": DEFAULT_API_SECRET}
        if self.tracemalloc:
            env["HEDGE_FEATURE_TRACEMALLOC"] = "1"
        self.metrics_url = f"http://127.0.0.1:{metrics_port}"
        self.daemon = subprocess.Popen([sys.executable, "-m", "hedge", "run", "--config", str(cfg)], cwd=ROOT,
                                       env=env, stdout=subprocess.DEVNULL, stderr=(self.dir / "daemon.log").open("wb"),
                                       preexec_fn=die_with_parent)

    def healthy(self) -> bool:
        try:
            return bool(http(f"{self.metrics_url}/health").get("ok"))
        except (OSError, urllib.error.URLError, ValueError):  # not listening yet, or 503
            return False

    def collect_trades(self) -> None:
        """The account's newest fills at the exchange, added to those already seen (by trade id)."""
        for t in signed(self.base, "/fapi/v1/userTrades", symbol=SYM, limit="1000"):
            self.trades.add((t["symbol"], int(t["id"])))

    def exchange_position(self) -> float:
        return sum(float(p["positionAmt"]) for p in signed(self.base, "/fapi/v2/positionRisk", symbol=SYM))

    def engine_position(self) -> float | None:
        ps = read_surface(self.logs / "state", s.PositionsState)
        return None if ps is None else sum(p.qty for p in ps.positions if p.symbol == SYM)

    def memory_snapshot(self, wait_report: bool) -> None:
        """With ``--tracemalloc``: the daemon's memory probe takes a snapshot (SIGUSR2); the first is its
        baseline, a later one rewrites logs/tracemalloc.txt (waited for: comparing takes a while)."""
        if not self.tracemalloc or self.daemon is None:
            return
        report = self.logs / "tracemalloc.txt"
        before = report.stat().st_mtime_ns if report.exists() else 0
        self.daemon.send_signal(signal.SIGUSR2)
        if wait_report:
            until(lambda: report.exists() and report.stat().st_mtime_ns != before, 300)

    def open_orders(self) -> int:
        return len(signed(self.base, "/fapi/v1/openOrders", symbol=SYM))

    def inject(self, path: str, body: dict[str, Any] | None) -> None:
        http(f"{self.base}{path}", data=json.dumps(body or {}).encode(), headers={"Content-Type": "application/json"})

    def stop(self) -> None:
        for p in (self.daemon, self.exchange):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def until(cond: Callable[[], bool], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(0.2)
    return True


class Progress:
    """A progress bar on stderr when it is a terminal; elsewhere (a log, CI) one line per tenth of the run."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.tenth = -1

    def show(self, frac: float, text: str) -> None:
        bar = f"[{'#' * int(frac * 30):<30}] {frac * 100:5.1f}% {text}"
        if self.tty:
            sys.stderr.write(f"\r{bar}\x1b[K")
        elif int(frac * 10) != self.tenth:
            self.tenth = int(frac * 10)
            sys.stderr.write(bar + "\n")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


def ticks(duration_s: float, every_s: float) -> Iterator[float]:
    """Elapsed seconds at each sampling step (paced by the wall clock) until ``duration_s``."""
    t0 = time.monotonic()
    n = 0
    while True:
        elapsed = time.monotonic() - t0
        if elapsed >= duration_s:
            return
        yield elapsed
        n += 1
        time.sleep(max(0.0, t0 + n * every_s - time.monotonic()))


def soak(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    duration_s = args.minutes * 60.0
    rig = Rig(directory, args.speed, tracemalloc=args.tracemalloc)
    samples: list[tuple[float, int, int]] = []  # (elapsed s, RSS kB, fds)
    lag_at_warm: list[tuple[float, float]] | None = None
    fds_warm: Counter[str] = Counter()
    orders_seen: list[tuple[float, float]] = []  # (elapsed s, orders requested so far)
    fds_end: Counter[str] = Counter()
    fds_settled = 0
    depth_max: dict[str, float] = {}
    injected: Counter[str] = Counter()
    unhealthy_s = 0.0
    slow_scrapes = 0
    try:
        if not rig.base:
            raise RuntimeError(f"the local exchange did not start (see {directory / 'exchange.log'})")
        rig.start_daemon()
        assert rig.daemon is not None
        if not until(lambda: rig.healthy() or rig.daemon is None or rig.daemon.poll() is not None, 180) \
                or rig.daemon.poll() is not None:
            raise RuntimeError(f"the daemon never became healthy (exit code {rig.daemon.poll()}; see "
                               f"{directory / 'daemon.log'})")
        next_fault, n_fault = args.fault_every, 0
        bar = Progress()
        for elapsed in ticks(duration_s, args.sample_every):
            if rig.daemon.poll() is not None:
                raise RuntimeError(f"the daemon exited with {rig.daemon.returncode} (see {directory / 'daemon.log'})")
            rss, fds = proc_sample(rig.daemon.pid)
            samples.append((elapsed, rss, fds))
            orders_seen.append((elapsed, 0.0))
            unhealthy_s += 0.0 if rig.healthy() else args.sample_every
            scraped = True
            try:
                m = metrics(rig.metrics_url)
            except (OSError, urllib.error.URLError):
                if not args.tracemalloc:  # a traced daemon is slow to answer: that sample has no metrics
                    raise
                slow_scrapes += 1
                scraped = False
                m = {("hedge_order_requests_total", ()): orders_seen[-2][1] if len(orders_seen) > 1 else 0.0}
            orders_seen[-1] = (elapsed, m.get(("hedge_order_requests_total", ()), 0.0))
            if lag_at_warm is None and elapsed >= 0.2 * duration_s and scraped:
                lag_at_warm = lag_buckets(m)
                fds_warm = fd_kinds(rig.daemon.pid)
                rig.memory_snapshot(wait_report=False)
            for (name, labels), v in m.items():
                if name == "hedge_bus_inbox_depth":
                    inbox = dict(labels)["inbox"]
                    depth_max[inbox] = max(depth_max.get(inbox, 0.0), v)
            if elapsed >= next_fault:
                kind, path, body = FAULTS[n_fault % len(FAULTS)]
                rig.inject(path, body)
                injected[kind] += 1
                n_fault += 1
                next_fault += args.fault_every
            if len(samples) % 10 == 1:
                rig.collect_trades()
            bar.show(elapsed / duration_s, f"{elapsed:.0f}/{duration_s:.0f} s  rss {rss / 1024:.0f} MB  fds {fds}  "
                     f"lag {m.get(('hedge_event_loop_lag_last_seconds', ()), 0.0) * 1e3:.1f} ms  "
                     f"faults {n_fault}  orders {m.get(('hedge_order_requests_total', ()), 0.0):.0f}")
        bar.done()
        lag_end = lag_buckets(metrics(rig.metrics_url))
        rig.memory_snapshot(wait_report=True)
        # The end: no more faults; the daemon must have recovered from the last one (healthy again);
        # then the kill switch cancels every order, so that nothing fills once it has stopped.
        rig.inject("/_hedge/actions/reset_faults", None)
        recovered = until(rig.healthy, 60)
        # A fault's reconnects leave sockets closing for a while (aiohttp's pooled keep-alive connections
        # among them): fds are judged once that has settled — a leak never settles — within 90 s of the
        # recovery (30 s flapped on a loaded 2-core CI machine: 11 sockets still closing).
        fd_warm = mean([x[2] for x in samples if 0.2 * duration_s <= x[0] < 0.25 * duration_s] or [samples[0][2]])
        until(lambda: proc_sample(rig.daemon.pid)[1] <= fd_warm + args.max_fd_growth, 90)  # type: ignore[union-attr]
        fds_settled = proc_sample(rig.daemon.pid)[1]
        fds_end = fd_kinds(rig.daemon.pid)
        write_flag(directory / "KILL", "soak: final comparison", ts_ns=time.time_ns())
        no_orders = until(lambda: rig.open_orders() == 0, 60)
        rig.collect_trades()
        until(lambda: abs((rig.engine_position() or 0.0) - rig.exchange_position()) < 1e-9, 60)
        rig.daemon.send_signal(signal.SIGTERM)
        try:
            daemon_rc = rig.daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon_rc = -9
        rig.collect_trades()
        order_log: list[dict[str, Any]] = http(f"{rig.base}/_hedge/orders")
        fired = http(f"{rig.base}/_hedge/faults")["fired"]
        exchange_qty, engine_qty = rig.exchange_position(), rig.engine_position()
    finally:
        rig.stop()

    warm = [x for x in samples if x[0] >= 0.2 * duration_s]
    head = [x for x in warm if x[0] < 0.25 * duration_s] or warm[:1]
    tail = [x for x in samples if x[0] >= 0.95 * duration_s] or samples[-1:]
    rss0, rss1 = mean([x[1] for x in head]), mean([x[1] for x in tail])
    first = [x for x in samples if x[0] < 0.05 * duration_s] or samples[:1]
    rss_first = mean([x[1] for x in first])
    fd0 = mean([x[2] for x in head])
    journaled = journal_fills(rig.logs)
    exchange_fills = rig.trades
    missing = len(exchange_fills - set(journaled))
    extra = len(set(journaled) - exchange_fills)
    duplicated = sum(1 for n in journaled.values() if n > 1)
    log_text = (directory / "daemon.log").read_text(errors="replace")
    posts = [e for e in order_log if e["method"] == "POST"]
    result: dict[str, Any] = {
        "minutes": args.minutes,
        "speed": args.speed,
        "fault_every_s": args.fault_every,
        "faults_injected": dict(injected),
        "faults_fired_at_exchange": {k: v for k, v in fired.items() if v},
        "samples": len(samples),
        "unhealthy_s": unhealthy_s,
        "healthy_at_end": recovered,
        # RSS: the mean over the first 5% of the run (healthy, before the warm-up), over 20-25% (the
        # warm-up baseline: "start") and over the last 5% ("end"). The goal is start -> end (the
        # last 80% of the run); first -> end (the warm-up's own growth included) is for information.
        "rss_mb_first": round(rss_first / 1024, 1),
        "rss_mb_start": round(rss0 / 1024, 1),
        "rss_mb_end": round(rss1 / 1024, 1),
        "rss_growth_pct": round((rss1 - rss0) / rss0 * 100, 2) if rss0 else 0.0,
        "rss_growth_from_first_pct": round((rss1 - rss_first) / rss_first * 100, 2) if rss_first else 0.0,
        "rss_kb_per_order_after_warmup": round((rss1 - rss0) / max(1.0, orders_seen[-1][1] - next(
            (n for t, n in orders_seen if t >= 0.2 * duration_s), 0.0)), 2) if orders_seen else 0.0,
        "fds_start": round(fd0, 1),
        "fd_growth": round(fds_settled - fd0, 1),  # once the last fault's reconnects have settled
        "fds_gained_by_kind": {k: v for k, v in sorted((fds_end - fds_warm).items())},
        "loop_lag_p99_ms": round(quantile(lag_at_warm or [], lag_end, 0.99) * 1e3, 2),
        "loop_lag_p50_ms": round(quantile(lag_at_warm or [], lag_end, 0.50) * 1e3, 2),
        "queue_depth_max": max(depth_max.values(), default=0.0),
        "queue_depth_max_by_inbox": {k: v for k, v in sorted(depth_max.items()) if v},
        "orders": len(posts),
        "orders_last_20pct": round(orders_seen[-1][1] - next(n for t, n in orders_seen if t >= 0.8 * duration_s))
        if orders_seen else 0,
        "orders_accepted": sum(1 for e in posts if e["order_id"]),
        "duplicate_client_ids": duplicate_client_ids(order_log),
        "open_orders_cancelled_at_end": no_orders,
        "exchange_position": exchange_qty,
        "engine_position": engine_qty,
        "position_equals_exchange": engine_qty is not None and abs(engine_qty - exchange_qty) < 1e-9,
        "exchange_fills": len(exchange_fills),
        "journal_fills_missing": missing,
        "journal_fills_duplicated": duplicated,
        "journal_fills_extra": extra,
        "journal_fills_equal_exchange": missing == 0 and duplicated == 0 and extra == 0,
        "daemon_exit_code": daemon_rc,
        "daemon_tracebacks": log_text.count("Traceback"),
    }
    if args.tracemalloc:
        result["tracemalloc_report"] = str(rig.logs / "tracemalloc.txt")
        result["scrapes_timed_out"] = slow_scrapes
    goals = {
        "rss_growth": result["rss_growth_pct"] < RSS_GROWTH_MAX_PCT,
        "fd_growth": result["fd_growth"] <= args.max_fd_growth,
        "loop_lag_p99": result["loop_lag_p99_ms"] < args.max_loop_lag_ms,
        "orders": result["orders"] > 0,
        "trading_until_the_end": result["orders_last_20pct"] > 0,
        "recovered": recovered,
        "duplicate_client_ids": result["duplicate_client_ids"] == 0,
        "position": result["position_equals_exchange"],
        "journal_fills": result["journal_fills_equal_exchange"],
        "clean_exit": daemon_rc == 0 and result["daemon_tracebacks"] == 0,
    }
    result["failed"] = [k for k, ok in goals.items() if not ok]
    result["ok"] = not result["failed"]
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the run after the daemon is healthy")
    ap.add_argument("--fault-every", type=float, default=60.0, help="seconds between two faults (default 60)")
    ap.add_argument("--sample-every", type=float, default=1.0, help="seconds between two samples (default 1)")
    ap.add_argument("--speed", type=float, default=4.0, help="the exchange's replay speed (default 4)")
    ap.add_argument("--max-loop-lag-ms", type=float, default=50.0, help="the loop lag p99 goal (default 50)")
    ap.add_argument("--max-fd-growth", type=float, default=10.0, help="open fds the daemon may gain (default 10)")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="diagnosis: the daemon traces allocations; what grew from the warm-up to the end, by "
                         "traceback, goes to logs/tracemalloc.txt (its RSS figures then include tracemalloc's own)")
    ap.add_argument("--dir", type=Path, default=None, help="the run's directory (default: a temporary one)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still stop the children
    try:
        if args.dir is not None:
            args.dir.mkdir(parents=True, exist_ok=True)
            result = soak(args, args.dir.resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
                result = soak(args, Path(tmp))
    except RuntimeError as e:  # the rig failed (a process did not start, or died): still one JSON line
        result = {"minutes": args.minutes, "ok": False, "failed": ["run"], "error": str(e)}
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
