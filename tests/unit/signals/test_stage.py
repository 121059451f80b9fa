from __future__ import annotations

import math
from typing import Any

import msgspec
import pytest

from hedge.bus import Bus
from hedge.config import (
    CalibratorParams,
    Config,
    RuntimeConfig,
    ScoreParams,
    StrategyConfig,
    StrategyEntry,
    TradingWindow,
    exit_profile,
)
from hedge.events import (
    BookUpdate,
    Features,
    Fill,
    Nav,
    OrderIntent,
    OrderRequest,
    OrderType,
    Side,
    Signal,
    StrategyScore,
    SymbolScore,
    Trade,
    VolRegime,
)
from hedge.signals.stage import SignalStage
from tests.unit.signals.test_features import book

SCALPER = StrategyEntry(name="micro_scalper", params={"entry_threshold": 0.5, "cooldown_s": 1.0})


def make(**strategy_kw: Any) -> tuple[Bus, SignalStage, dict[type, list[Any]]]:
    runtime = strategy_kw.pop("runtime", RuntimeConfig())
    strategy_kw.setdefault("strategies", [SCALPER])
    strategy_kw.setdefault("exits", exit_profile("classic"))  # fixed TP 50 / SL 25 bps: hand-checkable e_pi
    strategy_kw.setdefault("screen_min_e_pi_bps", 0.0)
    cfg = Config(runtime=runtime, strategy=StrategyConfig(**strategy_kw))
    bus = Bus()
    stage = SignalStage(bus, cfg)
    stage.attach()
    seen: dict[type, list[Any]] = {OrderIntent: [], Signal: [], Features: [], SymbolScore: [], StrategyScore: []}
    for t, lst in seen.items():
        bus.subscribe(t, lst.append)
    return bus, stage, seen


def bullish(ts: int) -> BookUpdate:
    return book(ts, 99.99, 100.01, 19.0, 1.0, uid=1000 + ts)  # imbalance 0.9, micro tilt 0.9 -> 0.36 + 0.18


def nav(bus: Bus, v: float = 10_000.0) -> None:
    bus.publish(Nav(nav=v, wallet_balance=v, unrealized_pnl=0.0, source="sim"))


def test_intents_have_deterministic_ids_sizes_and_cooldown() -> None:
    bus, stage, seen = make()
    nav(bus)
    for ts in range(0, 2500, 100):
        bus.publish(bullish(ts))
    intents: list[OrderIntent] = seen[OrderIntent]
    assert [i.intent_id for i in intents] == ["micro_scalper-BTCUSDT-1000", "micro_scalper-BTCUSDT-2000", "micro_scalper-BTCUSDT-3000"]
    i = intents[0]
    assert i.side is Side.BUY and i.strategy == "micro_scalper" and i.symbol == "BTCUSDT"
    assert i.score == pytest.approx(0.54)
    # NAV 10k * 1% * CORE 1.0 * conviction 2 * 0.54 (regime normal)
    assert i.notional == pytest.approx(108.0)
    p = 1.0 / (1.0 + math.exp(-0.54))
    assert i.e_pi_bps == pytest.approx(p * 50.0 - (1 - p) * 25.0 - 4.0 - 1.0)  # deep bucket slippage 1
    assert i.regime is VolRegime.NORMAL and i.limit_px == 100.0 and i.ts_ms == 0
    # one Signal with each intent, and each strategy's view once per publish_every_ms
    assert [(s.ts_ms, s.score) for s in seen[Signal]] == [(t, pytest.approx(0.54)) for t in (0, 0, 1000, 1000, 2000, 2000)]
    assert seen[Signal][0].p_win == pytest.approx(p) and seen[Signal][0].e_pi_bps == i.e_pi_bps
    assert stage.screener.skipped["cooldown"] == 25 - 3
    assert [f.ts_ms for f in seen[Features]] == [0, 1000, 2000]
    assert len(seen[SymbolScore]) == 3 and seen[SymbolScore][0].hybrid_score > 0.0


def test_sell_side_and_bias() -> None:
    bus, _, seen = make(directional_bias="long")
    nav(bus)
    bus.publish(book(0, 99.99, 100.01, 1.0, 19.0, uid=1))
    assert seen[OrderIntent] == []
    bus2, stage2, seen2 = make()
    nav(bus2)
    bus2.publish(book(0, 99.99, 100.01, 1.0, 19.0, uid=1))
    assert [i.side for i in seen2[OrderIntent]] == [Side.SELL]
    assert stage2.screener.skipped == {}


