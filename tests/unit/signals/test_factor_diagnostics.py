"""Factor diagnostics: hand-valued IC/IR/hit rate/PnL, sampling and resolution in event time,
attribution, the adaptive overlay's bounds and smoothing, and the replay's factor surface."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hedge.config import SignalParams
from hedge.config.intel import AutoWeighting, FactorDiagnosticsParams
from hedge.replay.summary import ReplaySummary
from hedge.signals.adaptive_weights import AdaptiveWeights
from hedge.signals.factor_diagnostics import FactorDiagnostics
from hedge.signals.factor_stats import FactorStats, information_ratio, pearson
from hedge.signals.features import SymbolFeatures
from hedge.state import schemas as s
from hedge.state.manifest import read_manifest, read_surface, state_dir


def test_pearson_and_ir_hand_values() -> None:
    assert pearson([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == pytest.approx(1.0)
    assert pearson([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    assert pearson([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 4.0]) == pytest.approx(0.8)
    assert pearson([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]) == 0.0  # a constant factor: undefined -> 0
    assert pearson([1.0, 2.0], [1.0, 2.0]) == 0.0  # too few
    assert information_ratio([0.1, 0.3]) == pytest.approx(0.2 / math.sqrt(0.02))
    assert information_ratio([0.2]) == 0.0


def test_factor_stats_hand_values() -> None:
    st = FactorStats(window=4, block=2, blocks=10)
    for x, r in [(1.0, 2.0), (-1.0, -1.0), (0.5, -3.0), (0.0, 4.0)]:
        st.add(x, r)
    assert st.samples == 4 and st.blocks == 2
    assert st.pnl_bps == pytest.approx(2.0 + 1.0 - 3.0 + 0.0)
    assert st.mean_pnl_bps == pytest.approx(0.0)
    assert st.hit_rate == pytest.approx(2 / 3)  # x = 0 does not count
    assert st.ic == pytest.approx(pearson([1.0, -1.0, 0.5, 0.0], [2.0, -1.0, -3.0, 4.0]))
    assert st.ir == pytest.approx(information_ratio([1.0, -1.0]))  # the two blocks' ICs (2 points each)
    mag = FactorStats(window=4, block=4, blocks=10, magnitude=True)
    for x, r in [(1.0, 3.0), (-1.0, 0.5), (1.0, -2.5), (-1.0, 1.0)]:  # |r| = 3, .5, 2.5, 1: mean 1.75
        mag.add(x, r)
    assert mag.hit_rate == 1.0 and mag.pnl_bps == 0.0 and mag.ic > 0.9


def tick(f: SymbolFeatures, ts_ms: int, mid: float, imbalance: float) -> SymbolFeatures:
    f.ts_ms, f.mid, f.micro, f.book_imbalance = ts_ms, mid, mid, imbalance
    return f


def test_samples_resolve_at_the_horizon_in_event_time() -> None:
    p = FactorDiagnosticsParams(sample_every_ms=1000, window_samples=50, block_samples=5, blocks=5)
    fd = FactorDiagnostics(p, horizon_s=2.0, strategies=["s"])
    f = SymbolFeatures("BTCUSDT", SignalParams())
    f.valid = True
    mid = 100.0
    for i in range(0, 20_000, 250):  # 80 ticks, 4 a second; the imbalance leads the next 2 s move
        imb = 1.0 if (i // 1000) % 2 == 0 else -1.0
        fd.on_tick(tick(f, i, mid, imb), [imb * 0.5])
        mid *= 1.0 + 0.0001 * (1.0 if (i // 1000) % 4 < 2 else -1.0)
    rows = {r.factor: r for r in fd.rows()}
    assert fd.samples == 18  # samples at 0 .. 17 s resolve by 19.75 s; 18 and 19 s are pending
    assert rows["book_imbalance"].samples == 18 and rows["signal:s"].samples == 18
    assert rows["book_imbalance"].blocks == 3
    fd.on_entry(f, [0.5], 1.0)
    fd.on_round_trip("BTCUSDT", 6.0)
    rows = {r.factor: r for r in fd.rows()}
    agreed = [n for n, r in rows.items() if r.attributed_trips]
    assert sum(rows[n].attributed_bps for n in agreed) == pytest.approx(6.0)
    assert "vol_regime" not in agreed


def test_overlay_is_bounded_smoothed_and_applied() -> None:
    applied: list[tuple[float, float, float]] = []
    ov = AdaptiveWeights(AutoWeighting(adaptive=True, smoothing=0.5, ir_gain=1.0, pnl_gain=1.0),
                         (0.4, 0.4, 0.2), applied.append)
    w = ov.update(1_000, ir=10.0, pnl_bps=-100.0)  # targets clip to 1.5 and 0.5: half-way there
    assert w == pytest.approx((0.4 * 1.25, 0.4 * 0.75, 0.2))
    for t in range(50):
        w = ov.update(2_000 + t, ir=10.0, pnl_bps=-100.0)
    assert w == pytest.approx((0.6, 0.2, 0.2))  # the bounds, never beyond
    assert applied[-1] == w and ov.history[-1] == (2_049, w)


def test_replay_writes_the_factor_surface(classic_replay: tuple[ReplaySummary, Path]) -> None:
    _, log_dir = classic_replay
    d = state_dir(log_dir)
    assert "factor_diagnostics" in {x.name for x in read_manifest(d).surfaces}
    got = read_surface(d, s.FactorDiagnosticsState)
    assert got is not None and got.enabled and not got.adaptive and got.horizon_s == 60.0
    names = [r.factor for r in got.factors]
    assert names[:5] == ["book_imbalance", "flow_imbalance", "micro_price_dev_bps", "absorption", "vol_regime"]
    assert all(r.samples > 300 and -1.0 <= r.ic <= 1.0 and 0.0 <= r.hit_rate <= 1.0 for r in got.factors)
    assert got.weights == {"signal": 0.4, "expectancy": 0.4, "liquidity": 0.2} and got.weights_history == []
    diag = read_surface(d, s.Diagnostics)
    assert diag is not None and diag.features["intel"] is False
