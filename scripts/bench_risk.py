"""Benchmark hedge.risk.check_order (compiled, or its .py with HEDGE_PURE=1) and the risk stage's whole intent path.

Cases: an order allowed as asked, one reduced by a cap, one vetoed; each with 6 open positions,
open orders, a 720-return history (CVaR gate active) and the shipped limits. Per-call times
with perf_counter_ns; p50 and p99 in microseconds. ``idle``: the allowed order again, each call
after 1 ms asleep (as live, where intents arrive on cold caches). The stage path adds building the
context, counting, and publishing the decision on a Bus with one subscriber.

Usage: .venv/bin/python scripts/bench_risk.py   (last line: one JSON object)
"""

from __future__ import annotations

import functools
import gc
import json
import random
import time
from collections.abc import Callable

from hedge.bus import Bus
from hedge.config import Config, CorrelationGroup, SymbolInfo, SymbolsConfig
from hedge.events import BookUpdate, FeedStatus, Nav, OrderIntent, Position, Reconciled, RiskDecision, Side, Tier
from hedge.risk import BookRisk, NavHealth, PositionRisk, RiskContext, RiskLimits, check_order
from hedge.risk.stage import RiskStage

N = 50_000
N_IDLE = 2_000

SYMBOLS = {
    "BTCUSDT": SymbolInfo(tier=Tier.CORE, group="majors"),
    "ETHUSDT": SymbolInfo(tier=Tier.CORE, group="majors"),
    "SOLUSDT": SymbolInfo(tier=Tier.SATELLITE),
    "SUSHIUSDT": SymbolInfo(tier=Tier.TACTICAL, group="defi"),
    "UNIUSDT": SymbolInfo(tier=Tier.TACTICAL, group="defi"),
    "DOGEUSDT": SymbolInfo(tier=Tier.ALT_EXT),
}
CFG = Config(
    symbols=SymbolsConfig(
        symbols=SYMBOLS,
        correlation_groups={"majors": CorrelationGroup(cap=0.4), "defi": CorrelationGroup(cap=0.1)},
    )
)
POSITIONS = {
    "BTCUSDT": PositionRisk(qty=0.02, mark=60_000.0, open_buy=0.005),
    "ETHUSDT": PositionRisk(qty=-0.3, mark=3_000.0),
    "SOLUSDT": PositionRisk(qty=5.0, mark=150.0, open_sell=1.0),
    "SUSHIUSDT": PositionRisk(qty=-300.0, mark=1.2),
    "UNIUSDT": PositionRisk(qty=40.0, mark=7.0),
    "DOGEUSDT": PositionRisk(qty=1000.0, mark=0.15),
}


def pct(xs: list[int], p: float) -> float:
    return xs[min(len(xs) - 1, int(len(xs) * p))] / 1000.0


def time_calls(f: Callable[[], object], n: int = N, idle_s: float = 0.0) -> tuple[float, float]:
    for _ in range(2000):
        f()
    ts: list[int] = []
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for _ in range(n):
            if idle_s:
                time.sleep(idle_s)
            t0 = clock()
            f()
            ts.append(clock() - t0)
    finally:
        gc.enable()
    ts.sort()
    return pct(ts, 0.5), pct(ts, 0.99)


def main() -> None:
    lim = RiskLimits.from_config(CFG)
    rng = random.Random(7)
    now = time.time_ns()
    ctx = RiskContext(
        now_ns=now,
        nav=NavHealth(value=10_000.0, age_s=3.0, source="account_update", updated_ms=now // 1_000_000 - 3000),
        day_start_nav=10_100.0,
        nav_hwm=10_400.0,
        positions=POSITIONS,
        open_orders=4,
        book=BookRisk(valid=True, bid=60_000.0, ask=60_000.1, spread_bps=0.02, lag_ms=12.0),
        ack_latency_ms=40.0,
        user_stream_up=True,
        returns=tuple(rng.gauss(0.0002, 0.004) for _ in range(720)),
        min_notional=100.0,
    )

    def mk(notional: float, e_pi: float = 4.0) -> OrderIntent:
        return OrderIntent(
            intent_id="bench",
            symbol="BTCUSDT",
            side=Side.BUY,
            notional=notional,
            strategy="bench",
            reason="bench",
            e_pi_bps=e_pi,
        )

    allowed, reduced, vetoed = mk(300.0), mk(5_000.0), mk(300.0, e_pi=-1.0)
    assert check_order(allowed, ctx, lim).allow and not check_order(allowed, ctx, lim).reasons
    assert check_order(reduced, ctx, lim).reasons and check_order(reduced, ctx, lim).allow
    assert not check_order(vetoed, ctx, lim).allow
    res: dict[str, float] = {}
    for name, it in (("allowed", allowed), ("reduced", reduced), ("vetoed", vetoed)):
        p50, p99 = time_calls(functools.partial(check_order, it, ctx, lim))
        res[f"check_order_{name}_p50_us"] = p50
        res[f"check_order_{name}_p99_us"] = p99
        print(f"check_order {name:8s}: p50 {p50:6.2f} us   p99 {p99:6.2f} us")
    p50, p99 = time_calls(lambda: check_order(allowed, ctx, lim), n=N_IDLE, idle_s=0.001)
    res["check_order_idle_p50_us"] = p50
    res["check_order_idle_p99_us"] = p99
    print(f"check_order idle    : p50 {p50:6.2f} us   p99 {p99:6.2f} us")

    bus = Bus()
    stage = RiskStage(bus, CFG)
    stage.attach()
    out: list[RiskDecision] = []
    bus.subscribe(RiskDecision, out.append)
    bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="reconcile"))
    bus.publish(FeedStatus(connection="user", connected=True))
    bus.publish(Reconciled(trigger="start"))  # the portfolio's first reconciliation opens trading
    for sym, p in POSITIONS.items():
        bus.publish(Position(symbol=sym, qty=p.qty, entry_price=p.mark, mark_price=p.mark))
    bus.publish(
        BookUpdate(
            symbol="BTCUSDT",
            update_id=1,
            valid=True,
            bid_px=60_000.0,
            bid_qty=1.0,
            ask_px=60_000.1,
            ask_qty=1.0,
            mid=60_000.05,
            micro=60_000.05,
            imbalance=0.0,
            spread_bps=0.02,
        )
    )

    def via_bus() -> None:
        bus.publish(allowed)
        out.clear()

    bus.publish(allowed)
    assert out[-1].allow, out[-1]
    p50, p99 = time_calls(via_bus)
    res["stage_intent_to_decision_p50_us"] = p50
    res["stage_intent_to_decision_p99_us"] = p99
    print(f"stage: publish(OrderIntent) -> RiskDecision published: p50 {p50:6.2f} us   p99 {p99:6.2f} us")
    print(json.dumps({k: round(v, 2) for k, v in res.items()}))


if __name__ == "__main__":
    main()
