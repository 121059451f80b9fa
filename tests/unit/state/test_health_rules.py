"""/health rules with a controlled clock: NAV freshness, stale feeds, books, user stream."""

from __future__ import annotations

from hedge.bus import Bus
from hedge.events import BookState, BookStatus, FeedStatus, Heartbeat, Nav, Side, Trade
from hedge.model.clock import EventClock
from hedge.state.health import HealthMonitor, HealthRules
from hedge.state.telemetry import Telemetry

S = 1_000_000_000


def setup(**rules: object) -> tuple[Bus, EventClock, HealthMonitor]:
    bus, clock = Bus(), EventClock(1_000 * S)
    t = Telemetry(clock)
    t.attach(bus)
    return bus, clock, HealthMonitor(t, HealthRules(symbols=("BTCUSDT", "ETHUSDT"), **rules))  # type: ignore[arg-type]


def live(bus: Bus, clock: EventClock) -> None:
    bus.publish(FeedStatus(connection="market", connected=True, recv_ns=clock.now_ns()))
    bus.publish(FeedStatus(connection="user", connected=True, recv_ns=clock.now_ns()))
    for sym in ("BTCUSDT", "ETHUSDT"):
        bus.publish(BookStatus(symbol=sym, state=BookState.VALID, recv_ns=clock.now_ns()))
        bus.publish(Trade(symbol=sym, trade_id=1, price=1.0, qty=1.0, taker_side=Side.BUY, recv_ns=clock.now_ns()))
    bus.publish(Nav(nav=1.0, wallet_balance=1.0, unrealized_pnl=0.0, source="sim", recv_ns=clock.now_ns()))


def test_nav_goes_stale_after_the_configured_freshness() -> None:
    bus, clock, h = setup(nav_fresh_s=90.0, feed_stale_s=1000.0)
    live(bus, clock)
    assert h.evaluate().ok
    clock.advance_s(89)
    assert h.evaluate().ok
    clock.advance_s(2)
    assert h.evaluate().reasons == ["NAV stale: 91.0 s old (limit 90 s)"]
    bus.publish(Nav(nav=1.0, wallet_balance=1.0, unrealized_pnl=0.0, source="sim", recv_ns=clock.now_ns()))
    assert h.evaluate().ok


def test_every_configured_symbol_needs_data_and_a_valid_book() -> None:
    bus, clock, h = setup(feed_stale_s=5.0)
    live(bus, clock)
    clock.advance_s(6)
    bus.publish(Trade(symbol="BTCUSDT", trade_id=2, price=1.0, qty=1.0, taker_side=Side.BUY, recv_ns=clock.now_ns()))
    assert h.evaluate().reasons == ["feed stale: no market data for ETHUSDT for 6.0 s (limit 5 s)"]
    bus.publish(BookStatus(symbol="SOLUSDT", state=BookState.SYNCING, recv_ns=clock.now_ns()))  # an extra book counts too
    assert "book SOLUSDT SYNCING" in h.evaluate().reasons


def test_user_stream_optional_and_heartbeat_failures() -> None:
    bus, clock, h = setup(require_user_stream=False)
    bus.publish(FeedStatus(connection="market", connected=True, recv_ns=clock.now_ns()))
    for sym in ("BTCUSDT", "ETHUSDT"):
        bus.publish(BookStatus(symbol=sym, state=BookState.VALID, recv_ns=clock.now_ns()))
        bus.publish(Trade(symbol=sym, trade_id=1, price=1.0, qty=1.0, taker_side=Side.BUY, recv_ns=clock.now_ns()))
    bus.publish(Nav(nav=1.0, wallet_balance=1.0, unrealized_pnl=0.0, source="sim", recv_ns=clock.now_ns()))
    assert h.evaluate().ok  # no user stream, and none required (replay / dry-run)
    bus.publish(Heartbeat(component="user", ok=False, detail="listenKey expired"))
    assert h.evaluate().ok  # the user stream's own beat only counts when it is required
    bus.publish(Heartbeat(component="journal", ok=False, detail="disk full"))
    assert h.evaluate().reasons == ["component journal failing: disk full"]
