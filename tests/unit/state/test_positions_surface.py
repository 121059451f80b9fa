"""positions_state.json: a position reported without a mark (Binance's ACCOUNT_UPDATE) takes the feed's mark."""

from __future__ import annotations

from hedge.bus import Bus
from hedge.events import MarkPrice, Position
from hedge.state.health import HealthMonitor, HealthRules
from hedge.state.schemas import PositionsState
from hedge.state.surfaces import StateModel
from hedge.state.telemetry import Telemetry


def model() -> tuple[Bus, StateModel]:
    bus = Bus()
    t = Telemetry()
    m = StateModel(t, HealthMonitor(t, HealthRules(symbols=("BTCUSDT",))), bus)
    m.attach(bus)
    return bus, m


def test_a_position_without_a_mark_uses_the_latest_mark_price() -> None:
    bus, m = model()
    bus.publish(Position(symbol="BTCUSDT", qty=0.002, entry_price=60_000.0, unrealized_pnl=-0.2, mark_price=0.0))
    f = m.build("positions_state")
    assert isinstance(f, PositionsState)
    assert f.positions[0].mark_price == 0.0 and f.positions[0].notional == 0.002 * 60_000.0  # nothing better known
    bus.publish(MarkPrice(symbol="BTCUSDT", mark_price=59_900.0, index_price=59_905.0, funding_rate=0.0001, next_funding_ms=0))
    f = m.build("positions_state")
    assert isinstance(f, PositionsState)
    row = f.positions[0]
    assert row.mark_price == 59_900.0 and row.notional == 0.002 * 59_900.0 and f.gross_notional == row.notional
    # A mark the position itself carries (positionRisk) wins.
    bus.publish(Position(symbol="BTCUSDT", qty=0.002, entry_price=60_000.0, unrealized_pnl=-0.1, mark_price=59_950.0))
    f = m.build("positions_state")
    assert isinstance(f, PositionsState)
    assert f.positions[0].mark_price == 59_950.0
