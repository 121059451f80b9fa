"""The trade list's feed: exit reasons from the order's intent, the entry's strategy, reason and
risk from the ledger, excursions from the exit levels, duplicates ignored, and the builder kept in
step with the ledger (a restart's entries seeded; a position changed without a fill re-seeded)."""

from __future__ import annotations

import logging

import msgspec
import pytest

from hedge.config.strategy import exit_profile
from hedge.events import ClosedTrade, OrderIntent, Position, Side
from hedge.portfolio.exits import update
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.trade_tracker import TradeTracker
from tests.unit.portfolio.helpers import fill, intent, request

P = exit_profile("classic")  # sl_pct 0.0025: R = 0.25 per unit at 100
ENTRY_CID = "hAAAA-0-0"


def desk() -> tuple[Ledger, TradeTracker, list[ClosedTrade]]:
    led = Ledger(P)
    trips: list[ClosedTrade] = []
    tr = TradeTracker(led, trips.append)
    led.on_intent(intent("micro_scalper-BTCUSDT-7"))
    led.on_order(request(ENTRY_CID, "micro_scalper-BTCUSDT-7"))
    return led, tr, trips


def exit_intent(iid: str, reason: str) -> OrderIntent:
    return OrderIntent(intent_id=iid, symbol="BTCUSDT", side=Side.SELL, notional=1.0, strategy="micro_scalper",
                       reason=reason, reduce_only=True)


def test_a_closed_trade_has_the_entry_attribution_risk_and_the_exit_kind() -> None:
    led, tr, trips = desk()
    tr.book(fill(cid=ENTRY_CID, qty=2.0, price=100.0, trade_id=5, fee=0.1))
    tr.on_intent(exit_intent("exit-BTCUSDT-t5-1", "take_profit"))
    led.on_order(request("hBBBB-0-0", "exit-BTCUSDT-t5-1", side=Side.SELL, reduce_only=True))
    tr.book(fill(cid="hBBBB-0-0", side=Side.SELL, qty=2.0, price=100.5, fee=0.1))
    (t,) = trips
    assert (t.strategy, t.entry_reason, t.key, t.exit_reason) == ("micro_scalper", "score=+0.9", "t5", "take_profit")
    assert t.risk == pytest.approx(2.0 * 0.25) and t.net_pnl == pytest.approx(0.8)
    assert t.r_multiple == pytest.approx(1.6) and tr.closed == 1


@pytest.mark.parametrize(("iid", "expected"), [
    ("exit-BTCUSDT-t5-1", "exit"),  # an exit whose intent this process never saw (a restart)
    ("pstop-BTCUSDT-t5-1", "protective_stop"),
    ("flatten-BTCUSDT-123", "flatten"),
    ("micro_scalper-BTCUSDT-9", "signal"),  # the strategy's own order reduced the position
])
def test_exit_reasons_by_intent_id(iid: str, expected: str) -> None:
    led, tr, trips = desk()
    tr.book(fill(cid=ENTRY_CID, qty=1.0, price=100.0))
    led.on_order(request("hCCCC-0-0", iid, side=Side.SELL))
    tr.book(fill(cid="hCCCC-0-0", side=Side.SELL, qty=1.0, price=100.0))
    assert trips[-1].exit_reason == expected


def test_external_and_liquidation_exits() -> None:
    _, tr, trips = desk()
    tr.book(fill(cid=ENTRY_CID, qty=1.0, price=100.0))
    tr.book(fill(cid="someone-else", side=Side.SELL, qty=0.5, price=100.0))
    assert trips == []
    tr.book(msgspec.structs.replace(fill(cid="", side=Side.SELL, qty=0.5, price=90.0), liquidation=True))
    assert trips[-1].exit_reason == "liquidation"
    tr.book(fill(cid="someone-else", qty=1.0, price=100.0))
    tr.book(fill(cid="someone-else", side=Side.SELL, qty=1.0, price=100.0))
    assert trips[-1].exit_reason == "external" and trips[-1].strategy == "external"


def test_excursions_come_from_the_levels_the_scanner_moved() -> None:
    led, tr, trips = desk()
    tr.book(fill(cid=ENTRY_CID, qty=1.0, price=100.0))
    lv = led.entries["BTCUSDT"].levels
    for px in (100.1, 99.9, 100.15, 99.8):  # the bids the scanner saw
        update(lv, px, P, trailing=True)
    assert lv.best == 100.15 and lv.worst == 99.8
    tr.book(fill(cid=ENTRY_CID, side=Side.SELL, qty=1.0, price=100.0))
    assert trips[0].mfe_bps == pytest.approx(15.0) and trips[0].mae_bps == pytest.approx(-20.0)


def test_a_duplicate_fill_is_booked_once() -> None:
    _, tr, trips = desk()
    f = fill(cid=ENTRY_CID, qty=1.0, price=100.0, trade_id=7)
    assert tr.book(f) is not None and tr.book(f) is None
    assert tr.trips.qty("BTCUSDT") == 1.0
    tr.book(fill(side=Side.SELL, qty=1.0, price=101.0))
    assert len(trips) == 1 and trips[0].qty == 1.0


def test_a_restarted_ledger_is_seeded_so_its_exit_closes_the_trade() -> None:
    led, tr, _ = desk()
    tr.book(fill(cid=ENTRY_CID, qty=1.0, price=100.0, trade_id=5, fee=0.05))
    again = Ledger(P, led.state)  # the ledger file read back by a new process
    trips: list[ClosedTrade] = []
    tr2 = TradeTracker(again, trips.append)
    assert tr2.trips.qty("BTCUSDT") == 1.0
    tr2.book(fill(side=Side.SELL, qty=1.0, price=102.0, fee=0.05))
    (t,) = trips
    assert t.side == "long" and t.key == "t5" and t.net_pnl == pytest.approx(1.9)


def test_a_position_changed_without_a_fill_is_reseeded_and_its_trade_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    led, tr, trips = desk()
    tr.book(fill(cid=ENTRY_CID, qty=1.0, price=100.0))
    led.force(Position(symbol="BTCUSDT", qty=3.0, entry_price=101.0), now_ms=9)  # drift: the exchange's word
    with caplog.at_level(logging.WARNING):
        tr.book(fill(side=Side.SELL, qty=3.0, price=102.0))
    assert "left out of the trade list" in caplog.text
    (t,) = trips
    assert t.qty == 3.0 and t.entry_price == 101.0 and t.gross_pnl == pytest.approx(3.0)
    led.force(Position(symbol="BTCUSDT", qty=0.0, entry_price=0.0), now_ms=10)
    tr.book(fill(cid=ENTRY_CID, qty=1.0, price=100.0))
    assert tr.trips.qty("BTCUSDT") == 1.0 and len(trips) == 1
