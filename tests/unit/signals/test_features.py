from __future__ import annotations

import math

import msgspec
import pytest

from hedge.config import SignalParams
from hedge.events import BookUpdate, MarkPrice, Side, Trade, VolRegime
from hedge.signals.features import FeatureEngine
from hedge.signals.microstructure import imbalance, micro_price, spread_bps


def book(ts: int, bid: float, ask: float, bq: float = 1.0, aq: float = 1.0, *, valid: bool = True, uid: int = 0) -> BookUpdate:
    return BookUpdate(
        ts_ms=ts,
        symbol="BTCUSDT",
        update_id=uid or ts,
        valid=valid,
        bid_px=bid,
        bid_qty=bq,
        ask_px=ask,
        ask_qty=aq,
        mid=0.5 * (bid + ask),
        micro=micro_price(bid, bq, ask, aq),
        imbalance=imbalance(bq, aq),
        spread_bps=spread_bps(bid, ask),
    )


def trade(ts: int, qty: float, side: Side, px: float = 100.0) -> Trade:
    return Trade(ts_ms=ts, symbol="BTCUSDT", trade_id=ts, price=px, qty=qty, taker_side=side, trade_ms=ts)


PARAMS = SignalParams(flow_window_s=1.0, vol_halflife_s=2.0, vol_low_bps=0.3, vol_high_bps=1.5, absorption_min_flow=0.6, absorption_max_move_bps=1.0)


def test_book_fields_are_carried_and_vol_is_computed() -> None:
    fe = FeatureEngine(PARAMS)
    fe.on_book(book(0, 99.0, 101.0, 3.0, 1.0))
    f = fe.on_book(book(1000, 99.05, 101.05, 3.0, 1.0))
    assert f.valid and f.mid == pytest.approx(100.05)
    assert f.micro == pytest.approx(micro_price(99.05, 3.0, 101.05, 1.0))
    assert f.book_imbalance == pytest.approx(0.5)
    assert f.spread_bps == pytest.approx(2.0 / 100.05 * 1e4)
    r = math.log(100.05 / 100.0) * 1e4
    assert f.vol_bps == pytest.approx(math.sqrt(r * r * math.log(2) / 2.0))
    assert f.regime is VolRegime.NORMAL  # not warm yet (1 s < 2 s half-life)
    f = fe.on_book(book(2000, 99.05, 101.05))
    assert f.regime is VolRegime.HIGH  # warm; vol = 2.94 / sqrt(2) = 2.08 bps/sqrt(s) > 1.5
    f = fe.on_book(book(20000, 99.05, 101.05))
    assert f.regime is VolRegime.LOW  # 18 s of no movement: 2.08 * 2^(-4.5) = 0.09 < 0.3


def test_invalid_book_does_not_move_features() -> None:
    fe = FeatureEngine(PARAMS)
    fe.on_book(book(0, 99.0, 101.0))
    f = fe.on_book(book(10, 50.0, 60.0, valid=False, uid=7))
    assert not f.valid and f.mid == 100.0 and f.update_id == 7
    f = fe.on_book(book(20, 99.0, 101.0))
    assert f.valid and f.vol_bps == 0.0


def test_trades_drive_flow_and_absorption_and_expire_on_book_ticks() -> None:
    fe = FeatureEngine(PARAMS)
    fe.on_book(book(0, 99.99, 100.01))
    fe.on_trade(trade(100, 4.0, Side.BUY))
    fe.on_trade(trade(200, 1.0, Side.SELL))
    f = fe.on_book(book(250, 99.99, 100.01))  # refreshed on the next book tick, same mid
    assert f.flow_imbalance == pytest.approx(0.6)
    assert f.absorption == pytest.approx(0.6)  # heavy buying, mid unchanged
    f = fe.on_book(book(300, 100.0, 100.02))  # mid +1 bps: not absorbed any more
    assert f.absorption == pytest.approx(0.0)
    f = fe.on_book(book(1150, 100.0, 100.02))  # the buy at 100 has left the 1 s window
    assert f.flow_imbalance == -1.0
    f = fe.on_book(book(1300, 100.0, 100.02))
    assert f.flow_imbalance == 0.0 and f.absorption == 0.0


def test_mark_price_gives_funding_and_basis_and_snapshot() -> None:
    fe = FeatureEngine(PARAMS)
    fe.on_book(book(0, 99.0, 101.0))
    fe.on_mark(MarkPrice(symbol="BTCUSDT", mark_price=100.05, index_price=100.0, funding_rate=0.0001, next_funding_ms=0))
    snap = fe.states["BTCUSDT"].snapshot()
    assert snap.funding_rate == 0.0001
    assert snap.basis_bps == pytest.approx(5.0)
    assert snap.mid == 100.0 and snap.symbol == "BTCUSDT" and snap.ts_ms == 0


def test_malformed_book_figures_are_neutralised() -> None:
    fe = FeatureEngine(PARAMS)
    good = book(0, 99.0, 101.0, 3.0, 1.0)
    f = fe.on_book(msgspec.structs.replace(good, micro=math.nan, imbalance=2.0, spread_bps=math.nan))
    assert f.valid and f.micro == 100.0 and f.book_imbalance == 0.0 and f.spread_bps == math.inf
    for bad_mid in (math.nan, math.inf, -1.0, 0.0):
        f = fe.on_book(msgspec.structs.replace(good, ts_ms=1000, mid=bad_mid))
        assert not f.valid and f.mid == 100.0
    fe.on_trade(trade(1000, math.nan, Side.BUY))
    fe.on_trade(trade(1000, math.inf, Side.SELL))
    f = fe.on_book(book(1000, 99.0, 101.0))
    assert f.vol_bps == 0.0 and f.flow_imbalance == 0.0 and len(f.flow) == 0
