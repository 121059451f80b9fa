"""Telemetry counts from events: latencies between lifecycle steps, bounded id maps, outcomes."""

from __future__ import annotations

from hedge.bus import Bus
from hedge.events import OrderIntent, OrderRequest, OrderStatus, OrderType, OrderUpdate, RiskDecision, Side, Trade
from hedge.state import telemetry as tm
from hedge.state.telemetry import Telemetry

MS = 1_000_000


def intent(i: int, recv: int, tick: int) -> OrderIntent:
    return OrderIntent(intent_id=f"i{i}", symbol="BTCUSDT", side=Side.BUY, notional=10.0, strategy="s", reason="entry",
                       tick_ns=tick, recv_ns=recv)


def request(i: int, recv: int) -> OrderRequest:
    return OrderRequest(client_order_id=f"c{i}", intent_id=f"i{i}", symbol="BTCUSDT", side=Side.BUY,
                        type=OrderType.LIMIT, qty=1.0, price=1.0, recv_ns=recv)


def update(i: int, status: OrderStatus, recv: int) -> OrderUpdate:
    return OrderUpdate(client_order_id=f"c{i}", symbol="BTCUSDT", status=status, side=Side.BUY, recv_ns=recv)


def test_lifecycle_latencies_land_in_the_right_buckets() -> None:
    bus, t = Bus(), Telemetry()
    t.attach(bus)
    base = 10**18
    bus.publish(intent(1, base + 40_000, base))  # 40 us tick -> decision
    bus.publish(request(1, base + 240_000))  # 200 us decision -> send
    bus.publish(update(1, OrderStatus.UNKNOWN, base + 5 * MS))  # not an answer: no ack latency yet
    bus.publish(update(1, OrderStatus.NEW, base + 20 * MS))  # ~19.8 ms ack
    bus.publish(update(1, OrderStatus.FILLED, base + 30 * MS))  # a later update is not a second ack
    assert t.tick_to_decision.count == 1 and t.tick_to_decision.quantile(1.0) == 0.00005
    assert t.decision_to_send.count == 1 and t.decision_to_send.quantile(1.0) == 0.00025
    assert t.order_ack.count == 1 and t.order_ack.quantile(1.0) == 0.025
    assert t.orders_by_outcome == {"UNKNOWN": 1, "NEW": 1, "FILLED": 1}


def test_feed_lag_and_last_data_per_symbol() -> None:
    bus, t = Bus(), Telemetry()
    t.attach(bus)
    recv = 1_700_000_000_123 * MS
    bus.publish(Trade(symbol="ETHUSDT", trade_id=1, price=1.0, qty=1.0, taker_side=Side.SELL, ts_ms=1_700_000_000_100,
                      recv_ns=recv))
    bus.publish(Trade(symbol="ETHUSDT", trade_id=2, price=1.0, qty=1.0, taker_side=Side.SELL, ts_ms=1_700_000_000_200,
                      recv_ns=recv))  # exchange clock ahead: lag clamps to 0
    assert t.feed_lag.count == 2 and t.feed_lag.counts[0] == 1  # the clamped one
    assert abs(t.feed_lag.sum - 0.023) < 1e-3
    assert t.last_data_ns == {"ETHUSDT": recv}
    assert t.last_seen_ns[Trade] == recv


def test_pending_id_maps_stay_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tm, "PENDING_CAP", 100)
    bus, t = Bus(), Telemetry()
    t.attach(bus)
    for i in range(1000):
        bus.publish(intent(i, 10**18 + i, 0))
        bus.publish(request(i, 10**18 + i + 1))  # never answered
    assert len(t._intent_ns) <= 100 and len(t._sent_ns) <= 100
    assert t.decision_to_send.count == 1000


def test_each_order_outcome_is_counted_once_whoever_reports_it() -> None:
    bus, t = Bus(), Telemetry()
    t.attach(bus)
    base = 10**18
    bus.publish(request(1, base))
    for status in (OrderStatus.NEW, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED,
                   OrderStatus.FILLED):  # REST ack then the user stream's copy of each state
        bus.publish(update(1, status, base + MS))
    bus.publish(update(2, OrderStatus.REJECTED, base))
    bus.publish(update(2, OrderStatus.REJECTED, base))
    bus.publish(update(3, OrderStatus.UNKNOWN, base))
    bus.publish(update(3, OrderStatus.UNKNOWN, base))  # a resend under the same id that is unknown again
    bus.publish(update(3, OrderStatus.CANCELED, base))
    assert t.orders_by_outcome == {"NEW": 1, "FILLED": 1, "REJECTED": 1, "UNKNOWN": 1, "CANCELED": 1}


