"""Conditional orders in the matching engine: STOP_MARKET / TAKE_PROFIT_MARKET, mark vs last price,
reduce-only and closePosition semantics, -2021, cancel-all."""

from __future__ import annotations

import pytest

from hedge.exchange.matching import MatchingEngine
from hedge.exchange.orders import NewOrder
from tests.unit.exchange.test_matching import code, make, req


def long_position(eng: MatchingEngine, qty: float = 1.0) -> None:
    eng.place("a", req(type="MARKET", quantity=qty, price=0.0))
    eng.on_depth("TESTUSDT", [], [(100.1, 5.0)])  # the taken liquidity comes back


def stop(**kw: object) -> NewOrder:
    return req(**{"type": "STOP_MARKET", "side": "SELL", "price": 0.0, "quantity": 1.0, "stop_price": 99.5,
                  "reduce_only": True, **kw})


def test_stop_rests_untriggered_then_fires_on_the_mark_as_a_market_order() -> None:
    eng, ev = make()
    long_position(eng)
    eng.on_mark("TESTUSDT", 100.0)
    o = eng.place("a", stop(working_type="MARK_PRICE"))
    assert o.status == "NEW" and o.type == "STOP_MARKET" and o.filled == 0.0
    assert o in eng.open_orders("a", "TESTUSDT")
    eng.on_trade("TESTUSDT", 99.0, 1.0, buyer_is_maker=True)  # last price through: a mark stop ignores it
    assert o.status == "NEW"
    eng.on_mark("TESTUSDT", 99.6)
    assert o.status == "NEW"
    eng.on_mark("TESTUSDT", 99.5)  # crosses (<=): executes against the bids as a taker
    assert o.status == "FILLED" and o.type == "MARKET" and o.orig_type == "STOP_MARKET"
    assert o.avg_price == pytest.approx(100.0)  # the book's best bid (the book did not move)
    assert eng.accounts["a"].position("TESTUSDT").amount == pytest.approx(0.0)
    assert [x[1] for x in ev.orders if x[0] == o.order_id] == ["NEW", "NEW", "TRADE"]


def test_contract_price_stop_fires_on_the_last_trade_not_the_mark() -> None:
    eng, _ = make()
    long_position(eng)
    eng.on_trade("TESTUSDT", 100.0, 0.1, buyer_is_maker=False)
    o = eng.place("a", stop())  # CONTRACT_PRICE is the default
    eng.on_mark("TESTUSDT", 99.0)
    assert o.status == "NEW"
    eng.on_trade("TESTUSDT", 99.4, 0.1, buyer_is_maker=True)
    assert o.status == "FILLED"


def test_buy_stop_and_take_profit_directions() -> None:
    eng, _ = make()
    eng.place("a", req(side="SELL", type="MARKET", quantity=1.0, price=0.0))  # short 1
    eng.on_mark("TESTUSDT", 100.0)
    sl = eng.place("a", stop(side="BUY", stop_price=101.0, working_type="MARK_PRICE"))
    tp = eng.place("a", stop(side="BUY", type="TAKE_PROFIT_MARKET", stop_price=99.0, working_type="MARK_PRICE"))
    eng.on_mark("TESTUSDT", 100.9)
    assert sl.status == tp.status == "NEW"
    eng.on_mark("TESTUSDT", 98.9)  # the take-profit of a short fires when the price falls
    assert tp.status == "FILLED" and sl.status == "NEW"
    assert eng.accounts["a"].position("TESTUSDT").amount == pytest.approx(0.0)
    eng.on_mark("TESTUSDT", 101.5)  # nothing left to close: the reduce-only stop expires, opens nothing
    assert sl.status == "EXPIRED" and sl.filled == 0.0
    assert eng.accounts["a"].position("TESTUSDT").amount == pytest.approx(0.0)


def test_would_immediately_trigger_is_refused() -> None:
    eng, _ = make()
    long_position(eng)
    eng.on_mark("TESTUSDT", 100.0)
    assert code(eng, stop(stop_price=100.0, working_type="MARK_PRICE")) == -2021
    assert code(eng, stop(stop_price=100.5, working_type="MARK_PRICE")) == -2021
    assert code(eng, stop(type="TAKE_PROFIT_MARKET", stop_price=99.5, working_type="MARK_PRICE")) == -2021
    assert code(eng, stop(stop_price=99.55)) == -4014  # not on the tick
    assert eng.open_orders("a") == []


def test_reduce_only_stop_never_flips_and_close_position_takes_the_whole_position() -> None:
    eng, _ = make()
    long_position(eng, 0.4)
    eng.on_mark("TESTUSDT", 100.0)
    big = eng.place("a", stop(quantity=1.0, working_type="MARK_PRICE"))
    eng.on_mark("TESTUSDT", 99.0)
    assert big.filled == pytest.approx(0.4) and big.status == "EXPIRED"
    assert eng.accounts["a"].position("TESTUSDT").amount == pytest.approx(0.0)
    eng.on_depth("TESTUSDT", [(100.0, 5.0)], [(100.1, 5.0)])
    eng.on_mark("TESTUSDT", 100.0)
    long_position(eng, 0.7)
    assert code(eng, stop(quantity=0.7, reduce_only=False, close_position=True)) == -1106  # no quantity
    cp = eng.place("a", stop(quantity=0.0, reduce_only=False, close_position=True, working_type="MARK_PRICE"))
    assert cp.quantity == 0.0 and eng.order_margin(cp) == 0.0
    eng.on_mark("TESTUSDT", 99.2)
    assert cp.status == "FILLED" and cp.filled == pytest.approx(0.7)
    assert eng.accounts["a"].position("TESTUSDT").amount == pytest.approx(0.0)


def test_stop_without_position_rests_and_expires_at_trigger() -> None:
    eng, ev = make()
    eng.on_mark("TESTUSDT", 100.0)
    o = eng.place("a", stop(working_type="MARK_PRICE"))  # accepted: the position is judged at trigger
    eng.on_mark("TESTUSDT", 99.0)
    assert o.status == "EXPIRED" and eng.accounts["a"].fills == []
    assert [x[1] for x in ev.orders if x[0] == o.order_id] == ["NEW", "EXPIRED"]


def test_cancel_and_cancel_all_remove_stops() -> None:
    eng, _ = make()
    long_position(eng)
    eng.on_mark("TESTUSDT", 100.0)
    a = eng.place("a", stop(working_type="MARK_PRICE", client_order_id="s1"))
    b = eng.place("a", stop(stop_price=99.0, working_type="MARK_PRICE"))
    assert eng.cancel("a", "TESTUSDT", None, "s1").status == "CANCELED"
    assert eng.cancel_all("a", "TESTUSDT") == [b] and b.status == "CANCELED"
    eng.on_mark("TESTUSDT", 98.0)
    assert a.filled == b.filled == 0.0
    assert eng.accounts["a"].position("TESTUSDT").amount == pytest.approx(1.0)


def test_stop_untouched_by_the_position_closing_elsewhere() -> None:
    """A resting stop survives its position closing by another order (Binance keeps conditional
    orders; the portfolio cancels its own) and then expires harmlessly if it ever fires."""
    eng, _ = make()
    long_position(eng)
    eng.on_mark("TESTUSDT", 100.0)
    o = eng.place("a", stop(working_type="MARK_PRICE"))
    eng.place("a", req(side="SELL", type="MARKET", quantity=1.0, price=0.0))
    assert o.status == "NEW"
    eng.on_mark("TESTUSDT", 99.0)
    assert o.status == "EXPIRED"
