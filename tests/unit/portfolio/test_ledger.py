"""The ledger from fills: attribution to the strategy through client order id -> intent, average
entry, realized PnL, flips, duplicates, adoption and the exchange's word; the durable file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hedge.config import exit_profile
from hedge.events import Position, Side
from hedge.model.clock import EventClock
from hedge.portfolio.exits import ExitKind, update
from hedge.portfolio.ledger import EXTERNAL, Ledger
from hedge.portfolio.store import LedgerStore
from tests.kit.wait import wait_for
from tests.unit.portfolio.helpers import fill, intent, request

P = exit_profile("classic")


def tagged() -> Ledger:
    led = Ledger(P)
    led.on_intent(intent("micro_scalper-BTCUSDT-7"))
    led.on_order(request("hAAAA-0-0", "micro_scalper-BTCUSDT-7"))
    return led


def test_a_fill_opens_an_attributed_entry_with_levels() -> None:
    led = tagged()
    line = led.apply_fill(fill(cid="hAAAA-0-0", price=100.0, qty=0.01, trade_id=5, ts_ms=42))
    assert line is not None and line.qty == 0.01 and line.entry_price == 100.0
    assert line.strategy == "micro_scalper" and line.tp_price == pytest.approx(100.5)
    assert line.sl_price == pytest.approx(99.75) and line.opened_ms == 42
    e = led.entries["BTCUSDT"]
    assert e.key == "t5" and e.reason == "score=+0.9" and not e.external


def test_growing_averages_the_entry_shrinking_realizes_pnl_and_zero_closes() -> None:
    led = tagged()
    led.apply_fill(fill(cid="hAAAA-0-0", price=100.0, qty=0.01))
    line = led.apply_fill(fill(cid="hAAAA-0-0", price=102.0, qty=0.03))
    assert line is not None and line.qty == pytest.approx(0.04) and line.entry_price == pytest.approx(101.5)
    line = led.apply_fill(fill(side=Side.SELL, price=103.0, qty=0.01))
    assert line is not None and line.qty == pytest.approx(0.03) and line.realized_pnl == pytest.approx(0.015)
    line = led.apply_fill(fill(side=Side.SELL, price=101.0, qty=0.03))
    assert line is not None and line.qty == 0.0 and line.realized_pnl == pytest.approx(0.015 - 0.015)
    assert "BTCUSDT" not in led.entries


def test_a_fill_through_zero_opens_the_remainder_short_at_the_fill_price() -> None:
    led = tagged()
    led.apply_fill(fill(cid="hAAAA-0-0", price=100.0, qty=0.01))
    line = led.apply_fill(fill(side=Side.SELL, price=99.0, qty=0.03, trade_id=77))
    assert line is not None and line.qty == pytest.approx(-0.02) and line.entry_price == 99.0
    e = led.entries["BTCUSDT"]
    assert e.levels.sign == -1 and e.levels.stop == pytest.approx(99.2475) and e.key == "t77"


def test_the_same_trade_is_applied_once() -> None:
    led = tagged()
    f = fill(cid="hAAAA-0-0", trade_id=9)
    assert led.apply_fill(f) is not None
    assert led.apply_fill(f) is None and led.qty("BTCUSDT") == 0.01


def test_fills_of_unknown_orders_are_external() -> None:
    led = Ledger(P)
    led.apply_fill(fill(cid="web_manual_1"))
    e = led.entries["BTCUSDT"]
    assert e.external and e.strategy == EXTERNAL


def test_adopt_and_force_take_the_exchanges_word() -> None:
    led = tagged()
    line = led.adopt(Position(symbol="ETHUSDT", qty=-2.0, entry_price=2000.0), 5)
    assert line.qty == -2.0 and line.strategy == EXTERNAL and line.tp_price == pytest.approx(1990.0)
    led.apply_fill(fill(cid="hAAAA-0-0", qty=0.01))
    line = led.force(Position(symbol="BTCUSDT", qty=0.02, entry_price=101.0), 6)
    assert line.qty == 0.02 and line.entry_price == 101.0 and line.strategy == "micro_scalper"
    line = led.force(Position(symbol="BTCUSDT", qty=0.0, entry_price=0.0), 7)
    assert line.qty == 0.0 and "BTCUSDT" not in led.entries


def test_missing_levels_are_flagged() -> None:
    led = Ledger(exit_profile("classic", sl_pct=0.0))
    led.apply_fill(fill())
    assert led.missing_levels() == ["BTCUSDT"]
    assert Ledger(P).missing_levels() == []


def test_the_store_round_trips_everything_the_ledger_needs(tmp_path: Path) -> None:
    path = tmp_path / "state" / "portfolio_ledger.json"
    led = tagged()
    led.apply_fill(fill(cid="hAAAA-0-0", price=100.0, trade_id=11, ts_ms=500))
    update(led.entries["BTCUSDT"].levels, 100.4, P, True)
    led.on_exchange_id("hAAAA-0-0", 31337)
    store = LedgerStore(path, led.state, clock=EventClock())
    store.save_now()
    again = Ledger(P, LedgerStore.load(path))
    e = again.entries["BTCUSDT"]
    assert e.levels.stop == pytest.approx(100.1992) and e.levels.stop_kind is ExitKind.TRAILING
    assert e.strategy == "micro_scalper" and again.knows_order("hAAAA-0-0")
    assert again.apply_fill(fill(trade_id=11)) is None  # applied before the restart
    assert again.state.last_fill_ms == {"BTCUSDT": 500} and again.state.order_ids == {31337: "hAAAA-0-0"}
    assert not [p for p in os.listdir(path.parent) if p.endswith(".tmp")]


def test_a_missing_file_is_an_empty_ledger_and_a_corrupt_one_is_named(tmp_path: Path) -> None:
    assert LedgerStore.load(tmp_path / "none.json").entries == {}
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"entries": [1')
    with pytest.raises(ValueError, match=r"bad\.json"):
        LedgerStore.load(bad)


async def test_coalesced_writes_land_and_an_older_snapshot_never_wins(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "l.json"
    led = tagged()
    store = LedgerStore(path, led.state, clock=EventClock(), interval_s=0.01)
    task = asyncio.create_task(store.run())
    try:
        led.apply_fill(fill(cid="hAAAA-0-0"))
        store.mark_dirty()
        await wait_for(path.exists, what="the coalesced write")
        assert LedgerStore.load(path).entries["BTCUSDT"].qty == 0.01
        stale = store._next()
        assert stale is not None
        led.apply_fill(fill(cid="hAAAA-0-0"))
        store.save_now()
        store._write(*stale)  # a slow worker finishing late must not roll the file back
        assert LedgerStore.load(path).entries["BTCUSDT"].qty == pytest.approx(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_a_fill_with_only_the_exchange_order_id_is_attributed_through_it() -> None:
    led = tagged()
    assert led.on_exchange_id("hAAAA-0-0", 4242) and not led.on_exchange_id("hAAAA-0-0", 4242)
    assert not led.on_exchange_id("unknown", 1)  # only tagged orders are mapped
    from msgspec.structs import replace

    led.apply_fill(replace(fill(cid=""), exchange_order_id=4242))
    e = led.entries["BTCUSDT"]
    assert e.strategy == "micro_scalper" and not e.external
    led2 = Ledger(P)
    led2.apply_fill(replace(fill(cid=""), exchange_order_id=4242))
    assert led2.entries["BTCUSDT"].external