def test_outcome_memory_is_bounded_and_keeps_recently_updated_orders(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tm, "OUTCOME_MEMORY", 100)
    bus, t = Bus(), Telemetry()
    t.attach(bus)
    bus.publish(update(0, OrderStatus.NEW, 1))  # a long-lived order...
    for i in range(1, 1000):
        bus.publish(update(i, OrderStatus.NEW, 1))
        bus.publish(update(i, OrderStatus.FILLED, 1))
        bus.publish(update(i, OrderStatus.FILLED, 1))  # the stream's duplicate right after
        if i % 50 == 0:
            bus.publish(update(0, OrderStatus.NEW, 1))  # ...refreshed by its own updates
    assert len(t._outcomes_counted) <= 100
    assert t.orders_by_outcome == {"NEW": 1000, "FILLED": 999}


def test_the_veto_window_counts_the_last_minute_by_reason() -> None:
    from hedge.state.telemetry import VetoWindow

    counts: dict[str, int] = {"cooloff": 100}
    w = VetoWindow(counts, window_s=60.0, step_s=5.0)
    s = 10**9
    assert w.recent(0) == ({}, 0.0)
    for t in range(1, 31):  # 2 s apart: 12 cooloff and 3 min_notional vetoes per 30 s
        counts["cooloff"] += 1 if t % 5 else 0
        counts["min_notional"] = counts.get("min_notional", 0) + (t % 10 == 0)
        w.recent(2 * t * s)
    recent, span = w.recent(60 * s)
    assert span == 60.0 and recent == {"cooloff": 24, "min_notional": 3}
    recent, span = w.recent(130 * s)  # nothing for more than a minute
    assert recent == {} and span == 70.0  # from the copy at 60 s: the span it covers is said


def test_outcome_memory_levels_off_at_its_default_bound() -> None:
    bus, t = Bus(), Telemetry()
    t.attach(bus)
    for i in range(tm.OUTCOME_MEMORY + 2000):
        bus.publish(update(i, OrderStatus.FILLED, 1))
    assert len(t._outcomes_counted) == tm.OUTCOME_MEMORY <= 4096
    assert t.orders_by_outcome == {"FILLED": tm.OUTCOME_MEMORY + 2000}


def test_intents_that_never_become_orders_leave_no_pending_stamp() -> None:
    bus, t = Bus(), Telemetry()
    t.attach(bus)
    n = 2 * tm.PENDING_CAP + 2000
    for i in range(n):
        bus.publish(intent(i, 10 + i, 1 + i))
        if i % 2:  # vetoed: forgotten at once
            bus.publish(RiskDecision(intent=intent(i, 10 + i, 1 + i), allow=False, max_qty=0.0, reasons=("spread",)))
        # the others: approved but never sent (filtered, ignored): forgotten beyond the cap
    assert tm.PENDING_CAP - 1 <= len(t._intent_ns) <= tm.PENDING_CAP <= 4096  # the last one was vetoed
    assert all(int(k.removeprefix("i")) % 2 == 0 for k in t._intent_ns)
    assert t.vetoed == n // 2


def test_without_feed_lag_tracking_market_data_is_still_stamped() -> None:
    """A replay turns the feed-lag maths off: the liveness stamps stay, the histogram stays empty."""
    bus, t = Bus(), Telemetry()
    t.attach(bus)
    t.track_feed_lag = False
    recv = 1_700_000_000_123 * MS
    bus.publish(Trade(symbol="ETHUSDT", trade_id=1, price=1.0, qty=1.0, taker_side=Side.SELL, ts_ms=1_700_000_000_100,
                      recv_ns=recv))
    assert t.feed_lag.count == 0
    assert t.last_data_ns == {"ETHUSDT": recv} and t.last_seen_ns[Trade] == recv
