from __future__ import annotations

import math

import pytest

from hedge.config import ScoreParams
from hedge.signals.round_trips import RoundTrip
from hedge.signals.scores import ScoreBoard


def trip(r: float, strategy: str = "") -> RoundTrip:
    return RoundTrip(symbol="BTCUSDT", strategy=strategy, return_bps=r, pnl=r, entry_notional=1.0, closed_ms=0)


def test_expectancy_scores_and_hybrid_hand_values() -> None:
    p = ScoreParams(window_trades=4, min_trades=2, expectancy_scale_bps=10.0, liquidity_spread_bps=2.0)
    sb = ScoreBoard(p)
    for r in (10.0, -2.0, 4.0):
        sb.on_round_trip(trip(r))
    sb.stats("BTCUSDT").signal = -0.8
    snap = sb.snapshot("BTCUSDT", spread_bps=2.0, ts_ms=5, recv_ns=6)
    assert snap.expectancy_bps == pytest.approx(4.0)
    assert snap.trades == 3
    sym = math.tanh(0.4) * 0.75
    assert snap.symbol_score == pytest.approx(sym)
    assert snap.hybrid_score == pytest.approx(0.4 * 0.8 + 0.4 * (sym + 1) / 2 + 0.2 * 0.5)
    for r in (20.0, 30.0):  # the window keeps the last 4: -2, 4, 20, 30
        sb.on_round_trip(trip(r))
    assert sb.stats("BTCUSDT").expectancy_bps == pytest.approx(13.0)


def test_expectancy_gate_and_sprt_switch() -> None:
    sb = ScoreBoard(ScoreParams(min_trades=3))
    assert sb.passes("BTCUSDT", "s", 0.0)  # unknown symbol
    sb.on_round_trip(trip(-5.0))
    sb.on_round_trip(trip(-5.0))
    assert sb.passes("BTCUSDT", "s", 0.0)  # fewer than min_trades
    sb.on_round_trip(trip(-5.0))
    assert not sb.passes("BTCUSDT", "s", 0.0)
    assert sb.passes("BTCUSDT", "s", -6.0)
    for _ in range(40):
        sb.on_round_trip(trip(-5.0))
    snap = sb.snapshot("BTCUSDT", 1.0, 0, 0)
    assert not snap.enabled and snap.sprt_llr < 0.0
    assert not sb.passes("BTCUSDT", "s", -1e9)


def test_a_strategy_is_switched_off_on_its_own_trips() -> None:
    sb = ScoreBoard(ScoreParams(min_trades=1000))
    for _ in range(30):
        assert sb.on_round_trip(trip(-5.0, "a"))[1] is not None
        assert sb.on_round_trip(trip(+5.0)) [1] is None  # unattributed winner keeps the symbol alive
    assert not sb.passes("BTCUSDT", "a", -1e9)
    assert sb.passes("BTCUSDT", "b", -1e9)
    assert sb.stats("BTCUSDT").sprt.enabled and sb.stats("BTCUSDT").trades == 50  # window
    sb.stats("BTCUSDT").signal = 0.5
    snap = sb.strategy_snapshot("BTCUSDT", "a", 2.0, 0, 0)
    assert snap.strategy == "a" and not snap.enabled and snap.trades == 30 and snap.expectancy_bps == -5.0
    sym = math.tanh(-0.5) * 30 / 50
    assert snap.symbol_score == pytest.approx(sym)
    assert snap.hybrid_score == pytest.approx(0.4 * 0.5 + 0.4 * (sym + 1) / 2 + 0.2 * 0.5)
