"""Crash safety of the daemon: kill -9 ``python -m hedge run`` at random points while orders are working.

The local exchange runs in its own process (``python -m hedge exchange``, the bundled real BTCUSDT
recording at 4x). The real daemon (``python -m hedge run``) is pointed at it the way a user points it
at any Binance-compatible URL: ``--venue binance`` with ``runtime.feeds.rest_url_binance`` /
``ws_url_binance`` set to the exchange and ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET`` set to the
exchange's test keys. Its configuration directory (written under the run's directory) makes the
default strategy trade often (micro_scalper with no entry threshold, no expected-return floor) with
tight exits (0.2-0.3 bp), so that entries and exits are working most of the time; its journals are
written through (``journal.buffer_bytes: 1``) so a kill loses no record of ``events.jsonl`` either
(``drive(..., write_through=False)``: hedge's default buffering, as ``scripts/kill_trials.py`` runs it).

The driver kills it with SIGKILL at random points — 20% during start-up and the first
reconciliation, 40% just after one of its orders reached the exchange (acks and fills in flight),
40% at a random moment — restarts it on the same log directory, and at the end starts it once more
and stops it gracefully (kill switch first, so no order is left working, then SIGTERM). It reads
the daemon's own ``events.jsonl`` (``Reconciled``) and the exchange's order log (``GET /_hedge/orders``,
kept as ``exchange_orders.json`` in the run's directory, with every exchange fill of the account as
``exchange_trades.json``), and checks:

- duplicates: no client order id accepted twice by the exchange;
- no order before reconciliation: no new order reached the exchange between a daemon's start and
  that process's first ``Reconciled`` (the cancels of the router's recovery of its pending orders,
  which precede it by design, are counted apart);
- the ledger equals the exchange's positions after the final graceful run;
- drift: how many restarts' first reconciliation found a difference the exchange's fills did not explain.

Usage: .venv/bin/python scripts/crash_portfolio.py [--points 100] [--seed 1]   (last line: JSON)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SYM = "BTCUSDT"

STRATEGY_YAML = """\
universe: [BTCUSDT]
per_trade_nav_pct: 0.03
screen_min_e_pi_bps: -1000000000.0
strategies:
  - name: micro_scalper
    enabled: true
    params: {entry_threshold: 0.0, cooldown_s: 1.0}
signals: {publish_every_ms: 200}
exits: {profile: classic, tp_pct: 0.00003, sl_pct: 0.00002, trail_bps: 0.2, breakeven_after_R: 0.8, max_R: 3.0}
"""
RISK_YAML = """\
pi_min_bps: -1000000000.0
cooloff: {consecutive_losses: 1000, consecutive_rejects: 1000, seconds: 1}
kill_switch: {flag_file: "@DIR@/KILL"}
"""
RUNTIME_YAML = """\
venue: binance
log_level: WARNING
log_dir: "@DIR@"
metrics: {port: @METRICS@}
@JOURNAL@feeds:
  snapshot_min_interval_s: 0.0
  backoff_initial_s: 0.05
  backoff_max_s: 0.2
  rest_url_binance: http://127.0.0.1:@PORT@
  ws_url_binance: ws://127.0.0.1:@PORT@
