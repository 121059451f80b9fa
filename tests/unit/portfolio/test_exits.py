"""Exit levels by hand: TP/SL from the entry, the max-R cap, breakeven after 0.8 R, the trailing
stop; and, by property, that a stop only ever ratchets in the position's favour."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.config import exit_profile
from hedge.portfolio.exits import ExitKind, initial_levels, rebase, update

P = exit_profile("classic")  # tp 0.5%, sl 0.25%, trail 20 bps, breakeven after 0.8 R, max 3 R


def test_initial_levels_long_and_short() -> None:
    lv = initial_levels(1, 100.0, P)
    assert lv.risk == pytest.approx(0.25) and lv.stop == pytest.approx(99.75) and lv.tp == pytest.approx(100.5)
    sv = initial_levels(-1, 200.0, P)
    assert sv.risk == pytest.approx(0.5) and sv.stop == pytest.approx(200.5) and sv.tp == pytest.approx(199.0)
    assert not lv.breakeven and lv.stop_kind is ExitKind.STOP_LOSS and lv.best == 100.0


def test_take_profit_is_capped_at_max_r() -> None:
    tight = exit_profile("classic", sl_pct=0.001)  # R = 0.1 at 100: 3 R = 0.3 < 0.5 % take-profit
    assert initial_levels(1, 100.0, tight).tp == pytest.approx(100.3)
    assert initial_levels(-1, 100.0, tight).tp == pytest.approx(99.7)
    wide = exit_profile("classic", sl_pct=0.01, max_R=3.0)  # 3 R = 3.0 > 0.5: the tp_pct level stands
    assert initial_levels(1, 100.0, wide).tp == pytest.approx(100.5)


def test_no_stop_when_sl_pct_is_zero() -> None:
    lv = initial_levels(1, 100.0, exit_profile("classic", sl_pct=0.0))
    assert lv.stop == 0.0 and lv.tp == pytest.approx(100.5)
    assert update(lv, 50.0, P, True) is None  # nothing to hit; the consistency check flags it


def test_stop_loss_and_take_profit_trigger_on_the_exit_side() -> None:
    lv = initial_levels(1, 100.0, P)
    assert update(lv, 99.80, P, True) is None
    assert update(lv, 99.75, P, True) is ExitKind.STOP_LOSS
    lv = initial_levels(1, 100.0, P)
    assert update(lv, 100.49, P, False) is None
    assert update(lv, 100.5, P, False) is ExitKind.TAKE_PROFIT
    sv = initial_levels(-1, 100.0, P)
    assert update(sv, 100.24, P, True) is None
    assert update(sv, 100.26, P, True) is ExitKind.STOP_LOSS
    sv = initial_levels(-1, 100.0, P)
    assert update(sv, 99.5, P, True) is ExitKind.TAKE_PROFIT


def test_breakeven_after_0_8_r_then_trailing_by_20_bps() -> None:
    lv = initial_levels(1, 100.0, P)
    assert update(lv, 100.19, P, True) is None  # 0.76 R: not yet
    assert not lv.breakeven and lv.stop == pytest.approx(99.75)
    assert update(lv, 100.20, P, True) is None  # 0.8 R: stop to entry (the trail 100.2 * 0.998 = 99.9996 is below)
    assert lv.breakeven and lv.stop == 100.0 and lv.stop_kind is ExitKind.BREAKEVEN
    assert update(lv, 100.40, P, True) is None
    assert lv.stop == pytest.approx(100.40 * 0.998) and lv.stop_kind is ExitKind.TRAILING
    assert update(lv, 100.30, P, True) is None  # falling back does not move the stop
    assert lv.stop == pytest.approx(100.1992)
    assert update(lv, 100.19, P, True) is ExitKind.TRAILING


def test_breakeven_without_trailing_and_short_side() -> None:
    lv = initial_levels(1, 100.0, P)
    update(lv, 100.45, P, False)
    assert lv.stop == 100.0 and lv.stop_kind is ExitKind.BREAKEVEN
    assert update(lv, 100.0, P, False) is ExitKind.BREAKEVEN
    sv = initial_levels(-1, 100.0, P)
    update(sv, 99.70, P, True)  # 1.2 R its way: breakeven, trail at 99.70 * 1.002
    assert sv.breakeven and sv.stop == pytest.approx(99.8994) and sv.stop_kind is ExitKind.TRAILING
    assert update(sv, 99.9, P, True) is ExitKind.TRAILING


def test_rebase_on_a_larger_position_never_loosens_the_stop() -> None:
    lv = initial_levels(1, 100.0, P)
    update(lv, 100.40, P, True)
    stop = lv.stop
    rebase(lv, 100.2, P)  # added at a higher average: new TP and R, the trailed stop kept
    assert lv.entry == 100.2 and lv.tp == pytest.approx(100.701) and lv.stop == stop
    lv2 = initial_levels(1, 100.0, P)
    rebase(lv2, 101.0, P)  # the fresh stop (100.7475) is tighter than 99.75: it is taken
    assert lv2.stop == pytest.approx(100.7475)


prices = st.lists(st.floats(min_value=50.0, max_value=150.0, allow_nan=False), min_size=1, max_size=60)


@given(
    sign=st.sampled_from([1, -1]),
    path=prices,
    trailing=st.booleans(),
    sl=st.floats(min_value=0.0005, max_value=0.05),
    trail=st.floats(min_value=0.0, max_value=200.0),
    be=st.floats(min_value=0.0, max_value=3.0),
)
def test_stop_only_ratchets_in_the_positions_favour(
    sign: int, path: list[float], trailing: bool, sl: float, trail: float, be: float
) -> None:
    p = exit_profile("classic", sl_pct=sl, trail_bps=trail, breakeven_after_R=be)
    lv = initial_levels(sign, 100.0, p)
    best = 100.0
    for px in path:
        before = lv.stop
        kind = update(lv, px, p, trailing)
        assert sign * (lv.stop - before) >= 0.0  # never loosened
        best = max(best, px) if sign > 0 else min(best, px)
        assert lv.best == best
        if lv.breakeven:  # once armed, the stop is never worse than the entry
            assert sign * (lv.stop - 100.0) >= 0.0
            assert sign * (best - 100.0) >= be * lv.risk - 1e-9
        if kind is not None and kind is not ExitKind.TAKE_PROFIT:
            assert sign * (px - lv.stop) <= 0.0
        if kind is ExitKind.TAKE_PROFIT:
            assert sign * (px - lv.tp) >= 0.0
    # the take-profit is never further than max_R risk units away
    assert sign * (lv.tp - 100.0) <= p.max_R * lv.risk + 1e-9
