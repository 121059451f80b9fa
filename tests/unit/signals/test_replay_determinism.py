"""Replaying the real BTCUSDT recording twice gives the identical sequence of intents."""

from __future__ import annotations

import hashlib

import msgspec

from hedge.bus import Bus
from hedge.config import Config, StrategyConfig, StrategyEntry
from hedge.events import Event, Features, Nav, OrderIntent
from hedge.signals.stage import SignalStage
from tests.unit.signals.btc_recording import iter_events

STRATEGIES = [StrategyEntry(name="micro_scalper"), StrategyEntry(name="vol_trend", params={"entry_threshold": 0.3})]


def replay(events: list[Event], features: list[Features] | None = None) -> list[OrderIntent]:
    bus = Bus()
    SignalStage(bus, Config(strategy=StrategyConfig(strategies=STRATEGIES))).attach()
    intents: list[OrderIntent] = []
    bus.subscribe(OrderIntent, intents.append)
    if features is not None:
        bus.subscribe(Features, features.append)
    bus.publish(Nav(nav=10_000.0, wallet_balance=10_000.0, unrealized_pnl=0.0, source="sim"))
    for ev in events:
        bus.publish(ev)
    return intents


def digest(intents: list[OrderIntent]) -> str:
    return hashlib.sha256(msgspec.json.encode(intents)).hexdigest()


def test_two_replays_give_the_same_intents() -> None:
    events = list(iter_events())
    feats: list[Features] = []
    first = replay(events, feats)
    second = replay(events)
    assert len(first) > 10
    assert {i.strategy for i in first} == {"micro_scalper", "vol_trend"}
    assert len({i.intent_id for i in first}) == len(first)  # ids unique
    assert digest(first) == digest(second)

    # features on real data stay in their ranges
    assert len(feats) > 400
    for f in feats:
        assert -1.0 <= f.book_imbalance <= 1.0 and -1.0 <= f.flow_imbalance <= 1.0 and -1.0 <= f.absorption <= 1.0
        assert f.realized_vol_bps >= 0.0 and f.spread_bps >= 0.0 and f.mid > 0.0
    assert len({f.regime for f in feats}) >= 2