router: {maker_timeout_s: 0.5, unknown_resolve_s: 5.0}
portfolio: {reconcile_confirm_s: 0.3, reconcile_interval_s: 5.0, exit_retry_s: 2.0, persist_interval_s: 0.05}
"""


def write_config(directory: Path, port: int, *, write_through: bool = True, metrics_port: int = 0) -> Path:
    """The daemon's configuration directory (files not written keep hedge's defaults)."""
    cfg = directory / "config"
    cfg.mkdir(parents=True, exist_ok=True)
    subst = {"@DIR@": str(directory), "@PORT@": str(port), "@METRICS@": str(metrics_port),
             "@JOURNAL@": "journal: {buffer_bytes: 1}\n" if write_through else ""}
    for name, text in (("strategy.yaml", STRATEGY_YAML), ("risk.yaml", RISK_YAML), ("runtime.yaml", RUNTIME_YAML)):
        for k, v in subst.items():
            text = text.replace(k, v)
        (cfg / name).write_text(text)
    declare_fitted_calibrator(cfg, "crash harness (gate off)")
    return cfg


def declare_fitted_calibrator(cfg: Path, note: str) -> None:
    """A real venue refuses an unfitted calibrator; a harness that turns the gate off (pi_min_bps)
    declares one "fitted" for its own geometry that never goes stale."""
    from hedge.config import load_config
    from hedge.config.geometry import signature

    geometry = signature(load_config(cfg, env={}).strategy.exits)
    (cfg / "calibrator.yaml").write_text(
        f"samples: 1\nfitted_on: {note}\ndata_to: '2024-01-01T00:00:00+00:00'\n"
        f"max_age_days: 0\ngeometry: '{geometry}'\n"
    )


def spawn_daemon(config: Path, directory: Path, n: int) -> subprocess.Popen[bytes]:
    from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGE_", "BINANCE_"))}
    env |= {"BINANCE_API_KEY": DEFAULT_API_KEY, "BINANCE_API_SECRET": DEFAULT_API_SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "hedge", "run", "--config", str(config)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(directory / f"daemon-{n}.log", "wb"),
    )


def _reconciliations(directory: Path) -> list[tuple[int, int]]:
    """``(ts_ms, drifts)`` of every ``Reconciled`` in the daemon's events journal (torn lines skipped)."""
    out = []
    try:
        lines = (directory / "events.jsonl").read_bytes().splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("kind") == "Reconciled":
            out.append((rec["ts_ns"] // 1_000_000, int(rec["data"]["drifts"])))
    return out


def _first_reconciled(directory: Path, since_ms: int) -> tuple[int, int]:
    """The first ``Reconciled`` at or after ``since_ms`` (``(0, 0)``: none yet)."""
    return next(((ts, d) for ts, d in _reconciliations(directory) if ts >= since_ms), (0, 0))


def _order_count(port: int) -> int:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_hedge/orders", timeout=5) as r:
        return len(json.loads(r.read()))


def _wait_ready(directory: Path, since_ms: int, within_s: float) -> bool:
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        if _first_reconciled(directory, since_ms)[0]:
            return True
        time.sleep(0.05)
    return False


async def _exchange_view(port: int) -> tuple[list[dict[str, Any]], list[list[Any]], float]:
    import aiohttp

    from hedge.config import HttpConfig
    from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
    from hedge.venue.binance import BinanceVenue

    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as s, s.get(f"{base}/_hedge/orders") as r:
        log = await r.json()
    venue = BinanceVenue(base, HttpConfig(), api_key=DEFAULT_API_KEY, api_secret=DEFAULT_API_SECRET, name="local")
    try:
        (pos,) = await venue.positions([SYM])
        trades = [[f.symbol, f.trade_id] for f in await venue.recent_fills(SYM, 0)]
    finally:
        await venue.close()
    return list(log), trades, pos.qty


async def _open_orders(port: int) -> int:
    from hedge.config import HttpConfig
    from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
    from hedge.venue.binance import BinanceVenue

    venue = BinanceVenue(f"http://127.0.0.1:{port}", HttpConfig(), api_key=DEFAULT_API_KEY,
                         api_secret=DEFAULT_API_SECRET, name="local")
    try:
        return len(await venue.open_orders(SYM))
    finally:
        await venue.close()


def _wait_no_open_orders(port: int, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while asyncio.run(_open_orders(port)) and time.monotonic() < end:
        time.sleep(0.1)


def start_exchange() -> tuple[subprocess.Popen[str], int]:
    """The local exchange in its own process (the bundled recording at 4x, no rate limits) and its port."""
    ex = subprocess.Popen(
        [sys.executable, "-m", "hedge", "exchange", "--port", "0", "--limits", "off", "--speed", "4"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert ex.stdout is not None
    line = ex.stdout.readline()
    return ex, int(line.split("http://127.0.0.1:")[1].split()[0])


def drive(points: int, seed: int, directory: Path, *, write_through: bool = True) -> dict[str, Any]:
    from hedge.portfolio.store import LEDGER_FILE, LedgerStore

    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still clean up the children
    proc: subprocess.Popen[bytes] | None = None
    ex, port = start_exchange()
    try:
        config = write_config(directory, port, write_through=write_through)
        windows: list[tuple[int, int]] = []  # per process: (spawned_ms, ended_ms)
        early = unready = in_flight = 0
        t0 = time.monotonic()
        for n in range(points + 1):
            spawned_ms = int(time.time() * 1000)
            proc = spawn_daemon(config, directory, n)
            final = n == points
            roll = rng.random()
            if final or roll >= 0.2:
                if not _wait_ready(directory, spawned_ms, 30.0):
                    unready += 1
                if final:
                    time.sleep(1.0)
                    # Halt through the kill switch (CancelAll) first: with no order left working,
                    # nothing can fill after the daemon stops, so its ledger and the exchange compare.
                    (directory / "KILL").write_text('{"reason": "crash proof: final comparison"}')
                    _wait_no_open_orders(port, 10.0)
                    time.sleep(0.5)  # the last user-stream updates reach the ledger
                    proc.send_signal(signal.SIGTERM)
                elif roll < 0.6:  # just after an order reached the exchange: orders in flight, acks pending
                    seen = _order_count(port)
                    end = time.monotonic() + 6.0
                    while _order_count(port) == seen and time.monotonic() < end:
                        time.sleep(0.02)
                    in_flight += 1
                    time.sleep(rng.uniform(0.0, 0.6))
                    proc.kill()
                else:
                    time.sleep(rng.uniform(0.3, 4.0))
                    proc.kill()
            else:  # during start-up or the first reconciliation
                early += 1
                time.sleep(rng.uniform(0.3, 2.0))
                proc.kill()
            proc.wait(timeout=30)
            windows.append((spawned_ms, int(time.time() * 1000)))
        elapsed = time.monotonic() - t0
        log, trades, exchange_qty = asyncio.run(_exchange_view(port))
        (directory / "exchange_orders.json").write_text(json.dumps(log))  # the evidence, next to the journals
        (directory / "exchange_trades.json").write_text(json.dumps(trades))
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        ex.send_signal(signal.SIGTERM)
        ex.wait(timeout=10)
    recs = _reconciliations(directory)
    firsts = [next(((ts, d) for ts, d in recs if start <= ts < end), (0, 0)) for start, end in windows]
    accepted: dict[str, int] = {}
    before_ready = {"POST": 0, "DELETE": 0}  # new orders; cancels (the router's recovery of pending orders)
    for o in log:
        if not o["client_order_id"] or o["method"] not in before_ready:
            continue
        if o["method"] == "POST" and o["http_status"] == 200:
            accepted[o["client_order_id"]] = accepted.get(o["client_order_id"], 0) + 1
        for (start, end), (ready, _d) in zip(windows, firsts, strict=True):
            if start <= o["time_ms"] < end and (not ready or o["time_ms"] < ready):
                before_ready[o["method"]] += 1
    ledger = LedgerStore.load(directory / "state" / LEDGER_FILE)
    entry = ledger.entries.get(SYM)
    ledger_qty = entry.qty if entry is not None else 0.0
    return {
        "kill_points": points,
        "killed_during_startup": early,
        "killed_just_after_an_order": in_flight,
        "orders_accepted": sum(accepted.values()),
        "duplicate_client_order_ids": sum(1 for c in accepted.values() if c > 1),
        "orders_before_reconciled": before_ready["POST"],
        "recovery_cancels_before_reconciled": before_ready["DELETE"],
        "ledger_qty": ledger_qty,
        "exchange_qty": exchange_qty,
        "ledger_equals_exchange": abs(ledger_qty - exchange_qty) < 1e-9,
        "restarts_with_drift": sum(1 for _ts, d in firsts if d),
        "drifts": sum(d for _ts, d in firsts),
        "never_ready": unready,
        "elapsed_s": round(elapsed, 1),
    }


def cli(doc: str | None, count: str, default: int, run: Callable[[int, int, Path], dict[str, Any]]) -> None:
    """The command line of a kill -9 driver: ``--<count> N --seed S [--dir DIR]``; prints run's JSON last."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else "")
    ap.add_argument(f"--{count}", dest="n", type=int, default=default)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", dest="out", type=Path, default=None, help="log directory (default: a temporary one)")
    args = ap.parse_args()
    if args.out is not None:
        result = run(args.n, args.seed, args.out)
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            result = run(args.n, args.seed, Path(tmp))
    print(json.dumps(result))


def main() -> None:
    cli(__doc__, "points", 100, drive)


if __name__ == "__main__":
    main()
