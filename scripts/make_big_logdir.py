"""Write a daemon-like log dir whose journals hold N lines (default 1 million), for the dashboard's bench.

The journals are written by the engine's own ``JournalWriter`` (same line format, same 50 MB
rotation with backups), over ``--days`` of time ending now, in a daemon's mix: events.jsonl
(Nav, Position, OrderUpdate, Fill, Alert, ...), orders_sent, order_updates, fills, risk_vetoes,
orders_success/failed, orders_executed. The state files are written through their schemas with
the current time, plus daemon.json, so the dashboard reads the dir as a running daemon's.

    python scripts/make_big_logdir.py /tmp/big --lines 1000000
Last line: one JSON object (lines per journal, bytes, seconds).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import msgspec

from hedge.state import schemas as s
from hedge.state.atomic import atomic_write
from hedge.state.journal import JournalWriter
from hedge.state.manifest import build_manifest, state_dir

# journal -> share of the lines
MIX = {"events": 0.51, "order_updates": 0.14, "orders_sent": 0.08, "fills": 0.04, "risk_vetoes": 0.14,
       "orders_success": 0.03, "orders_failed": 0.01, "orders_executed": 0.05}
EVENT_KINDS = [("Nav", 0.40), ("Position", 0.40), ("OrderUpdate", 0.15), ("Fill", 0.045), ("Alert", 0.005)]
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SUSHIUSDT"]


def payload(journal: str, kind: str, i: int, nav: float, rnd: random.Random) -> dict[str, object]:
    sym = SYMBOLS[i % 3]
    cid = f"h{i:012x}-0-{i % 4}"
    if kind == "Nav":
        return {"ts_ms": 0, "nav": nav, "wallet_balance": nav - 1.5, "unrealized_pnl": 1.5, "source": "account_update"}
    if kind == "Position":
        return {"ts_ms": 0, "symbol": sym, "qty": 0.01, "entry_price": 64000.0, "unrealized_pnl": 1.5,
                "mark_price": 64150.0}
    if kind == "Alert":
        return {"ts_ms": 0, "severity": "warning", "title": f"alert {i}", "text": "generated"}
    if journal == "orders_sent":
        return {"ts_ms": 0, "client_order_id": cid, "intent_id": f"micro_scalper-{sym}-{i}", "symbol": sym,
                "side": "BUY", "type": "LIMIT", "qty": 0.002, "price": 64000.0 + rnd.random(), "tif": "GTX",
                "reduce_only": False}
    if kind in ("update", "OrderUpdate"):
        return {"ts_ms": 0, "client_order_id": cid, "symbol": sym, "status": rnd.choice(["NEW", "CANCELED", "FILLED"]),
                "side": "BUY", "type": "LIMIT", "qty": 0.002, "price": 64000.0, "filled_qty": 0.0, "avg_price": 0.0}
    if kind in ("fill", "Fill"):
        fill = {"ts_ms": 0, "client_order_id": cid, "symbol": sym, "side": "SELL", "qty": 0.002, "price": 64000.0,
                "fee": 0.05, "maker": rnd.random() < 0.3, "realized_pnl": rnd.gauss(0.0, 1.0), "trade_id": i}
        return {"source": "user_stream", "fill": fill} if journal == "fills" else fill
    if journal == "risk_vetoes":
        return {"intent": {"intent_id": f"x-{i}", "symbol": sym, "side": "BUY", "notional": 120.0,
                           "strategy": "micro_scalper", "reason": "micro_scalper score=+0.5"},
                "allow": False, "max_qty": 0.0,
                "reasons": ["min_notional"], "observed": {"min_notional": 63.9}, "limits": {"min_notional": 100.0},
                "state": "ACTIVE", "price": 64000.0}
    return {"intent_id": f"x-{i}", "symbol": sym, "side": "BUY", "outcome": "filled", "qty": 0.002, "filled_qty": 0.002,
            "avg_price": 64000.0, "arrival_mid": 63999.5, "slippage_bps": rnd.gauss(0.5, 1.0), "maker_qty": 0.0,
            "fell_back": rnd.random() < 0.5}


def kind_of(journal: str, rnd: random.Random) -> str:
    if journal == "events":
        x = rnd.random()
        for kind, share in EVENT_KINDS:
            x -= share
            if x <= 0:
                return kind
        return "Nav"
    return {"orders_sent": "request", "order_updates": "update", "fills": "fill", "risk_vetoes": "veto"}.get(
        journal, "execution")


def write_state(log_dir: Path, now_ns: int, nav: float) -> None:
    d = state_dir(log_dir)
    d.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, msgspec.Struct]] = [
        ("nav_state.json", s.NavState(updated_ns=now_ns, nav=nav, wallet_balance=nav, peak_nav=nav * 1.01,
                                      nav_ns=now_ns, source="account_update")),
        ("kpis.json", s.KpisState(updated_ns=now_ns, fills=40_000, fees=2_000.0, total_pnl=nav - 10_000.0)),
        ("risk_snapshot.json", s.RiskSnapshotState(updated_ns=now_ns, nav=nav, peak_nav=nav * 1.01, drawdown=0.01)),
        ("positions_state.json", s.PositionsState(updated_ns=now_ns, positions=[
            s.PositionRow(symbol=x, qty=0.01, entry_price=64000.0, mark_price=64150.0, notional=641.5)
            for x in SYMBOLS])),
        ("positions_ledger.json", s.PositionsLedger(updated_ns=now_ns, positions=[
            s.LedgerRow(symbol=x, qty=0.01, entry_price=64000.0, tp_price=64320.0, sl_price=63840.0)
            for x in SYMBOLS])),
        ("router_health.json", s.RouterHealthState(updated_ns=now_ns, requests_sent=80_000)),
        ("symbol_scores.json", s.SymbolScores(updated_ns=now_ns)),
        ("hybrid_scores.json", s.HybridScores(updated_ns=now_ns)),
        ("diagnostics.json", s.Diagnostics(updated_ns=now_ns, healthy=True, vetoes={"min_notional": 140_000})),
    ]
    for name, obj in files:
        atomic_write(d / name, msgspec.json.encode(obj))
    atomic_write(d / "manifest.json", msgspec.json.encode(build_manifest(1.0, now_ns)))
    atomic_write(log_dir / "daemon.json", json.dumps({"pid": 0, "venue": "local", "started_ns": now_ns}).encode())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rnd = random.Random(args.seed)
    now_ns = time.time_ns()
    start_ns = now_ns - int(args.days * 86400e9)
    counts: dict[str, int] = {}
    nav = 10_000.0
    for journal, share in MIX.items():
        n = int(args.lines * share)
        counts[journal] = n
        w = JournalWriter(args.out / f"{journal}.jsonl")
        step = (now_ns - start_ns) // max(1, n)
        for i in range(n):
            kind = kind_of(journal, rnd)
            if kind == "Nav":
                nav *= 1.0 + rnd.gauss(0.00001, 0.0005)
            w.write(kind, payload(journal, kind, i, nav, rnd), ts_ns=start_ns + i * step)
        w.close()
    write_state(args.out, time.time_ns(), nav)
    size = sum(p.stat().st_size for p in args.out.glob("*.jsonl*"))
    print(json.dumps({"lines": sum(counts.values()), "by_journal": counts, "bytes": size,
                      "seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
