from __future__ import annotations

import math

import pytest

from hedge.config import ConfigErrors, SignalParams, StrategyConfig, StrategyEntry
from hedge.signals.features import SymbolFeatures
from hedge.signals.strategies import REGISTRY, build_strategies
from hedge.signals.strategies.micro_scalper import MicroScalper, MicroScalperParams
from hedge.signals.strategies.vol_trend import VolTrend, VolTrendParams


def feats(**kw: float) -> SymbolFeatures:
    f = SymbolFeatures("BTCUSDT", SignalParams())
    f.valid = True
    f.bid_px, f.ask_px = 99.0, 101.0
    f.mid = 100.0
    f.micro = 100.0
    f.spread_bps = 2.0
    for k, v in kw.items():
        setattr(f, k, v)
    return f


def test_micro_scalper_hand_value() -> None:
    s = MicroScalper(MicroScalperParams())
    f = feats(book_imbalance=0.5, micro=100.5, flow_imbalance=0.25, absorption=0.2)
    # 0.4*0.5 + 0.2*(0.5/1.0) + 0.4*0.25 - 0.3*0.2
    assert s.score(f) == pytest.approx(0.2 + 0.1 + 0.1 - 0.06)
    assert s.score(feats(book_imbalance=1.0, micro=101.0, flow_imbalance=1.0)) == 1.0  # clipped
    assert s.score(feats(book_imbalance=1.0, spread_bps=6.0)) == 0.0  # spread too wide
    assert s.score(feats(book_imbalance=1.0, valid=False)) == 0.0


def test_vol_trend_hand_value() -> None:
    p = VolTrendParams(fast_halflife_s=1.0, slow_halflife_s=4.0, target_vol_bps=1.0, z_scale=2.0)
    s = VolTrend(p)
    f = feats(ts_ms=0, mid=100.0, vol_bps=2.0)
    assert s.score(f) == 0.0  # first sight
    f.ts_ms, f.mid = 4000, 101.0
    fast = 100.0 * 2**-4 + 101.0 * (1 - 2**-4)
    slow = 100.0 * 0.5 + 101.0 * 0.5
    z = (fast - slow) / slow * 1e4 / (2.0 * math.sqrt(4.0))
    expected = max(-1.0, min(1.0, z / 2.0)) * 0.5  # target 1 / vol 2
    assert s.score(f) == pytest.approx(expected)
    f.ts_ms = 4000
    f.vol_bps = 0.0
    assert s.score(f) == 0.0


def test_vol_trend_waits_one_slow_halflife() -> None:
    s = VolTrend(VolTrendParams(fast_halflife_s=1.0, slow_halflife_s=4.0))
    f = feats(ts_ms=0, mid=100.0, vol_bps=1.0)
    s.score(f)
    f.ts_ms, f.mid = 3999, 105.0
    assert s.score(f) == 0.0
    f.ts_ms = 4000
    assert s.score(f) > 0.0


def test_build_from_config_and_errors() -> None:
    cfg = StrategyConfig(
        strategies=[
            StrategyEntry(name="micro_scalper", params={"entry_threshold": 0.7}),
            StrategyEntry(name="vol_trend", enabled=False),
        ]
    )
    built = build_strategies(cfg)
    assert [s.name for s in built] == ["micro_scalper"]
    assert built[0].params.entry_threshold == 0.7
    assert set(REGISTRY) == {"micro_scalper", "vol_trend"}
    bad = StrategyConfig(
        strategies=[
            StrategyEntry(name="nope"),
            StrategyEntry(name="micro_scalper", params={"w_bok": 1.0}),
            StrategyEntry(name="vol_trend", params={"fast_halflife_s": 90.0}),
        ]
    )
    with pytest.raises(ConfigErrors) as ei:
        build_strategies(bad)
    msgs = [str(e) for e in ei.value.errors]
    assert msgs[0].startswith("strategy.yaml: strategies[0].name: unknown strategy 'nope'")
    assert msgs[1].startswith("strategy.yaml: strategies[1].params.w_bok: unknown parameter of 'micro_scalper'")
    assert "w_book" in msgs[1]
    assert msgs[2] == "strategy.yaml: strategies[2].params: fast_halflife_s must be < slow_halflife_s"
    with pytest.raises(ConfigErrors) as ei:
        build_strategies(StrategyConfig(strategies=[StrategyEntry(name="vol_trend", params={"entry_threshold": 1.5})]))
    assert str(ei.value) == "strategy.yaml: strategies[0].params.entry_threshold: Expected `float` <= 1.0"
    dup = StrategyConfig(strategies=[StrategyEntry(name="vol_trend"), StrategyEntry(name="vol_trend")])
    with pytest.raises(ConfigErrors, match="listed twice"):
        build_strategies(dup)
