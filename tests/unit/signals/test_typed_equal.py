"""The typed (compiled, ``.pxd``) signal modules give bit-identical figures to their ``.py`` run as plain Python.

``features``, ``flow``, ``volatility``, ``factor_stats`` and ``strategies/micro_scalper`` have augmenting
``.pxd`` files (C doubles, cdef classes) in the compiled build; the ``.py`` is the reference. One random
stream of book ticks and trades goes through both chains (the pure one built from ``native.load_pure``
copies wired to each other) and every feature, score and factor statistic must be equal to the last bit.
Skipped when the build runs these modules pure (nothing to compare), failed then under
``HEDGE_EXPECT_COMPILED``."""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge import native
from hedge.config import SignalParams
from hedge.events import BookUpdate, Side, Trade
from hedge.signals import factor_stats, features
from hedge.signals.strategies import micro_scalper
from hedge.signals.strategies.micro_scalper import MicroScalperParams
from tests.kit.compiled import require_compiled

TYPED = ("hedge.signals.features", "hedge.signals.flow", "hedge.signals.volatility", "hedge.signals.factor_stats",
         "hedge.signals.strategies.micro_scalper")
FIELDS = ("valid", "ts_ms", "bid_px", "ask_px", "mid", "micro", "spread_bps", "book_imbalance", "flow_imbalance",
          "absorption", "vol_bps", "regime")


def _pure_chain() -> tuple[ModuleType, ModuleType, ModuleType]:
    """Pure features (on pure flow and volatility), pure micro_scalper and factor_stats."""
    flow, vol = native.load_pure("hedge.signals.flow"), native.load_pure("hedge.signals.volatility")
    feats = native.load_pure("hedge.signals.features")
    feats.TradeFlow, feats.EwmaVol = flow.TradeFlow, vol.EwmaVol  # type: ignore[attr-defined]
    return feats, native.load_pure("hedge.signals.strategies.micro_scalper"), native.load_pure("hedge.signals.factor_stats")


PURE_FEATURES, PURE_SCALPER, PURE_STATS = _pure_chain()


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    require_compiled(*TYPED)


steps = st.lists(
    st.tuples(
        st.integers(0, 3_000),  # ms since the previous event
        st.booleans(),  # a trade (else a book tick)
        st.floats(-30.0, 30.0, allow_nan=False),  # mid move in ticks of 0.1
        st.floats(0.001, 5.0, allow_nan=False),  # quantity
        st.booleans(),  # taker buy / a valid book
    ),
    min_size=1,
    max_size=300,
)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_features_and_score_equal_to_the_last_bit(events: list[tuple[int, bool, float, float, bool]]) -> None:
    params = SignalParams(flow_window_s=2.0, vol_halflife_s=3.0)
    engines = (features.FeatureEngine(params), PURE_FEATURES.FeatureEngine(params))
    scalers = (micro_scalper.MicroScalper(MicroScalperParams()), PURE_SCALPER.MicroScalper(MicroScalperParams()))
    ts, mid = 1_700_000_000_000, 60_000.0
    for n, (dt, is_trade, move, qty, flag) in enumerate(events):
        ts += dt
        if is_trade:
            t = Trade(ts_ms=ts, symbol="BTCUSDT", trade_id=n, price=mid, qty=qty,
                      taker_side=Side.BUY if flag else Side.SELL)
            for e in engines:
                e.on_trade(t)
            continue
        mid = round(mid + 0.1 * round(move), 1)
        bid, ask = mid - 0.05, mid + 0.05
        u = BookUpdate(ts_ms=ts, symbol="BTCUSDT", update_id=n, valid=flag, bid_px=bid, bid_qty=qty, ask_px=ask,
                       ask_qty=1.0, mid=mid, micro=(bid + ask * qty) / (1.0 + qty) if flag else 0.0,
                       imbalance=(qty - 1.0) / (qty + 1.0), spread_bps=(ask - bid) / mid * 1e4)
        a, b = (e.on_book(u) for e in engines)
        assert [getattr(a, k) for k in FIELDS] == [getattr(b, k) for k in FIELDS]
        assert scalers[0].score(a) == scalers[1].score(b)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1.0, 1.0, allow_nan=False), st.floats(-50.0, 50.0, allow_nan=False)),
                min_size=1, max_size=200), st.booleans())
def test_factor_stats_equal_to_the_last_bit(samples: list[tuple[float, float]], magnitude: bool) -> None:
    a = factor_stats.FactorStats(40, 7, 5, magnitude=magnitude)
    b = PURE_STATS.FactorStats(40, 7, 5, magnitude=magnitude)
    for x, r in samples:
        a.add(x, r)
        b.add(x, r)
        got = (a.samples, a.ic, a.ir, a.hit_rate, a.pnl_bps, a.mean_pnl_bps, a.blocks)
        assert got == (b.samples, b.ic, b.ir, b.hit_rate, b.pnl_bps, b.mean_pnl_bps, b.blocks)
    xs, ys = [x for x, _ in samples], [r for _, r in samples]
    assert factor_stats.pearson(xs, ys) == PURE_STATS.pearson(xs, ys)
