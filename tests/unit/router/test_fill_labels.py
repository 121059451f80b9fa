"""The fill labeller's queue-position rules, on hand-made books and trades."""

from __future__ import annotations

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
