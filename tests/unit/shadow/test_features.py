"""The shadow's signals read the live features (never write them) when the candidate's feature parameters are
the live ones; any other candidate derives its own."""

from __future__ import annotations

import msgspec

from hedge.config import Config, default_config
from hedge.events import Side
from hedge.shadow.features import SharedFeatures, shareable
from hedge.shadow.pipeline import lean
from hedge.signals.features import FeatureEngine
from tests.unit.signals.test_features import PARAMS, book, trade


def signals(cfg: Config, **kw: object) -> Config:
    st = cfg.strategy
    return msgspec.structs.replace(cfg, strategy=msgspec.structs.replace(
        st, signals=msgspec.structs.replace(st.signals, **kw)))


def test_shareable_only_with_the_same_feature_parameters_and_symbols() -> None:
    live = default_config()
    assert shareable(live, live)
    assert shareable(live, signals(live, publish_every_ms=5))  # a view's cadence is not a feature
    assert not shareable(live, signals(live, flow_window_s=live.strategy.signals.flow_window_s * 2))
    other = msgspec.structs.replace(live, strategy=msgspec.structs.replace(
        live.strategy, universe=[*live.strategy.universe, "DOGEUSDT"]))
    assert not shareable(live, other)  # a symbol the live pipeline derives nothing for


def test_shared_features_are_the_live_states_read_only() -> None:
    live = FeatureEngine(PARAMS)
    shared = SharedFeatures(live)
    live.on_trade(trade(1, 2.0, Side.BUY))
    u = book(2, 99.0, 101.0)
    st = live.on_book(u)
    assert shared.on_book(u) is st and st.valid and st.ts_ms == 2
    flow = (st.flow.buy_vol, st.flow.sell_vol)
    shared.on_trade(trade(3, 5.0, Side.SELL))  # the live engine takes trades, not the shadow
    shared.on_book(book(4, 98.0, 100.0))  # nor books: the live state is unchanged
    assert st.ts_ms == 2 and st.mid == 100.0 and (st.flow.buy_vol, st.flow.sell_vol) == flow == (2.0, 0.0)
    assert not shared.state("ETHUSDT").valid and "ETHUSDT" not in live.states  # nothing added to live's


def test_the_lean_candidate_keeps_the_diagnostics_only_for_the_adaptive_overlay() -> None:
    cfg = default_config()
    fd = cfg.strategy.factor_diagnostics
    assert fd.enabled and not lean(cfg).strategy.factor_diagnostics.enabled
    adaptive = msgspec.structs.replace(cfg, strategy=msgspec.structs.replace(cfg.strategy, factor_diagnostics=(
        msgspec.structs.replace(fd, auto_weighting=msgspec.structs.replace(fd.auto_weighting, adaptive=True)))))
    assert lean(adaptive) is adaptive
