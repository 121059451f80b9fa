"""Replaying the real BTCUSDT recording (feeds' ReplaySource) twice gives the identical sequence of intents."""

from __future__ import annotations

import hashlib

import msgspec

from hedge.bus import Bus
from hedge.config import Config, StrategyConfig, StrategyEntry, exit_profile
from hedge.events import Features, Nav, OrderIntent, Signal
from hedge.feeds.recording import ReplaySource, bundled_btcusdt
from hedge.signals.stage import SignalStage

STRATEGIES = [StrategyEntry(name="micro_scalper"), StrategyEntry(name="vol_trend", params={"entry_threshold": 0.3})]


def replay(features: list[Features] | None = None) -> tuple[list[OrderIntent], list[Signal]]:
    bus = Bus()
    SignalStage(bus, Config(strategy=StrategyConfig(strategies=STRATEGIES, exits=exit_profile("classic")))).attach()
    intents: list[OrderIntent] = []
    signals: list[Signal] = []
    bus.subscribe(OrderIntent, intents.append)
    bus.subscribe(Signal, signals.append)
    if features is not None:
        bus.subscribe(Features, features.append)
    bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="sim"))
    ReplaySource(bundled_btcusdt(), bus).run_sync()
    return intents, signals


def digest(events: list[OrderIntent] | list[Signal]) -> str:
    return hashlib.sha256(msgspec.json.encode(events)).hexdigest()


def test_two_replays_give_the_same_intents() -> None:
    feats: list[Features] = []
    first, first_signals = replay(feats)
    second, second_signals = replay()
    assert len(first) > 10
    assert {i.strategy for i in first} == {"micro_scalper", "vol_trend"}
    assert len({i.intent_id for i in first}) == len(first)  # ids unique
    assert digest(first) == digest(second)
    assert digest(first_signals) == digest(second_signals)
    for i in first:
        assert i.notional > 0.0 and i.e_pi_bps > 0.0 and i.intent_id.startswith(f"{i.strategy}-BTCUSDT-")
    # features on real data stay in their ranges
    assert len(feats) > 400
    for f in feats:
        assert -1.0 <= f.book_imbalance <= 1.0 and -1.0 <= f.flow_imbalance <= 1.0 and -1.0 <= f.absorption <= 1.0
        assert f.realized_vol_bps >= 0.0 and f.spread_bps >= 0.0 and f.mid > 0.0
    assert len({f.regime for f in feats}) >= 2
