"""The fill labeller's queue-position rules, on hand-made books and trades."""

from __future__ import annotations

import pytest

from hedge.events import BookUpdate, Side, Trade
from hedge.router.fill_labels import FillLabeller
from hedge.router.market_stats import MarketStats


def book(bid: float = 100.0, ask: float = 101.0) -> BookUpdate:
    return BookUpdate(symbol="X", update_id=1, valid=True, bid_px=bid, bid_qty=2.0, ask_px=ask, ask_qty=2.0,
                      mid=(bid + ask) / 2, micro=(bid + ask) / 2, imbalance=0.0, spread_bps=1.0)


BIDS = [(100.0, 2.0), (99.0, 0.5), (98.0, 1.0)]
ASKS = [(101.0, 2.0), (102.0, 1.0), (103.0, 1.0)]


def sell(px: float, qty: float, tid: int) -> Trade:
    return Trade(symbol="X", trade_id=tid, price=px, qty=qty, taker_side=Side.SELL)


def labelled(events: list[tuple[float, object]]) -> dict[tuple[Side, int], bool]:
    lab = FillLabeller(MarketStats(10.0), tick=1.0, horizon_s=5.0, own_qty=0.1, max_distance=2, every_s=100.0)
    lab.on_book(0.0, book(), BIDS, ASKS)  # opens buys at 100/99/98 and sells at 101/102/103
    for t, ev in events:
        if isinstance(ev, Trade):
            lab.on_trade(t, ev)
        else:
            lab.on_book(t, book(), BIDS, ASKS)
    lab.on_book(10.0, book(), BIDS, ASKS)  # past every deadline
    return {
        (Side.BUY if i < 3 else Side.SELL, int(s.features.distance_ticks)): s.filled
        for i, s in enumerate(lab.samples[:6])}


def test_the_queue_ahead_must_trade_before_the_order_fills() -> None:
    # 1.5 then 0.5 at 100: the queue of 2.0 is gone but our 0.1 is not: not filled; 0.2 more: filled
    got = labelled([(1.0, sell(100.0, 1.5, 1)), (2.0, sell(100.0, 0.5, 2))])
    assert got[(Side.BUY, 0)] is False
    got = labelled([(1.0, sell(100.0, 1.5, 1)), (2.0, sell(100.0, 0.7, 2))])
    assert got[(Side.BUY, 0)] is True and got[(Side.BUY, 1)] is False  # nothing traded at 99


def test_a_trade_through_fills_every_order_above_its_price_and_late_trades_do_not() -> None:
    got = labelled([(1.0, sell(98.0, 0.01, 1))])
    assert [got[(Side.BUY, d)] for d in range(3)] == [True, True, False]  # 98 itself has 1.0 ahead
    assert not any(got[(Side.SELL, d)] for d in range(3))  # sellers never fill a resting sell
    assert labelled([(6.0, sell(90.0, 5.0, 1))])[(Side.BUY, 0)] is False  # after the 5 s horizon


def test_a_shrinking_level_moves_the_queue_forward() -> None:
    lab = FillLabeller(MarketStats(10.0), tick=1.0, horizon_s=5.0, own_qty=0.1, max_distance=0, every_s=100.0)
    lab.on_book(0.0, book(), BIDS, ASKS)
    lab.on_book(1.0, book(), [(100.0, 0.2), *BIDS[1:]], ASKS)  # 1.8 cancelled: at most 0.2 left ahead
    lab.on_trade(2.0, sell(100.0, 0.3, 1))
    lab.on_book(10.0, book(), BIDS, ASKS)
    assert [s.filled for s in lab.samples] == [True, False]  # the buy filled; the sell did not


def pegged(events: list[tuple[float, object]], *, max_reprices: int = 0,
           budget_bps: float = 0.0) -> list[tuple[bool, float]]:
    """One buy at the touch (100, queue 2.0), pegged as the router's maker leg (reprice 2 ticks away)."""
    from hedge.router.fill_labels import Peg

    lab = FillLabeller(MarketStats(10.0), tick=1.0, horizon_s=5.0, own_qty=0.1, max_distance=0, every_s=100.0,
                       peg=Peg(reprice_ticks=2, max_reprices=max_reprices, budget_bps=budget_bps))
    lab.on_book(0.0, book(), BIDS, ASKS)
    for t, ev in events:
        if isinstance(ev, Trade):
            lab.on_trade(t, ev)
        else:
            assert isinstance(ev, tuple)
            bids, asks = ev
            lab.on_book(t, book(bids[0][0], asks[0][0]), bids, asks)
    lab.on_book(10.0, book(), BIDS, ASKS)
    return [(s.filled, s.path_bps) for s in lab.samples[:1]]


UP1 = ([(101.0, 0.3), (100.0, 2.0)], [(102.0, 1.0), (103.0, 1.0)])  # the bid one tick up: stay at 100
UP2 = ([(102.0, 0.3), (101.0, 0.5)], [(103.0, 1.0), (104.0, 1.0)])  # two ticks up: re-place at 102, 0.3 ahead


def test_a_pegged_order_follows_the_touch_to_the_back_of_the_new_queue() -> None:
    mid0 = 100.5
    # one tick away: it stays, so a sell at 101 does not reach it
    assert pegged([(1.0, UP1), (2.0, sell(101.0, 5.0, 1))]) == [(False, (102.0 - mid0) / mid0 * 1e4)]
    # two ticks away: it is at 102 behind 0.3 (+ its own 0.1); 0.45 traded there fills it, at 102
    got = pegged([(1.0, UP2), (2.0, sell(102.0, 0.45, 1))])
    assert got == [(True, pytest.approx((102.0 - mid0) / mid0 * 1e4))]
    assert pegged([(1.0, UP2), (2.0, sell(102.0, 0.35, 1))])[0][0] is False  # not beyond the queue + own


def test_a_pegged_order_gives_up_past_its_reprice_limit_and_never_rests_beyond_the_budget() -> None:
    mid0 = 100.5
    up4 = ([(104.0, 0.3), (103.0, 0.5)], [(105.0, 1.0), (106.0, 1.0)])
    # a limit of one reprice: 100 -> 102, then the bid at 104 ends it unfilled, at the ask of then (105)
    assert pegged([(1.0, UP2), (2.0, up4), (3.0, sell(104.0, 5.0, 1))], max_reprices=1) == [
        (False, pytest.approx((105.0 - mid0) / mid0 * 1e4))]
    assert pegged([(1.0, UP2), (2.0, up4), (3.0, sell(104.0, 5.0, 1))])[0][0] is True  # no limit: it followed
    # a budget of 100 bps caps a buy at 101 (one tick up: no reprice), so it still rests at 100 when sellers
    # come down there; without it the order had followed to 102 and filled there
    ev = [(1.0, UP2), (2.0, sell(100.0, 5.0, 1))]
    assert pegged(ev, budget_bps=100.0) == [(True, pytest.approx((100.0 - mid0) / mid0 * 1e4))]
    assert pegged(ev) == [(True, pytest.approx((102.0 - mid0) / mid0 * 1e4))]
