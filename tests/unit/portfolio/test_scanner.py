"""The exit scanner on a real Bus: exit intents (reduce-only, urgent for stops, sized to the
position), nothing before the first reconciliation, one live exit per position, write-ahead of
the attempt number, deterministic ids that a restart continues instead of reusing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.bus import Bus
from hedge.config import exit_profile
from hedge.events import LedgerPosition, OrderIntent, OrderStatus, OrderUpdate, Side
from hedge.model.clock import EventClock
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.scanner import ExitScanner
from hedge.portfolio.store import LedgerStore
from tests.unit.portfolio.helpers import book, fill, intent, request

P = exit_profile("classic")


class Rig:
    def __init__(self, path: Path, ledger: Ledger | None = None) -> None:
        self.bus = Bus()
        self.clock = EventClock(1_000_000 * 1_000_000)
        self.ledger = ledger or Ledger(P)
        self.store = LedgerStore(path, self.ledger.state, clock=EventClock())
        self.fail_writes = False
        self.scanner = ExitScanner(self.ledger, P, trailing=True, retry_s=3.0, publish=self.bus.publish,
                                   write_ahead=self.write_ahead, changed=self.store.mark_dirty,
                                   clock=self.clock)
        self.scanner.ready = True
        self.bus.subscribe(type(book(1.0)), self.scanner.on_book)
        self.intents: list[OrderIntent] = []
        self.lines: list[LedgerPosition] = []
        self.bus.subscribe(OrderIntent, self.intents.append)
        self.bus.subscribe(LedgerPosition, self.lines.append)

    def write_ahead(self) -> None:
        if self.fail_writes:
            raise OSError(28, "No space left on device")
        self.store.save_now()

    def long(self, qty: float = 0.01, price: float = 100.0) -> None:
        self.ledger.on_intent(intent())
        self.ledger.on_order(request("hAAAA-0-0", "micro_scalper-BTCUSDT-7"))
        self.ledger.apply_fill(fill(cid="hAAAA-0-0", qty=qty, price=price, trade_id=500))


def test_take_profit_is_a_maker_first_reduce_only_exit_of_the_whole_position(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.long(qty=0.03)
    rig.bus.publish(book(100.3))
    assert rig.intents == []
    rig.bus.publish(book(100.5, update_id=9, ts_ms=77))
    (it,) = rig.intents
    assert it.intent_id == "exit-BTCUSDT-t500-1" and it.side is Side.SELL and it.reduce_only and not it.urgent
    assert it.reason == "take_profit" and it.strategy == "micro_scalper" and it.limit_px == 100.5
    assert it.notional == pytest.approx(0.03 * 100.5) and it.notional >= 0.03 * 100.5 and it.ts_ms == 77
    assert LedgerStore.load(tmp_path / "l.json").entries["BTCUSDT"].exit_attempts == 1  # written ahead


def test_stops_are_urgent_and_a_short_exits_by_buying(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.ledger.apply_fill(fill(side=Side.SELL, price=100.0, cid="x", trade_id=1))
    rig.bus.publish(book(100.3, spread=0.02))  # ask 100.31 >= stop 100.25
    (it,) = rig.intents
    assert it.side is Side.BUY and it.urgent and it.reason == "stop_loss" and it.limit_px == pytest.approx(100.31)


def test_nothing_is_asked_before_the_first_reconciliation(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.scanner.ready = False
    rig.long()
    rig.bus.publish(book(99.0))
    assert rig.intents == []
    rig.scanner.ready = True
    rig.bus.publish(book(99.0))
    assert len(rig.intents) == 1


def test_one_live_exit_per_position_and_a_retry_only_after_silence(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.long()
    rig.bus.publish(book(99.0))
    first = rig.intents[-1].intent_id
    rig.ledger.on_order(request("hBBBB-0-0", first, side=Side.SELL, reduce_only=True))
    rig.scanner.on_order("hBBBB-0-0", first)
    rig.clock.advance_s(60.0)
    rig.bus.publish(book(99.0))
    assert len(rig.intents) == 1  # its order is working: no second exit, however long
    rig.scanner.on_order_update(
        OrderUpdate(client_order_id="hBBBB-0-0", symbol="BTCUSDT", status=OrderStatus.EXPIRED, side=Side.SELL), first
    )
    rig.clock.advance_s(2.999)
    rig.bus.publish(book(99.0))
    assert len(rig.intents) == 1  # done, but not silent for exit_retry_s yet
    rig.clock.advance_s(0.001)
    rig.bus.publish(book(99.0))
    assert [i.intent_id for i in rig.intents] == [first, "exit-BTCUSDT-t500-2"]


def test_no_exit_when_the_attempt_cannot_be_written_ahead(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.long()
    rig.fail_writes = True
    rig.bus.publish(book(99.0))
    assert rig.intents == [] and rig.scanner.write_failures == 1
    assert rig.ledger.entries["BTCUSDT"].exit_attempts == 0
    rig.fail_writes = False
    rig.bus.publish(book(99.0))
    assert [i.intent_id for i in rig.intents] == ["exit-BTCUSDT-t500-1"]


def test_a_restart_continues_the_attempt_numbers_and_respects_the_live_attempt(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    rig = Rig(path)
    rig.long()
    rig.bus.publish(book(99.0))
    assert [i.intent_id for i in rig.intents] == ["exit-BTCUSDT-t500-1"]
    # crash: a new process loads the file written ahead of the intent
    again = Rig(path, Ledger(P, LedgerStore.load(path)))
    again.clock.advance_to_ns(rig.clock.now_ns() + 1_000 * 1_000_000)
    again.bus.publish(book(99.0))
    assert again.intents == []  # the first attempt is still live (within exit_retry_s)
    again.clock.advance_s(3.0)
    again.bus.publish(book(99.0))
    assert [i.intent_id for i in again.intents] == ["exit-BTCUSDT-t500-2"]


def test_a_ratcheting_stop_publishes_the_ledger_line_and_marks_the_store(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.long()
    rig.bus.publish(book(100.1))
    assert rig.lines == []  # nothing moved: nothing published
    rig.bus.publish(book(100.4))
    assert rig.lines[-1].sl_price == pytest.approx(100.1992) and rig.lines[-1].trail_price == pytest.approx(100.1992)
    assert rig.store._dirty.is_set()


def test_books_of_other_symbols_and_invalid_books_are_ignored(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.long()
    rig.bus.publish(book(50.0, symbol="ETHUSDT"))
    from msgspec.structs import replace

    rig.bus.publish(replace(book(50.0), valid=False))
    assert rig.intents == [] and rig.lines == []


def test_a_missed_final_update_is_healed_by_the_exchanges_open_orders(tmp_path: Path) -> None:
    rig = Rig(tmp_path / "l.json")
    rig.long()
    rig.bus.publish(book(99.0))
    first = rig.intents[-1].intent_id
    rig.scanner.on_order("hBBBB-0-0", first)
    rig.clock.advance_s(60.0)
    rig.scanner.sync_working({"hBBBB-0-0": first, "hOTHER-0-0": "micro_scalper-BTCUSDT-9"})
    rig.bus.publish(book(99.0))
    assert len(rig.intents) == 1  # the exchange still lists it: still working
    rig.scanner.sync_working({})  # gone from the exchange (its CANCELED never reached us)
    rig.bus.publish(book(99.0))
    assert [i.intent_id for i in rig.intents] == [first, "exit-BTCUSDT-t500-2"]