def test_gates_window_nav_e_pi_invalid_book_and_universe() -> None:
    closed = RuntimeConfig(trading_window=TradingWindow(start="10:00", end="11:00"))
    bus, stage, seen = make(runtime=closed)
    nav(bus)
    bus.publish(bullish(0))  # 00:00 UTC
    assert seen[OrderIntent] == [] and stage.screener.skipped == {"trading_window": 1}

    bus, stage, seen = make()
    bus.publish(bullish(0))
    assert seen[OrderIntent] == [] and stage.screener.skipped == {"no_nav": 1}

    bus, stage, seen = make(calibrator=CalibratorParams(a=-5.0, b=0.0))
    nav(bus)
    bus.publish(bullish(0))
    assert seen[OrderIntent] == [] and stage.screener.skipped == {"e_pi": 1}

    bus, stage, seen = make()
    nav(bus)
    bus.publish(msgspec.structs.replace(bullish(0), valid=False))
    bus.publish(msgspec.structs.replace(bullish(0), symbol="ETHUSDT"))
    assert seen[OrderIntent] == [] and seen[Features] == []

    bus, stage, seen = make()
    nav(bus, 100.0)  # 100 * 1% * 1.08 = 1.08 USDT < min_notional_usd 5
    bus.publish(bullish(0))
    assert seen[OrderIntent] == [] and stage.screener.skipped == {"min_notional": 1}


def test_trades_feed_flow_into_the_score() -> None:
    bus, _, seen = make()
    nav(bus)
    bus.publish(book(0, 99.99, 100.01, 6.0, 4.0, uid=1))  # 0.4*0.2 + 0.2*0.2 = 0.12: no intent
    assert seen[OrderIntent] == []
    bus.publish(Trade(ts_ms=10, symbol="BTCUSDT", trade_id=1, price=100.01, qty=5.0, taker_side=Side.BUY, trade_ms=10))
    bus.publish(book(20, 99.99, 100.01, 6.0, 4.0, uid=2))  # + 0.4*1.0 flow - 0.3*1.0 absorbed = 0.22
    assert seen[OrderIntent] == []
    bus.publish(book(30, 100.0, 100.02, 6.0, 4.0, uid=3))  # mid +1 bps: no longer absorbed -> 0.52
    assert [i.intent_id for i in seen[OrderIntent]] == ["micro_scalper-BTCUSDT-3"]
    assert seen[OrderIntent][0].score == pytest.approx(0.52)


def test_sprt_switches_a_losing_symbol_off() -> None:
    bus, stage, seen = make(scores=ScoreParams(min_trades=1000))
    nav(bus)
    for k in range(40):  # losing round trips: buy 100, sell 99.9
        bus.publish(Fill(ts_ms=k, client_order_id=f"o{k}", symbol="BTCUSDT", side=Side.BUY, qty=1.0, price=100.0, fee=0.0))
        bus.publish(Fill(ts_ms=k, client_order_id=f"c{k}", symbol="BTCUSDT", side=Side.SELL, qty=1.0, price=99.9, fee=0.0))
    scores = seen[SymbolScore]
    assert len(scores) == 40 and scores[0].enabled and scores[0].trades == 1
    assert scores[-1].enabled is False and scores[-1].expectancy_bps == pytest.approx(-10.0)
    bus.publish(bullish(0))
    assert seen[OrderIntent] == [] and stage.screener.skipped == {"expectancy_or_sprt": 1}


def test_sprt_switches_off_one_strategy_from_its_attributed_fills() -> None:
    strategies = [SCALPER, StrategyEntry(name="vol_trend")]
    bus, stage, seen = make(scores=ScoreParams(min_trades=1000), strategies=strategies)
    nav(bus)

    def round_trip(k: int, coid: str, exit_px: float) -> None:
        bus.publish(Fill(ts_ms=k, client_order_id=coid, symbol="BTCUSDT", side=Side.BUY, qty=1.0, price=100.0, fee=0.0))
        bus.publish(Fill(ts_ms=k, client_order_id=f"x{k}", symbol="BTCUSDT", side=Side.SELL, qty=1.0, price=exit_px, fee=0.0))

    for k in range(30):
        coid = f"ms{k}"
        bus.publish(OrderRequest(client_order_id=coid, intent_id=f"micro_scalper-BTCUSDT-{k}", symbol="BTCUSDT", side=Side.BUY, type=OrderType.LIMIT, qty=1.0))
        round_trip(k, coid, 99.9)  # the scalper's trips lose
        round_trip(k, f"manual{k}", 100.1)  # unattributed trips win
    by_strategy = seen[StrategyScore]
    assert len(by_strategy) == 30 and not by_strategy[-1].enabled
    assert {s.strategy for s in by_strategy} == {"micro_scalper"}
    assert len(seen[SymbolScore]) == 60 and seen[SymbolScore][-1].enabled
    bus.publish(bullish(0))
    assert seen[OrderIntent] == [] and stage.screener.skipped == {"expectancy_or_sprt": 1}
