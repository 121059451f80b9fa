"""``compare``: missed fills applied first (once), external orders tagged, an explicit zero is flat,
an unreported symbol is a mismatch, never a zero."""

from __future__ import annotations

from hedge.config import exit_profile
from hedge.events import OrderStatus, OrderUpdate, Position, Side
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.reconcile import ENGINE_ORDER_ID, Snapshot, compare
from hedge.router.lifecycle import client_order_id
from tests.unit.portfolio.helpers import fill

SYMS = ["BTCUSDT", "ETHUSDT"]


def snap(positions: list[Position], orders: list[OrderUpdate] | None = None, fills: list | None = None) -> Snapshot:  # type: ignore[type-arg]
    return Snapshot(positions={p.symbol: p for p in positions}, open_orders=orders or [], fills=fills or [])


def flat(sym: str) -> Position:
    return Position(symbol=sym, qty=0.0, entry_price=0.0)


def test_agreement_and_an_explicit_zero() -> None:
    led = Ledger(exit_profile("classic"))
    out = compare(led, snap([flat("BTCUSDT"), flat("ETHUSDT")]), SYMS, 1e-9)
    assert out.agreed == SYMS and out.mismatches == []


def test_missed_fills_explain_the_exchange_position_and_apply_once() -> None:
    led = Ledger(exit_profile("classic"))
    fills = [fill(qty=0.01, trade_id=1), fill(qty=0.02, trade_id=2)]
    s = snap([Position(symbol="BTCUSDT", qty=0.03, entry_price=100.0), flat("ETHUSDT")], fills=fills)
    out = compare(led, s, SYMS, 1e-9)
    assert out.fills_replayed == 2 and out.mismatches == [] and "BTCUSDT" in out.agreed
    again = compare(led, s, SYMS, 1e-9)
    assert again.fills_replayed == 0 and led.qty("BTCUSDT") == 0.03


def test_differences_and_unreported_symbols_are_mismatches() -> None:
    led = Ledger(exit_profile("classic"))
    led.apply_fill(fill(symbol="BTCUSDT", qty=0.02, trade_id=5))
    led.apply_fill(fill(symbol="ETHUSDT", side=Side.SELL, qty=1.0, trade_id=6))
    out = compare(led, snap([Position(symbol="BTCUSDT", qty=0.01, entry_price=99.0)]), SYMS, 1e-9)
    by = {m.symbol: m for m in out.mismatches}
    assert by["BTCUSDT"].reported and by["BTCUSDT"].exchange_qty == 0.01 and by["BTCUSDT"].exchange_entry == 99.0
    assert not by["ETHUSDT"].reported and by["ETHUSDT"].local_qty == -1.0
    assert led.qty("ETHUSDT") == -1.0  # compare never changes a quantity on its own


def test_open_orders_not_sent_by_hedge_are_tagged_external_once() -> None:
    led = Ledger(exit_profile("classic"))
    ours = client_order_id("micro_scalper-BTCUSDT-1", 0, 0)
    assert ENGINE_ORDER_ID.match(ours)  # the router's id format is recognised
    orders = [OrderUpdate(client_order_id=c, symbol="BTCUSDT", status=OrderStatus.NEW, side=Side.BUY, qty=0.01)
              for c in (ours, "web_123", "android_9")]
    out = compare(led, snap([flat("BTCUSDT"), flat("ETHUSDT")], orders), SYMS, 1e-9)
    assert [o.client_order_id for o in out.adopted_orders] == ["web_123", "android_9"]
    assert compare(led, snap([flat("BTCUSDT"), flat("ETHUSDT")], orders), SYMS, 1e-9).adopted_orders == []
    led.apply_fill(fill(cid="web_123", trade_id=77))
    assert led.entries["BTCUSDT"].external
