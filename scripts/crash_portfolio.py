"""Crash safety of the portfolio and the router: kill -9 a trading process at random points, restart.

The local exchange runs in its own process (``python -m hedge exchange``, the bundled real BTCUSDT
recording). A trading process (``daemon`` mode of this script) wires what ``hedge run`` wires for
an exchange venue — the ccxt venue, the user-data stream, hedge's market feed, the risk stage, the
router and the portfolio — plus a trivial trader that opens a small position whenever it is flat,
with tight exits (0.2-0.3 bp; the recording plays at 4x), so that entries and exits are working
most of the time. The driver kills it with SIGKILL at random points — 20% during start-up and
the first reconciliation, 40% just after one of its orders reached the exchange (acks and fills
in flight), 40% at a random moment — restarts it on the same log directory, and at the end starts
it once more and stops it gracefully. It checks:

- duplicates: no client order id accepted twice by the exchange (``GET /_hedge/orders``);
- no order before reconciliation: no order reached the exchange between a process's start and
  its first ``Reconciled``;
- the ledger equals the exchange's positions after the final reconciliation;
- drift: how many restarts found a difference the exchange's fills did not explain.

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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SYM = "BTCUSDT"


# ============================================================================ the trading process


async def daemon(port: int, directory: Path, incarnation: int) -> None:
    import msgspec

    from hedge.bus import Bus
    from hedge.config import ExitParams, FeedsConfig, HttpConfig, PortfolioConfig, default_config
    from hedge.events import BookUpdate, Nav, OrderIntent, Reconciled, RiskDecision, Side
    from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
    from hedge.feeds.connection import endpoints
    from hedge.feeds.market import MarketFeed
    from hedge.portfolio.stage import PortfolioStage
    from hedge.risk.stage import RiskStage
    from hedge.router.pending import PendingOrders
    from hedge.router.router import Router
    from hedge.state.atomic import atomic_write
    from hedge.state.journal import Journals
    from hedge.venue.binance import BinanceVenue
    from hedge.venue.user_stream import UserStream

    cfg = default_config()
    rt = msgspec.structs.replace(
        cfg.runtime, log_dir=str(directory),
        router=msgspec.structs.replace(cfg.runtime.router, maker_timeout_s=0.5, unknown_resolve_s=5.0),
        portfolio=PortfolioConfig(reconcile_confirm_s=0.3, reconcile_interval_s=5.0, exit_retry_s=2.0,
                                  persist_interval_s=0.05),
    )
    exits = ExitParams(tp_pct=0.00003, sl_pct=0.00002, trail_bps=0.2, breakeven_after_R=0.8, max_R=3.0)
    cfg = msgspec.structs.replace(cfg, runtime=rt, strategy=msgspec.structs.replace(cfg.strategy, exits=exits))
    bus = Bus()
    journals = Journals(directory)
    base = f"http://127.0.0.1:{port}"
    venue = BinanceVenue(base, HttpConfig(), api_key=DEFAULT_API_KEY, api_secret=DEFAULT_API_SECRET, name="local",
                         publish=bus.publish)
    await venue.start()
    risk = RiskStage(bus, cfg)
    risk.attach()
    router = Router(bus, venue, journals, cfg, pending=PendingOrders(directory / "state" / "pending_orders.jsonl"))
    portfolio = PortfolioStage(bus, venue, cfg)
    portfolio.attach()
    status = directory / f"incarnation-{incarnation}.json"
    info: dict[str, Any] = {"pid": os.getpid(), "start_ms": int(time.time() * 1000), "ready_ms": 0, "drifts": 0}
    atomic_write(status, json.dumps(info).encode())

    def on_reconciled(ev: Reconciled) -> None:
        if not info["ready_ms"]:
            info["ready_ms"], info["drifts"] = ev.ts_ms, ev.drifts
            atomic_write(status, json.dumps(info).encode())

    last_entry = [0.0]

    def trade(u: BookUpdate) -> None:  # open a small position whenever flat (one entry per 1.5 s at most)
        now = time.monotonic()
        if not portfolio.ready or not u.valid or SYM in portfolio.ledger.entries or now - last_entry[0] < 1.5:
            return
        last_entry[0] = now
        side = Side.BUY if u.update_id % 2 else Side.SELL
        bus.publish(OrderIntent(intent_id=f"crash-{SYM}-{time.time_ns()}", symbol=SYM, side=side, notional=300.0,
                                strategy="crash", reason="crash test entry", e_pi_bps=5.0, recv_ns=time.time_ns()))

    vetoes: dict[str, int] = {}

    def on_decision(d: RiskDecision) -> None:  # counted into the status file: why no order went out
        if not d.allow:
            for r in d.reasons:
                vetoes[r] = vetoes.get(r, 0) + 1
            info["vetoes"] = vetoes
            atomic_write(status, json.dumps(info).encode())

    bus.subscribe(Reconciled, on_reconciled)
    bus.subscribe(RiskDecision, on_decision)
    bus.subscribe(BookUpdate, trade, symbol=SYM)
    bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="reconcile"))
    feeds = FeedsConfig(snapshot_min_interval_s=0.0, backoff_initial_s=0.05, backoff_max_s=0.2)
    services = [
        UserStream(venue, f"ws://127.0.0.1:{port}", bus.publish),
        MarketFeed(feeds, [SYM], bus, endpoints("local", feeds, local_port=port)),
        portfolio,
    ]
    await router.start()
    bus.start()
    tasks = [asyncio.create_task(s.run()) for s in services]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await router.idle()
    journals.close()
    await venue.close()


# ============================================================================ the driver


def _spawn(port: int, directory: Path, n: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "daemon", "--port", str(port), "--dir", str(directory),
         "--incarnation", str(n)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(directory / f"incarnation-{n}.log", "wb"),
    )


def _status(directory: Path, n: int) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((directory / f"incarnation-{n}.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data


def _order_count(port: int) -> int:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_hedge/orders", timeout=5) as r:
        return len(json.loads(r.read()))


def _wait_ready(directory: Path, n: int, within_s: float) -> bool:
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        if _status(directory, n).get("ready_ms"):
            return True
        time.sleep(0.02)
    return False


async def _exchange_view(port: int) -> tuple[list[dict[str, Any]], float]:
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
    finally:
        await venue.close()
    return list(log), pos.qty


def drive(points: int, seed: int, directory: Path) -> dict[str, Any]:
    from hedge.portfolio.store import LEDGER_FILE, LedgerStore

    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still clean up the children
    proc: subprocess.Popen[bytes] | None = None
    ex = subprocess.Popen(
        [sys.executable, "-m", "hedge", "exchange", "--port", "0", "--limits", "off", "--speed", "4"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert ex.stdout is not None
        line = ex.stdout.readline()
        port = int(line.split("http://127.0.0.1:")[1].split()[0])
        windows: list[tuple[int, int, int]] = []  # per process: (spawned_ms, ready_ms or 0, ended_ms)
        early = unready = in_flight = 0
        t0 = time.monotonic()
        for n in range(points + 1):
            spawned_ms = int(time.time() * 1000)
            proc = _spawn(port, directory, n)
            final = n == points
            roll = rng.random()
            if final or roll >= 0.2:
                if not _wait_ready(directory, n, 30.0):
                    unready += 1
                if final:
                    time.sleep(1.0)
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
            st = _status(directory, n)
            windows.append((spawned_ms, st.get("ready_ms", 0), int(time.time() * 1000)))
        elapsed = time.monotonic() - t0
        log, exchange_qty = asyncio.run(_exchange_view(port))
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        ex.send_signal(signal.SIGTERM)
        ex.wait(timeout=10)
    accepted: dict[str, int] = {}
    before_ready = 0
    for o in log:
        if o["method"] != "POST" or o["http_status"] != 200:
            continue
        accepted[o["client_order_id"]] = accepted.get(o["client_order_id"], 0) + 1
        for start, ready, end in windows:
            if start <= o["time_ms"] < end and (not ready or o["time_ms"] < ready):
                before_ready += 1
    ledger = LedgerStore.load(directory / "state" / LEDGER_FILE)
    entry = ledger.entries.get(SYM)
    ledger_qty = entry.qty if entry is not None else 0.0
    drifts = sum(_status(directory, n).get("drifts", 0) for n in range(points + 1))
    return {
        "kill_points": points,
        "killed_during_startup": early,
        "killed_just_after_an_order": in_flight,
        "orders_accepted": sum(accepted.values()),
        "duplicate_client_order_ids": sum(1 for c in accepted.values() if c > 1),
        "orders_before_reconciled": before_ready,
        "ledger_qty": ledger_qty,
        "exchange_qty": exchange_qty,
        "ledger_equals_exchange": abs(ledger_qty - exchange_qty) < 1e-9,
        "restarts_with_drift": sum(1 for n in range(points + 1) if _status(directory, n).get("drifts")),
        "drifts": drifts,
        "never_ready": unready,
        "elapsed_s": round(elapsed, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    sub = ap.add_subparsers(dest="mode")
    d = sub.add_parser("daemon")
    d.add_argument("--port", type=int, required=True)
    d.add_argument("--dir", type=Path, required=True)
    d.add_argument("--incarnation", type=int, required=True)
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", dest="out", type=Path, default=None, help="log directory (default: a temporary one)")
    args = ap.parse_args()
    if args.mode == "daemon":
        import logging

        from hedge.app import run_async

        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

        run_async(daemon(args.port, args.dir, args.incarnation))
        return
    if args.out is not None:
        result = drive(args.points, args.seed, args.out)
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            result = drive(args.points, args.seed, Path(tmp))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
