"""Round trips from fills: by hand (open/close, scale-in, partial exits, a flip through zero with its
fee shared, R, excursions, a seeded trade), and properties against the ledger fed the same fills
(quantity conserved, the same position, PnL reconciled with the cash flows, one trade per return
to flat or crossing of zero)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.config import ExitParams
from hedge.events import ClosedTrade, Side
from hedge.portfolio.ledger import Ledger
from hedge.portfolio.round_trips import FillContext, RoundTrips
from hedge.portfolio.trade_tracker import TradeTracker
from tests.unit.portfolio.helpers import fill

CTX = FillContext(key="t1", strategy="s", entry_reason="why", risk_per_unit=0.5)


def test_open_then_close_one_trade_with_fees_and_r() -> None:
    rt = RoundTrips()
    assert rt.apply(fill(qty=1.0, price=100.0, fee=0.05, ts_ms=1_000), CTX) == []
    (t,) = rt.apply(fill(side=Side.SELL, qty=1.0, price=102.0, fee=0.05, ts_ms=61_000),
                    FillContext(exit_reason="take_profit"))
    assert (t.side, t.qty, t.entry_price, t.exit_price) == ("long", 1.0, 100.0, 102.0)
    assert t.gross_pnl == pytest.approx(2.0) and t.fees == pytest.approx(0.1) and t.net_pnl == pytest.approx(1.9)
    assert t.risk == pytest.approx(0.5) and t.r_multiple == pytest.approx(3.8)
    assert (t.opened_ms, t.closed_ms, t.ts_ms, t.fills) == (1_000, 61_000, 61_000, 2)
    assert (t.key, t.strategy, t.entry_reason, t.exit_reason) == ("t1", "s", "why", "take_profit")
    assert rt.open == {}


def test_scale_in_averages_the_entry_and_the_risk_follows_the_largest_position() -> None:
    rt = RoundTrips()
    rt.apply(fill(qty=1.0, price=100.0), CTX)
    rt.apply(fill(qty=1.0, price=102.0), FillContext(risk_per_unit=0.505))
    assert rt.open["BTCUSDT"].avg_cost == pytest.approx(101.0)
    (t,) = rt.apply(fill(side=Side.SELL, qty=2.0, price=103.0), FillContext())
    assert t.qty == 2.0 and t.max_qty == 2.0 and t.entry_price == pytest.approx(101.0)
    assert t.gross_pnl == pytest.approx(4.0) and t.risk == pytest.approx(1.01)


def test_partial_exits_stay_one_trade_and_the_last_exit_names_it() -> None:
    rt = RoundTrips()
    rt.apply(fill(qty=2.0, price=100.0), CTX)
    assert rt.apply(fill(side=Side.SELL, qty=1.0, price=101.0), FillContext(exit_reason="take_profit")) == []
    assert rt.qty("BTCUSDT") == pytest.approx(1.0)
    (t,) = rt.apply(fill(side=Side.SELL, qty=1.0, price=99.0), FillContext(exit_reason="stop_loss"))
    assert t.gross_pnl == pytest.approx(0.0) and t.exit_price == pytest.approx(100.0) and t.qty == 2.0
    assert t.exit_reason == "stop_loss" and t.fills == 3


def test_a_flip_through_zero_is_a_close_and_an_open_sharing_the_fee() -> None:
    rt = RoundTrips()
    rt.apply(fill(qty=1.0, price=100.0, fee=0.1, ts_ms=1), CTX)
    (first,) = rt.apply(fill(side=Side.SELL, qty=3.0, price=110.0, fee=0.3, ts_ms=2),
                        FillContext(key="t2", entry_reason="reverse", exit_reason="signal"))
    assert first.side == "long" and first.qty == 1.0 and first.gross_pnl == pytest.approx(10.0)
    assert first.fees == pytest.approx(0.2) and first.net_pnl == pytest.approx(9.8)
    short = rt.open["BTCUSDT"]
    assert short.qty == pytest.approx(-2.0) and short.avg_cost == 110.0 and short.fees == pytest.approx(0.2)
    assert (short.key, short.entry_reason, short.opened_ms) == ("t2", "reverse", 2)
    (second,) = rt.apply(fill(side=Side.BUY, qty=2.0, price=105.0, fee=0.2, ts_ms=3), FillContext())
    assert second.side == "short" and second.qty == 2.0 and second.gross_pnl == pytest.approx(10.0)
    assert second.fees == pytest.approx(0.4) and second.opened_ms == 2


def test_excursions_in_bps_from_the_average_entry_and_r_blank_without_a_stop() -> None:
    rt = RoundTrips()
    rt.apply(fill(qty=1.0, price=100.0), FillContext())
    (t,) = rt.apply(fill(side=Side.SELL, qty=1.0, price=101.0), FillContext(best=104.0, worst=98.0))
    assert t.mfe_bps == pytest.approx(400.0) and t.mae_bps == pytest.approx(-200.0)
    assert t.risk == 0.0 and t.r_multiple is None
    rt.apply(fill(side=Side.SELL, qty=1.0, price=100.0), FillContext())
    (s,) = rt.apply(fill(side=Side.BUY, qty=1.0, price=99.0), FillContext(best=97.0, worst=100.5))
    assert s.side == "short" and s.mfe_bps == pytest.approx(300.0) and s.mae_bps == pytest.approx(-50.0)


def test_a_seeded_trade_carries_what_was_realized_before_the_restart() -> None:
    rt = RoundTrips()
    rt.seed("BTCUSDT", -2.0, 100.0, FillContext(key="t9", risk_per_unit=0.25), opened_ms=5, realized=1.0, fees=0.1)
    (t,) = rt.apply(fill(side=Side.BUY, qty=2.0, price=99.0, fee=0.1), FillContext())
    assert t.side == "short" and t.gross_pnl == pytest.approx(3.0) and t.fees == pytest.approx(0.2)
    assert t.key == "t9" and t.risk == pytest.approx(0.5) and t.opened_ms == 5


# ------------------------------------------------------------------ properties

UNIT = 0.001
fills_st = st.lists(
    st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 20), st.integers(9_000, 11_000),
              st.integers(0, 100)),
    min_size=1, max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(fills_st, st.integers(9_000, 11_000))
def test_trades_reconcile_with_the_ledger_and_the_cash_flows(
    seq: list[tuple[Side, int, int, int]], mark_cents: int
) -> None:
    ledger = Ledger(ExitParams())
    trips: list[ClosedTrade] = []
    tracker = TradeTracker(ledger, trips.append)
    cash = fees = traded = ledger_closed = 0.0
    pos = 0  # in units
    crossings = 0
    for i, (side, units, cents, fee_bp) in enumerate(seq):
        qty, price = units * UNIT, cents / 100.0
        fee = qty * price * fee_bp * 1e-6
        before = ledger.entries.get("BTCUSDT")
        tracker.book(fill(side=side, qty=qty, price=price, fee=fee, trade_id=i + 1, ts_ms=i))
        if before is not None and ledger.entries.get("BTCUSDT") is not before:  # the ledger closed that entry
            ledger_closed += before.realized_pnl
        cash -= side.sign * qty * price
        fees += fee
        traded += qty
        new = pos + side.sign * units
        crossings += pos != 0 and (new == 0 or (new > 0) != (pos > 0))
        pos = new
        # the builder holds exactly the ledger's position, at the ledger's average entry
        assert tracker.trips.qty("BTCUSDT") == pytest.approx(ledger.qty("BTCUSDT"), abs=1e-12)
        if pos:
            assert tracker.trips.open["BTCUSDT"].avg_cost == pytest.approx(ledger.entries["BTCUSDT"].entry_price)
    mark = mark_cents / 100.0
    open_t = tracker.trips.open.get("BTCUSDT")
    assert len(trips) == crossings  # one trade per return to flat or crossing of zero
    assert (open_t is None) == (pos == 0)
    # quantity: every fill's quantity is one trade's entry or exit (a flip's split between two)
    assert 2 * sum(t.qty for t in trips) + (open_t.entry_qty + open_t.exit_qty if open_t else 0.0) == pytest.approx(
        traded)
    # gross PnL: what the ledger realized on the entries it closed, and on the one still open
    assert sum(t.gross_pnl for t in trips) == pytest.approx(ledger_closed, abs=1e-9)
    if open_t is not None:
        assert open_t.gross == pytest.approx(ledger.entries["BTCUSDT"].realized_pnl, abs=1e-9)
    # fees: all of them, once
    assert sum(t.fees for t in trips) + (open_t.fees if open_t else 0.0) == pytest.approx(fees, abs=1e-9)
    # PnL: closed trades' net + the open trade's realized, unrealized and fees == the cash flows marked
    open_pnl = open_t.gross - open_t.fees + open_t.unrealized(mark) if open_t else 0.0
    assert sum(t.net_pnl for t in trips) + open_pnl == pytest.approx(cash - fees + pos * UNIT * mark, abs=1e-6)
    for t in trips:
        assert t.net_pnl == pytest.approx(t.gross_pnl - t.fees) and t.fees >= 0.0 and t.qty > 0.0
        assert 0.0 < t.max_qty <= t.qty + 1e-12  # entered in total >= ever held at once
        assert t.closed_ms >= t.opened_ms and t.mfe_bps >= 0.0 >= t.mae_bps
