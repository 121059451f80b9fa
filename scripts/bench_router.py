"""Benchmark the router: approved intent -> order request sent, in process.

Each iteration publishes one approved RiskDecision on the bus and measures
- ``decide``: publish -> OrderRequest published by the router (synchronous part: sizing, filters,
  client order id, lifecycle, orders_sent journal line, pending-record write);
- ``sent``: publish -> the venue's ``place()`` entered (adds the task hand-off to the I/O side).
The venue is an in-process recorder that acknowledges at once (no network). Real journals and
the real pending-orders file are written under a temporary directory; the clock is manual so no
timer fires. Last line: one JSON object.

Usage: .venv/bin/python scripts/bench_router.py [N]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import msgspec

from hedge.app import run_async
from hedge.bus import Bus
from hedge.config import default_config
from hedge.events import BookUpdate, OrderIntent, OrderRequest, OrderStatus, OrderUpdate, RiskDecision, Side
from hedge.router.clock import ManualClock
from hedge.router.filters import SymbolFilters
from hedge.router.health import percentile
from hedge.router.pending import PendingOrders
from hedge.router.router import Router
from hedge.state.journal import Journals
from hedge.venue.base import OrderAck

FILTERS = SymbolFilters(
    symbol="BTCUSDT", tick_size=Decimal("0.1"), step_size=Decimal("0.001"), min_qty=Decimal("0.001"),
    max_qty=Decimal("1000"), min_notional=Decimal("100"), percent_up=Decimal("1.05"), percent_down=Decimal("0.95"),
)


class RecordingVenue:
    """Records when ``place`` is entered and acknowledges NEW at once."""

    name = "recording"

    def __init__(self) -> None:
        self.sent_ns: dict[str, int] = {}

    async def place(self, req: OrderRequest) -> OrderAck:
        self.sent_ns[req.intent_id] = time.perf_counter_ns()
        return OrderAck(client_order_id=req.client_order_id, symbol=req.symbol, status=OrderStatus.NEW)

    async def cancel(self, symbol: str, client_order_id: str) -> OrderUpdate:
        raise NotImplementedError

    async def query(self, symbol: str, client_order_id: str) -> OrderUpdate | None:
        return None

    async def cancel_all(self, symbol: str) -> int:
        return 0

    async def open_orders(self, symbol: str | None = None) -> list[OrderUpdate]:
        return []

    async def load_filters(self) -> dict[str, SymbolFilters]:
        return {"BTCUSDT": FILTERS}

    async def countdown_cancel_all(self, symbol: str, countdown_ms: int) -> None:
        return None


async def bench(n: int, tmp: Path) -> dict[str, float]:
    cfg = default_config()
    cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(cfg.runtime, log_dir=str(tmp)))
    bus = Bus()
    journals = Journals(tmp)
    venue = RecordingVenue()
    router = Router(bus, venue, journals, cfg, clock=ManualClock(),
                    pending=PendingOrders(tmp / "state" / "pending_orders.jsonl"))
    await router.start()
    decided_ns: dict[str, int] = {}
    bus.subscribe(OrderRequest, lambda r: decided_ns.__setitem__(r.intent_id, time.perf_counter_ns()))
    bus.publish(BookUpdate(symbol="BTCUSDT", update_id=1, valid=True, bid_px=67000.0, bid_qty=5.0, ask_px=67000.1,
                           ask_qty=5.0, mid=67000.05, micro=67000.05, imbalance=0.0, spread_bps=0.015))
    decisions = [
        RiskDecision(intent=OrderIntent(intent_id=f"b{i}", symbol="BTCUSDT", side=Side.BUY if i % 2 else Side.SELL,
                                        notional=1000.0, strategy="bench", reason="bench"), allow=True, max_qty=1.0)
        for i in range(n)
    ]
    start_ns: dict[str, int] = {}
    t_all = time.perf_counter()
    for d in decisions:
        start_ns[d.intent.intent_id] = time.perf_counter_ns()
        bus.publish(d)
        await router.idle()
    elapsed = time.perf_counter() - t_all
    journals.close()
    decide_us = [(decided_ns[k] - t0) / 1e3 for k, t0 in start_ns.items()]
    sent_us = [(venue.sent_ns[k] - t0) / 1e3 for k, t0 in start_ns.items()]
    assert len(sent_us) == n and router.task_errors == 0
    return {
        "n": n,
        "decide_p50_us": round(percentile(decide_us, 0.5), 2),
        "decide_p99_us": round(percentile(decide_us, 0.99), 2),
        "sent_p50_us": round(percentile(sent_us, 0.5), 2),
        "sent_p99_us": round(percentile(sent_us, 0.99), 2),
        "intents_per_s": round(n / elapsed),
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as d:
        res = run_async(bench(n, Path(d)))
    print(f"intent -> OrderRequest published: p50 {res['decide_p50_us']} us, p99 {res['decide_p99_us']} us")
    print(f"intent -> venue.place() entered:  p50 {res['sent_p50_us']} us, p99 {res['sent_p99_us']} us")
    print(f"{res['intents_per_s']} intents/s (one at a time, each awaited to the venue)")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
