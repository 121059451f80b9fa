"""Benchmark the exit scanner's per-tick cost (the ``BookUpdate`` handler of the portfolio).

Cases, each over N book updates built in advance (the book's own cost is not measured):
- ``flat``: a tick of a symbol without a position (one dict lookup);
- ``holding``: a tick of a symbol with an open position that neither moves a level nor triggers;
- ``trailing``: every tick a new best price, so the trailing stop ratchets (a ``LedgerPosition``
  is built and published on a Bus with one subscriber, and the store is marked dirty).
Per-call times with perf_counter_ns; p50 and p99 in microseconds.

Usage: .venv/bin/python scripts/bench_portfolio.py   (last line: one JSON object)
"""

from __future__ import annotations

import gc
import json
import tempfile
import time
from pathlib import Path

from hedge.bus import Bus
from hedge.config import exit_profile
from hedge.events import BookUpdate, Fill, LedgerPosition, Side
from hedge.model.clock import LiveClock
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.scanner import ExitScanner
from hedge.portfolio.store import LedgerStore

N = 50_000


def book(symbol: str, px: float, i: int) -> BookUpdate:
    return BookUpdate(symbol=symbol, update_id=i, valid=True, bid_px=px, bid_qty=1.0, ask_px=px + 0.1,
                      ask_qty=1.0, mid=px + 0.05, micro=px, imbalance=0.0, spread_bps=0.03)


def measure(handler: object, events: list[BookUpdate]) -> tuple[float, float]:
    fn = handler  # type: ignore[assignment]
    times = []
    pc = time.perf_counter_ns
    gc.disable()
    try:
        for ev in events:
            t0 = pc()
            fn(ev)  # type: ignore[operator]
            times.append(pc() - t0)
    finally:
        gc.enable()
    times.sort()
    return times[len(times) // 2] / 1e3, times[int(len(times) * 0.99)] / 1e3


def main() -> None:
    p = exit_profile("classic")
    with tempfile.TemporaryDirectory() as d:
        bus = Bus()
        lines: list[LedgerPosition] = []
        bus.subscribe(LedgerPosition, lines.append)
        ledger = Ledger(p)
        clock = LiveClock()
        store = LedgerStore(Path(d) / "l.json", ledger.state, clock=clock)
        scanner = ExitScanner(ledger, p, trailing=True, retry_s=10.0, publish=bus.publish,
                              write_ahead=store.save_now, changed=store.mark_dirty, clock=clock)
        scanner.ready = True
        ledger.apply_fill(Fill(client_order_id="x", symbol="BTCUSDT", side=Side.BUY, qty=0.01, price=30_000.0,
                               fee=0.0, trade_id=1))
        flat = [book("ETHUSDT", 2000.0 + (i % 7) * 0.01, i) for i in range(N)]
        holding = [book("BTCUSDT", 30_000.0 + (i % 7) * 0.1, i) for i in range(N)]
        trailing = [book("BTCUSDT", 30_070.0 + i * 0.0015, i) for i in range(N)]  # below the TP (30150)
        out: dict[str, float] = {}
        for name, evs in (("flat", flat), ("holding", holding), ("trailing", trailing)):
            p50, p99 = measure(scanner.on_book, evs)
            out[f"{name}_p50_us"] = round(p50, 3)
            out[f"{name}_p99_us"] = round(p99, 3)
            print(f"{name:9s} p50 {p50:6.2f} us  p99 {p99:6.2f} us")
        assert scanner.exits == 0 and len(lines) == N  # every trailing tick moved the stop, none triggered
        out["ticks"] = N
    print(json.dumps(out))


if __name__ == "__main__":
    main()
