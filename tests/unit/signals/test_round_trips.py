from __future__ import annotations

import pytest

from hedge.events import Fill, Side
from hedge.signals.round_trips import RoundTripTracker


def fill(side: Side, qty: float, px: float, fee: float = 0.0, ts: int = 0) -> Fill:
    return Fill(ts_ms=ts, client_order_id="c", symbol="BTCUSDT", side=side, qty=qty, price=px, fee=fee)


def test_long_round_trip_with_fees() -> None:
    t = RoundTripTracker()
    assert t.on_fill(fill(Side.BUY, 1.0, 100.0, fee=0.02)) is None
    assert t.on_fill(fill(Side.BUY, 1.0, 102.0, fee=0.02)) is None  # vwap 101, notional 202
    assert t.position("BTCUSDT") == 2.0
    assert t.on_fill(fill(Side.SELL, 1.0, 103.0, fee=0.02)) is None
    trip = t.on_fill(fill(Side.SELL, 1.0, 99.0, fee=0.02, ts=9))
    assert trip is not None
    # pnl = 1*(103-101) + 1*(99-101) = 0; fees 0.08 -> -0.08 / 202 * 1e4
    assert trip.pnl == pytest.approx(-0.08)
    assert trip.return_bps == pytest.approx(-0.08 / 202.0 * 1e4)
    assert trip.closed_ms == 9 and t.position("BTCUSDT") == 0.0


def test_short_and_flip() -> None:
    t = RoundTripTracker()
    t.on_fill(fill(Side.SELL, 2.0, 100.0))
    trip = t.on_fill(fill(Side.BUY, 3.0, 99.0))  # close the short (+2) and open 1 long at 99
    assert trip is not None
    assert trip.pnl == pytest.approx(2.0)
    assert trip.return_bps == pytest.approx(2.0 / 200.0 * 1e4)
    assert t.position("BTCUSDT") == pytest.approx(1.0)
    trip = t.on_fill(fill(Side.SELL, 1.0, 99.99))
    assert trip is not None and trip.return_bps == pytest.approx(0.99 / 99.0 * 1e4)


def test_bad_fills_ignored() -> None:
    t = RoundTripTracker()
    assert t.on_fill(fill(Side.BUY, 0.0, 100.0)) is None
    assert t.on_fill(fill(Side.BUY, 1.0, 0.0)) is None
    assert t.position("BTCUSDT") == 0.0


def test_trip_belongs_to_the_strategy_that_opened_it() -> None:
    t = RoundTripTracker()
    t.on_fill(fill(Side.BUY, 1.0, 100.0), "micro_scalper")
    t.on_fill(fill(Side.BUY, 1.0, 100.0), "vol_trend")  # adds to the scalper's trip
    trip = t.on_fill(fill(Side.SELL, 3.0, 101.0), "")  # exit by an exit rule, flips short 1
    assert trip is not None and trip.strategy == "micro_scalper"
    trip = t.on_fill(fill(Side.BUY, 1.0, 100.0), "vol_trend")
    assert trip is not None and trip.strategy == ""  # the flip remainder was opened by the exit
