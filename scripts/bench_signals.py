"""Benchmark the signals stage: cost per BookUpdate of all features, the strategies and the screener.

Input: a deterministic synthetic BTCUSDT-like stream (random-walk mid on a 0.1 tick, random
top-of-book sizes, one trade per three book updates, strong-imbalance ticks often enough that the
screener and its gates run). Measured on one core, best of ``REPEATS`` runs:
- ``features_us``: FeatureEngine.on_book alone;
- ``stage_us``: SignalStage.on_book (features + both strategies + screener + throttled publish), direct call;
- ``bus_stage_us``: the same through ``Bus.publish`` (what the engine does);
- ``trade_us``: SignalStage.on_trade;
- ``real_book_us``: SignalStage.on_book over the bundled real BTCUSDT recording's BookUpdates
  alone (from the feeds' ReplaySource, collected first), per BookUpdate;
- ``real_event_us``: the recording's BookUpdates and Trades interleaved, per event;
- ``stage_factors_off_us`` / ``stage_factors_on_us``: ``stage_us`` with the factor diagnostics off
  and on (the default), measured alternately (best of ``REPEATS`` * 2 each) so that the machine's
  load hits both alike; ``factors_cost_pct`` their difference.
Target (issue 6): ``stage_us`` < 5 us per BookUpdate. Last line: one JSON object.
"""

from __future__ import annotations

import gc
import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from hedge.bus import Bus
from hedge.config import Config, StrategyConfig, StrategyEntry
from hedge.config.intel import FactorDiagnosticsParams
from hedge.events import BookUpdate, Event, Nav, OrderIntent, Side, Trade
from hedge.feeds.recording import ReplaySource, bundled_btcusdt
from hedge.signals.features import FeatureEngine
from hedge.signals.microstructure import imbalance, micro_price, spread_bps
from hedge.signals.stage import SignalStage

N_BOOK = 150_000
REPEATS = 3
CFG = Config(
    strategy=StrategyConfig(strategies=[StrategyEntry(name="micro_scalper"), StrategyEntry(name="vol_trend")])
)

CFG_NO_FACTORS = Config(strategy=StrategyConfig(
    strategies=CFG.strategy.strategies, factor_diagnostics=FactorDiagnosticsParams(enabled=False),
))


def make_stream(n: int) -> tuple[list[BookUpdate], list[Trade]]:
    rng = random.Random(42)
    books: list[BookUpdate] = []
    trades: list[Trade] = []
    mid_ticks = 640_000  # 64000.0 in 0.1 ticks, mid = (bid + ask) / 2 with a 1-tick spread
    ts = 1_721_347_000_000
    for i in range(n):
        ts += rng.randint(1, 20)
        r = rng.random()
        if r < 0.05:
            mid_ticks += 1
        elif r < 0.10:
            mid_ticks -= 1
        bid, ask = mid_ticks / 10.0, (mid_ticks + 1) / 10.0
        bq, aq = rng.uniform(0.001, 10.0), rng.uniform(0.001, 10.0)
        books.append(
            BookUpdate(
                ts_ms=ts, recv_ns=ts * 1_000_000, symbol="BTCUSDT", update_id=i + 1, valid=True,
                bid_px=bid, bid_qty=bq, ask_px=ask, ask_qty=aq, mid=0.5 * (bid + ask),
                micro=micro_price(bid, bq, ask, aq), imbalance=imbalance(bq, aq), spread_bps=spread_bps(bid, ask),
            )
        )
        if i % 3 == 0:
            trades.append(
                Trade(ts_ms=ts, recv_ns=ts * 1_000_000, symbol="BTCUSDT", trade_id=i, price=ask,
                      qty=rng.uniform(0.001, 2.0), taker_side=rng.choice((Side.BUY, Side.SELL)), trade_ms=ts)
            )
    return books, trades


def best_us(run: Callable[[], int]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        gc.collect()
        t0 = time.perf_counter_ns()
        n = run()
        best = min(best, (time.perf_counter_ns() - t0) / 1e3 / n)
    return best


def fresh_stage(bus: Bus, cfg: Config = CFG) -> SignalStage:
    stage = SignalStage(bus, cfg)
    stage.screener.nav = 10_000.0
    return stage


def main() -> None:
    books, trades = make_stream(N_BOOK)

    def features_only() -> int:
        on_book = FeatureEngine(CFG.strategy.signals).on_book
        for b in books:
            on_book(b)
        return len(books)

    def stage_direct() -> int:
        on_book = fresh_stage(Bus()).on_book
        for b in books:
            on_book(b)
        return len(books)

    intents: list[Any] = []

    def stage_bus() -> int:
        bus = Bus()
        fresh_stage(bus).attach()
        intents.clear()
        bus.subscribe(OrderIntent, intents.append)
        bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="sim"))
        publish = bus.publish
        for b in books:
            publish(b)
        return len(books)

    def trades_only(seq: Sequence[Trade] = trades) -> int:
        on_trade = fresh_stage(Bus()).on_trade
        for t in seq:
            on_trade(t)
        return len(seq)

    recorded: list[Event] = []
    rbus = Bus()
    rbus.subscribe(BookUpdate, recorded.append)
    rbus.subscribe(Trade, recorded.append)
    ReplaySource(bundled_btcusdt(), rbus).run_sync()

    real_books = [e for e in recorded if isinstance(e, BookUpdate)]

    def real_books_only() -> int:
        on_book = fresh_stage(Bus()).on_book
        for b in real_books:
            on_book(b)
        return len(real_books)

    def real() -> int:
        stage = fresh_stage(Bus())
        on_book, on_trade = stage.on_book, stage.on_trade
        for e in recorded:
            if isinstance(e, BookUpdate):
                on_book(e)
            elif isinstance(e, Trade):
                on_trade(e)
        return len(recorded)

    res = {
        "book_updates": len(books),
        "features_us": round(best_us(features_only), 3),
        "stage_us": round(best_us(stage_direct), 3),
        "bus_stage_us": round(best_us(stage_bus), 3),
        "trade_us": round(best_us(trades_only), 3),
        "real_book_updates": len(real_books),
        "real_event_us": round(best_us(real), 3),
        "intents": len(intents),
        "target_us": 5.0,
    }
    res["real_book_us"] = round(best_us(real_books_only), 3)

    def stage_with(cfg: Config) -> Callable[[], int]:
        def run() -> int:
            on_book = fresh_stage(Bus(), cfg).on_book
            for b in books:
                on_book(b)
            return len(books)
        return run

    off, on = float("inf"), float("inf")
    for _ in range(2):
        off = min(off, best_us(stage_with(CFG_NO_FACTORS)))
        on = min(on, best_us(stage_with(CFG)))
    res["stage_factors_off_us"], res["stage_factors_on_us"] = round(off, 3), round(on, 3)
    res["factors_cost_pct"] = round((on / off - 1.0) * 100.0, 1)
    res["ok"] = res["stage_us"] < 5.0 and res["real_book_us"] < 5.0
    for k, v in res.items():
        print(f"{k:>14}: {v}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
