"""Matching engine of the local exchange: takers, the queue estimate, fees, PnL, margin, reduce-only."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.exchange.accounts import Account
from hedge.exchange.errors import Reject
from hedge.exchange.matching import MatchingEngine
from hedge.exchange.orders import ExecType, Execution, NewOrder, Order
from hedge.exchange.symbols import SymbolSpec

SPEC = SymbolSpec(
    symbol="TESTUSDT",
    tick=0.1,
    step=0.001,
    min_price=0.1,
    max_price=1_000_000,
    min_qty=0.001,
    max_qty=1000,
    market_min_qty=0.001,
    market_max_qty=1000,
    max_num_orders=200,
    min_notional=5.0,
    min_notional_text="5",
    mult_up=1.05,
    mult_down=0.95,
    price_decimals=1,
    qty_decimals=3,
    price_precision=2,
    qty_precision=3,
)
MAKER, TAKER = 0.0002, 0.0005


class Events:
    def __init__(self) -> None:
        self.orders: list[tuple[int, ExecType, str]] = []
        self.balances: list[str] = []

    def on_order(self, account: Account, order: Order, exec_type: ExecType, fill: Execution | None) -> None:
        self.orders.append((order.order_id, exec_type, order.status))

    def on_balance(self, account: Account, reason: str, symbols: list[str]) -> None:
        self.balances.append(reason)


def make(balance: float = 10_000.0) -> tuple[MatchingEngine, Events]:
    ev = Events()
    eng = MatchingEngine({"TESTUSDT": SPEC}, clock=lambda: 1_000, maker_fee=MAKER, taker_fee=TAKER, listener=ev)
    eng.add_account("a", balance)
    eng.on_snapshot(
        "TESTUSDT",
        bids=[(100.0, 1.0), (99.9, 2.0), (99.8, 3.0)],
        asks=[(100.1, 1.0), (100.2, 2.0), (100.3, 3.0)],
    )
    return eng, ev


def req(**kw: Any) -> NewOrder:
    base: dict[str, Any] = {"symbol": "TESTUSDT", "side": "BUY", "type": "LIMIT", "quantity": 0.5, "price": 99.9}
    return NewOrder(**{**base, **kw})


def code(eng: MatchingEngine, r: NewOrder) -> int:
    with pytest.raises(Reject) as e:
        eng.place("a", r)
    return e.value.code


def test_taker_walks_the_book_and_takes_liquidity() -> None:
    eng, ev = make()
    o = eng.place("a", req(type="MARKET", quantity=2.0, price=0.0))
    assert o.status == "FILLED"
    assert o.avg_price == pytest.approx((100.1 * 1.0 + 100.2 * 1.0) / 2)
    fills = eng.accounts["a"].fills
    assert [(f.price, f.qty, f.maker) for f in fills] == [(100.1, 1.0, False), (100.2, 1.0, False)]
    assert eng.accounts["a"].wallet == pytest.approx(10_000 - (100.1 + 100.2) * TAKER)
    # the liquidity taken is gone for the next taker until the market updates the level
    o2 = eng.place("a", req(type="LIMIT", time_in_force="IOC", quantity=2.0, price=100.2))
    assert o2.filled == pytest.approx(1.0) and o2.status == "EXPIRED"
    eng.on_depth("TESTUSDT", [], [(100.2, 5.0)])
    o3 = eng.place("a", req(type="LIMIT", time_in_force="IOC", quantity=2.0, price=100.2))
    assert o3.filled == pytest.approx(2.0)
    assert [x[1] for x in ev.orders if x[0] == o2.order_id] == ["NEW", "TRADE", "EXPIRED"]


def test_post_only_and_fok() -> None:
    eng, _ = make()
    assert code(eng, req(time_in_force="GTX", price=100.1)) == -5022
    assert code(eng, req(time_in_force="FOK", price=100.2, quantity=3.5)) == -5021
    o = eng.place("a", req(time_in_force="GTX", price=100.0, quantity=0.5))
    assert o.status == "NEW" and o.queue_ahead == pytest.approx(1.0)
    assert eng.accounts["a"].fills == []


def test_queue_estimate_trades_at_price_fill_after_queue() -> None:
    eng, _ = make()
    o = eng.place("a", req(price=100.0, quantity=0.5, time_in_force="GTX"))
    eng.on_trade("TESTUSDT", 100.0, 0.6, buyer_is_maker=True)
    assert o.filled == 0 and o.queue_ahead == pytest.approx(0.4)
    eng.on_trade("TESTUSDT", 100.0, 0.6, buyer_is_maker=False)  # a buyer lifting asks: not our side
    assert o.filled == 0
    eng.on_trade("TESTUSDT", 100.0, 0.6, buyer_is_maker=True)
    assert o.filled == pytest.approx(0.2) and o.status == "PARTIALLY_FILLED"
    f = eng.accounts["a"].fills[-1]
    assert f.maker and f.price == 100.0 and f.commission == pytest.approx(0.2 * 100.0 * MAKER)


def test_queue_shrinks_with_the_level_and_trade_through_fills() -> None:
    eng, _ = make()
    o = eng.place("a", req(price=99.9, quantity=0.5))
    assert o.queue_ahead == pytest.approx(2.0)
    eng.on_depth("TESTUSDT", [(99.9, 0.7)], [])  # cancels ahead of us
    assert o.queue_ahead == pytest.approx(0.7)
    eng.on_depth("TESTUSDT", [(99.9, 1.5)], [])  # joins behind us: queue ahead unchanged
    assert o.queue_ahead == pytest.approx(0.7)
    eng.on_trade("TESTUSDT", 99.8, 0.01, buyer_is_maker=True)  # trade through our price
    assert o.status == "FILLED" and o.avg_price == 99.9


def test_book_moving_through_a_resting_order_fills_it() -> None:
    eng, _ = make()
    o = eng.place("a", req(side="SELL", price=100.3, quantity=0.5))
    # bids appear at and above our ask: 0.2 of them fill us (maker, at our price), then 1.0 more
    eng.on_depth("TESTUSDT", [(100.3, 0.2)], [(100.1, 0), (100.2, 0), (100.3, 0), (100.4, 1.0)])
    assert o.filled == pytest.approx(0.2) and o.status == "PARTIALLY_FILLED"
    f = eng.accounts["a"].fills[-1]
    assert f.maker and f.price == 100.3
    eng.on_depth("TESTUSDT", [(100.35, 0)], [])  # an unrelated update: the taken 0.2 stays taken
    assert o.filled == pytest.approx(0.2)
    eng.on_depth("TESTUSDT", [(100.3, 1.0)], [])
    assert o.status == "FILLED" and eng.accounts["a"].fills[-1].price == 100.3


def test_crossing_limit_takes_then_rests_without_a_free_fill() -> None:
    eng, _ = make()
    o = eng.place("a", req(price=100.2, quantity=4.0))  # takes 100.1 x1 and 100.2 x2, rests 1.0
    assert o.filled == pytest.approx(3.0) and o.status == "PARTIALLY_FILLED"
    eng.on_depth("TESTUSDT", [(99.7, 1.0)], [])  # the asks it took are still in the recorded book
    assert o.filled == pytest.approx(3.0)  # but they were taken: no second fill from them


def test_filters() -> None:
    eng, _ = make()
    assert code(eng, req(price=99.95)) == -4014
    assert code(eng, req(quantity=0.0005)) == -4004
    assert code(eng, req(quantity=0.5005)) == -4023
    assert code(eng, req(quantity=0.01)) == -4164  # 0.999 < 5
    assert code(eng, req(side="SELL", price=94.0)) == -4024
    assert code(eng, req(price=106.0)) == -4016
    assert code(eng, req(symbol="NOPE")) == -1121
    eng.place("a", req(client_order_id="x1"))
    assert code(eng, req(client_order_id="x1")) == -4116
    eng.cancel("a", "TESTUSDT", None, "x1")
    eng.place("a", req(client_order_id="x1"))  # reusable once the first is closed
    with pytest.raises(Reject) as e:
        eng.cancel("a", "TESTUSDT", 42, None)
    assert e.value.code == -2011
    with pytest.raises(Reject) as e:
        eng.get_order("a", "TESTUSDT", 42, None)
    assert e.value.code == -2013


def test_margin_check() -> None:
    eng, _ = make(balance=100.0)
    # leverage 20: 100 USDT margin carries ~2000 notional
    assert code(eng, req(price=99.9, quantity=25.0)) == -2019
    eng.place("a", req(price=99.9, quantity=15.0))
    assert code(eng, req(price=99.8, quantity=5.0)) == -2019  # the open order already holds margin
    eng.accounts["a"].position("TESTUSDT").leverage = 50
    eng.place("a", req(price=99.8, quantity=5.0))


def test_reduce_only() -> None:
    eng, ev = make()
    assert code(eng, req(side="SELL", type="MARKET", quantity=0.1, price=0.0, reduce_only=True)) == -2022
    eng.place("a", req(type="MARKET", quantity=1.0, price=0.0))
    assert code(eng, req(side="BUY", price=99.9, quantity=0.1, reduce_only=True)) == -2022
    ro = eng.place("a", req(side="SELL", price=100.3, quantity=0.8, reduce_only=True))
    # close the position with a market sell: the resting reduce-only order expires
    eng.place("a", req(side="SELL", type="MARKET", quantity=1.0, price=0.0))
    assert eng.accounts["a"].position("TESTUSDT").amount == pytest.approx(0.0)
    assert ro.status == "EXPIRED"
    # a reduce-only order larger than the position only reduces it to zero
    eng.on_depth("TESTUSDT", [(100.0, 5.0)], [(100.1, 5.0)])
    eng.place("a", req(type="MARKET", quantity=0.3, price=0.0))
    big = eng.place("a", req(side="SELL", type="MARKET", quantity=1.0, price=0.0, reduce_only=True))
    assert big.filled == pytest.approx(0.3) and eng.accounts["a"].position("TESTUSDT").amount == pytest.approx(0.0)
    assert "ORDER" in ev.balances


def test_pnl_and_funding() -> None:
    eng, ev = make()
    eng.place("a", req(type="MARKET", quantity=1.0, price=0.0))  # buy 1 @ 100.1
    pos = eng.accounts["a"].position("TESTUSDT")
    assert pos.amount == 1.0 and pos.entry_price == pytest.approx(100.1)
    eng.on_mark("TESTUSDT", 101.0, funding_rate=0.001)
    assert eng.unrealized("TESTUSDT", pos) == pytest.approx(0.9)
    w = eng.accounts["a"].wallet
    eng.settle_funding("TESTUSDT")
    assert eng.accounts["a"].wallet == pytest.approx(w - 101.0 * 0.001)  # longs pay a positive rate
    assert ev.balances[-1] == "FUNDING_FEE"
    eng.on_depth("TESTUSDT", [(100.5, 3.0)], [])
    s = eng.place("a", req(side="SELL", type="MARKET", quantity=2.0, price=0.0))  # flip to short 1 @ 100.5
    assert s.filled == 2.0
    assert pos.amount == pytest.approx(-1.0) and pos.entry_price == pytest.approx(100.5)
    assert pos.realized == pytest.approx(0.4)


FILL = st.tuples(st.sampled_from(["BUY", "SELL"]), st.integers(min_value=10, max_value=500), st.integers(-30, 30))


@settings(max_examples=60, deadline=None)
@given(st.lists(FILL, min_size=1, max_size=25), st.integers(-50, 50))
def test_equity_is_conserved(trades: list[tuple[str, int, int]], mark_ticks: int) -> None:
    """wallet + unrealized == start - fees + sum(signed qty * (mark - fill price)), whatever the path."""
    eng, _ = make(balance=1e9)
    expected = 1e9
    for side, qty_steps, px_ticks in trades:
        px = round(1000.0 + px_ticks * 0.1, 1)
        eng.on_snapshot("TESTUSDT", [(round(px - 0.1, 1), 1000.0)], [(px, 1000.0)])
        if side == "SELL":
            eng.on_snapshot("TESTUSDT", [(px, 1000.0)], [(round(px + 0.1, 1), 1000.0)])
        eng.on_mark("TESTUSDT", px)
        qty = qty_steps * 0.001
        o = eng.place("a", req(side=side, type="MARKET", quantity=qty, price=0.0))
        assert o.status == "FILLED"
    mark = 1000.0 + mark_ticks * 0.1
    eng.on_mark("TESTUSDT", mark)
    acct = eng.accounts["a"]
    for f in acct.fills:
        signed = f.qty if f.side == "BUY" else -f.qty
        expected += signed * (mark - f.price) - f.commission
    pos = acct.position("TESTUSDT")
    assert acct.wallet + eng.unrealized("TESTUSDT", pos) == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert pos.amount == pytest.approx(sum(f.qty if f.side == "BUY" else -f.qty for f in acct.fills), abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(-5, 5), st.integers(1, 20)), min_size=1, max_size=40))
def test_deterministic(flow: list[tuple[bool, int, int]]) -> None:
    """The same market and requests give the same fills, and a resting order never overfills."""

    def run() -> list[tuple[int, float, float, bool]]:
        eng, _ = make()
        orders = [
            eng.place("a", req(price=99.9, quantity=1.0)),
            eng.place("a", req(side="SELL", price=100.2, quantity=1.0)),
        ]
        for buyer_maker, ticks, q in flow:
            eng.on_trade("TESTUSDT", round(100.0 + ticks * 0.1, 1), q * 0.1, buyer_maker)
        for o in orders:
            assert o.filled <= o.quantity + 1e-9
        return [(f.order_id, f.price, f.qty, f.maker) for f in eng.accounts["a"].fills]

    assert run() == run()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=900, max_value=1100),  # price in ticks of 0.1 around the book
    st.sampled_from([0, 0.05, 0.01]),  # off-tick offset
    st.integers(min_value=0, max_value=3000),  # qty in steps of 0.001
    st.sampled_from([0, 0.0004]),  # off-step offset
    st.sampled_from(["BUY", "SELL"]),
)
def test_filters_against_an_oracle(ticks: int, px_off: float, steps: int, qty_off: float, side: str) -> None:
    """The engine accepts an order iff an independent check of the filters says it should."""
    from decimal import Decimal

    eng, _ = make(balance=1e9)
    eng.on_mark("TESTUSDT", 100.0)
    price = round(ticks * 0.1 + px_off, 4)
    qty = round(steps * 0.001 + qty_off, 4)
    d_px, d_qty = Decimal(str(price)), Decimal(str(qty))
    if qty <= 0:
        expected = -4003
    elif d_px % Decimal("0.1") != 0:
        expected = -4014
    elif qty < 0.001:
        expected = -4004
    elif d_qty % Decimal("0.001") != 0:
        expected = -4023
    elif side == "BUY" and price > 105.0:
        expected = -4016
    elif side == "SELL" and price < 95.0:
        expected = -4024
    elif price * qty < 5.0:
        expected = -4164
    else:
        expected = 0
    r = req(side=side, price=price, quantity=qty, time_in_force="GTC")
    if expected:
        assert code(eng, r) == expected
    else:
        o = eng.place("a", r)
        assert o.status in ("NEW", "PARTIALLY_FILLED", "FILLED")


def test_history_is_bounded_but_open_orders_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    import hedge.exchange.accounts as accounts

    monkeypatch.setattr(accounts, "MAX_HISTORY", 5)
    eng, _ = make()
    keep = eng.place("a", req(price=99.0, quantity=0.1, client_order_id="keep"))
    for i in range(30):
        o = eng.place("a", req(price=99.1, quantity=0.1, client_order_id=f"c{i}"))
        eng.cancel("a", "TESTUSDT", o.order_id, None)
    acct = eng.accounts["a"]
    assert len(acct.orders) <= 2 * 5 + 1
    assert eng.get_order("a", "TESTUSDT", None, "keep") is keep and keep.is_open
    assert eng.get_order("a", "TESTUSDT", None, "c29").status == "CANCELED"  # recent history still there
    with pytest.raises(Reject) as e:
        eng.get_order("a", "TESTUSDT", None, "c0")  # forgotten, like Binance after its retention window
    assert e.value.code == -2013
