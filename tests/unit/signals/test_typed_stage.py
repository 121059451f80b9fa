"""The typed (compiled, ``stage.pxd``) ``SignalStage`` publishes exactly what its ``.py`` does as plain Python.

Any stream of book updates and trades (malformed figures included) goes through the compiled stage and
through ``native.load_pure("hedge.signals.stage")``'s, each on its own bus: every published event
(Features, SymbolScore, Signal, OrderIntent, FactorReport) must be equal, in the same order. A shadow-style
override of the feature engine (a Python subclass, ``hedge.shadow.features``) is called by the compiled
stage too. Skipped when the build runs the stage pure, failed then under ``HEDGE_EXPECT_COMPILED``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge import native
from hedge.bus import Bus
from hedge.events import BookUpdate, Event, Nav, Trade
from hedge.signals import stage
from hedge.signals.features import FeatureEngine, SymbolFeatures
from tests.kit.compiled import require_compiled
from tests.unit.signals.test_stage_properties import CFG, NAV, book_step, build, trade_step

PURE = native.load_pure("hedge.signals.stage")


@pytest.fixture(scope="module", autouse=True)
def compiled() -> None:
    require_compiled("hedge.signals.stage")


def _run(cls: Any, steps: list[tuple[Any, ...]]) -> list[Event]:
    bus = Bus()
    out: list[Event] = []
    bus.subscribe(Event, out.append)
    cls(bus, CFG).attach()
    bus.publish(Nav(nav=NAV, wallet_balance=NAV, unrealized_pnl=0.0, source="sim"))
    ts = 1_700_000_000_000
    for uid, step in enumerate(steps):
        ts += step[1]
        bus.publish(build(step, ts, uid))
    return [e for e in out if not isinstance(e, (BookUpdate, Trade, Nav))]


@given(st.lists(st.one_of(book_step, trade_step), max_size=150))
@settings(max_examples=120, deadline=None)
def test_compiled_stage_publishes_what_the_pure_one_does(steps: list[tuple[Any, ...]]) -> None:
    assert _run(stage.SignalStage, steps) == _run(PURE.SignalStage, steps)


def test_a_python_override_of_the_feature_engine_is_called() -> None:
    seen: list[str] = []

    class Spy(FeatureEngine):
        def on_book(self, u: BookUpdate) -> SymbolFeatures:
            seen.append("book")
            return super().on_book(u)

        def on_trade(self, t: Trade) -> SymbolFeatures:
            seen.append("trade")
            return super().on_trade(t)

    s = stage.SignalStage(Bus(), CFG)
    s.features = Spy(CFG.strategy.signals)
    s.on_book(build(("book", 0, 100.0, 0.1, 1.0, 1.0, True, None), 1, 1))  # type: ignore[arg-type]
    s.on_trade(build(("trade", 0, 1.0, True), 2, 2))  # type: ignore[arg-type]
    assert seen == ["book", "trade"]
