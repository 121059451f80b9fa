"""The shadow's cost per tick: the live bus times every n-th outermost market cascade (nested publishes
included), the shadow's part inside it is split out; the comparison's tolerance on numbers."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from hedge.bus import Bus
from hedge.events import Heartbeat, Side, Trade
from hedge.shadow.compare import same
from hedge.shadow.cost import OUTLIER_S, ShadowCost, ShadowCostCollector
from hedge.state.prometheus import render


def trade(i: int) -> Trade:
    return Trade(symbol="BTCUSDT", trade_id=i, price=1.0, qty=1.0, taker_side=Side.BUY)


def test_every_nth_market_cascade_is_timed_with_what_it_published() -> None:
    live, own = Bus(), Bus()
    seen: list[tuple[str, bool]] = []
    live.subscribe(Trade, lambda t: live.publish(Heartbeat(component=f"after {t.trade_id}")))  # nested
    live.subscribe(Heartbeat, lambda h: seen.append((h.component, live.timing)))
    own.subscribe(Trade, lambda t: seen.append((f"shadow {t.trade_id}", live.timing)))
    cost = ShadowCost(live, (Trade,), every=3)
    live.subscribe(Trade, lambda t: cost.forward(own.publish, t))  # the shadow's forward, last
    for i in range(1, 7):
        live.publish(trade(i))
    live.publish(Heartbeat(component="not a market event"))  # never timed, never counted
    assert cost.samples == 2  # trades 3 and 6
    timed = {name for name, timing in seen if timing}
    assert timed == {"after 3", "shadow 3", "after 6", "shadow 6"}  # the nested publish is inside the cascade
    assert not live.timing
    assert cost.shadow.sum > 0 and cost.live.sum > 0 and cost.share > 0
    assert cost.mean_us(cost.shadow) == cost.shadow.sum / 2 * 1e6
    registry = CollectorRegistry()
    registry.register(ShadowCostCollector(cost))
    text = render(registry).decode()
    assert 'hedge_shadow_tick_seconds_count{pipeline="shadow"} 2.0' in text
    assert 'hedge_shadow_tick_seconds_count{pipeline="live"} 2.0' in text


def test_nothing_is_timed_before_a_sample() -> None:
    cost = ShadowCost(Bus(), (Trade,))
    assert cost.samples == 0 and cost.share == 0.0 and cost.mean_us(cost.live) == 0.0


def test_keys_agree_within_a_relative_tolerance_on_numbers_only() -> None:
    assert same(("BUY", 162.8393646702973), ("BUY", 162.8393630418932))  # the daemon's NAV, last digits
    assert not same(("BUY", 162.84), ("BUY", 162.0))
    assert not same(("BUY", 162.84), ("SELL", 162.84))
    assert same((True, 0.00254659533341774, ()), (True, 0.0025465953079516234, ()))
    assert not same((True, 0.0025, ()), (True, 0.0025, ("max_position",)))


def test_a_descheduled_sample_is_not_counted_and_the_clock_reads_are_taken_out() -> None:
    live, own = Bus(), Bus()
    cost = ShadowCost(live, (Trade,), every=1)
    assert 0.0 < cost.timer_s < 1e-5  # one clock read: tens of nanoseconds
    cost._on_cascade(OUTLIER_S * 2)  # the process was descheduled inside the cascade
    assert cost.discarded == 1 and cost.samples == 0
    cost.timer_s = 1e-6  # exaggerated, to see where it is taken out
    cost._inside, cost._spans = 5e-6, 2  # two shadow spans inside a cascade of 20 us
    cost._on_cascade(20e-6)
    assert cost.shadow.sum == pytest.approx(3e-6)  # 5 - 2 reads
    assert cost.live.sum == pytest.approx(12e-6)  # 20 - 5 - (1 + 2) reads
    live.subscribe(Trade, lambda t: cost.forward(own.publish, t))
    live.publish(trade(1))
    assert cost.samples == 2 and cost._spans == 0 and cost._inside == 0.0
