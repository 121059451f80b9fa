"""Protective stops asked for by the portfolio (feature exchange_stop_orders): one reduce-only
stop intent per position at its stop level, written ahead; a new one only when the stop moved by
the threshold from the resting one, or when the last one is not resting after the retry time."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.bus import Bus
from hedge.config import exit_profile
from hedge.events import OrderIntent, OrderStatus, Side
from hedge.model.clock import EventClock
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.protective import ProtectiveStops
from hedge.portfolio.scanner import ExitScanner
from hedge.portfolio.store import LedgerStore
from tests.unit.portfolio.helpers import book, fill, intent, request

P = exit_profile("classic")  # at E = 100: SL 99.75, breakeven from 100.20, trail 20 bps


class Rig:
    def __init__(self, path: Path) -> None:
        self.bus = Bus()
        self.clock = EventClock(1_000_000 * 1_000_000)
        self.ledger = Ledger(P)
        self.store = LedgerStore(path, self.ledger.state, clock=EventClock())
        self.fail_writes = False
        self.protect = ProtectiveStops(self.ledger.entries, min_move_bps=5.0, retry_s=3.0, publish=self.bus.publish,
                                       write_ahead=self.write_ahead, changed=self.store.mark_dirty,
                                       clock=self.clock)
        self.scanner = ExitScanner(self.ledger, P, trailing=True, retry_s=3.0, publish=self.bus.publish,
                                   write_ahead=self.write_ahead, changed=self.store.mark_dirty,
                                   clock=self.clock, protect=self.protect)
        self.bus.subscribe(type(book(1.0)), self.scanner.on_book)
        self.intents: list[OrderIntent] = []
        self.bus.subscribe(OrderIntent, self.intents.append)
        self.ledger.on_intent(intent())
        self.ledger.on_order(request("hAAAA-0-0", "micro_scalper-BTCUSDT-7"))
        self.ledger.apply_fill(fill(cid="hAAAA-0-0", qty=0.02, price=100.0, trade_id=500))

    def write_ahead(self) -> None:
        if self.fail_writes:
            raise OSError(28, "No space left on device")
        self.store.save_now()

    def stops(self) -> list[OrderIntent]:
        return [i for i in self.intents if i.stop_price > 0.0]

    def resting(self) -> None:
        self.protect.on_order_update(self.stops()[-1].intent_id, OrderStatus.NEW)


def test_one_stop_per_position_at_its_level_written_ahead(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.bus.publish(book(100.0))
    assert rig.intents == []  # not before the first reconciliation
    rig.scanner.ready = True
    rig.bus.publish(book(100.0))
    (it,) = rig.stops()
    assert it.intent_id == "pstop-BTCUSDT-t500-1" and it.side is Side.SELL and it.reduce_only and not it.urgent
    assert it.stop_price == pytest.approx(99.75) and it.notional == pytest.approx(0.02 * 99.75)
    assert LedgerStore.load(tmp_path / "l.json").entries["BTCUSDT"].stop_attempts == 1
    for _ in range(5):  # on its way: nothing more until the retry time
        rig.bus.publish(book(100.0))
    assert len(rig.stops()) == 1
    rig.resting()
    rig.clock.advance_s(10.0)
    rig.bus.publish(book(100.05))
    assert len(rig.stops()) == 1  # resting and the stop has not moved


def test_replaced_only_when_the_stop_moved_by_the_threshold(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.scanner.ready = True
    rig.bus.publish(book(100.0))
    rig.resting()
    rig.bus.publish(book(100.21))  # breakeven, then the trail (20 bps): 99.75 -> 100.00958 (26 bps)
    assert [i.stop_price for i in rig.stops()] == pytest.approx([99.75, 100.21 * (1 - 2e-3)])
    rig.resting()
    rig.bus.publish(book(100.25))  # trail 100.0495: 4 bps from the resting stop, below the 5 bps threshold
    assert len(rig.stops()) == 2
    assert rig.ledger.entries["BTCUSDT"].levels.stop == pytest.approx(100.25 * (1 - 2e-3))  # the level moved
    rig.bus.publish(book(100.27))  # trail 100.0695: 6 bps from the resting stop
    assert len(rig.stops()) == 3 and rig.stops()[-1].stop_price == pytest.approx(100.27 * (1 - 2e-3))
    assert [i.intent_id for i in rig.stops()] == [f"pstop-BTCUSDT-t500-{n}" for n in (1, 2, 3)]


def test_not_resting_is_retried_after_the_retry_time_and_a_failed_write_sends_nothing(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.scanner.ready = True
    rig.fail_writes = True
    rig.bus.publish(book(100.0))
    assert rig.stops() == [] and rig.protect.write_failures == 1
    rig.fail_writes = False
    rig.bus.publish(book(100.0))
    (first,) = rig.stops()
    rig.protect.on_order_update(first.intent_id, OrderStatus.REJECTED)  # e.g. -2021 or a veto's silence
    rig.clock.advance_s(2.0)
    rig.bus.publish(book(100.0))
    assert len(rig.stops()) == 1
    rig.clock.advance_s(1.5)
    rig.bus.publish(book(100.0))
    assert len(rig.stops()) == 2 and rig.stops()[-1].intent_id == "pstop-BTCUSDT-t500-2"
    rig.protect.sync({"pstop-BTCUSDT-t500-2"})  # reconciliation lists it: resting
    assert rig.ledger.entries["BTCUSDT"].stop_live
    rig.protect.sync(set())  # gone from the exchange
    assert not rig.ledger.entries["BTCUSDT"].stop_live
