"""One geometry: the trade the calibrator labels is the trade the portfolio manages."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.config import exit_profile
from hedge.config.geometry import Barriers, barriers, coherence_problems, signature
from hedge.portfolio.exits import ExitKind, initial_levels, update
from hedge.signals.labeling import label_barriers


@given(st.floats(0.0, 5.0), st.floats(1_000.0, 100_000.0), st.sampled_from([1, -1]))
def test_labelled_barriers_are_the_portfolios_levels(vol: float, entry: float, sign: int) -> None:
    p = exit_profile("scalper")
    tp, sl = barriers(p, vol)
    assert tp == pytest.approx(1.0 + vol * math.sqrt(p.horizon_s)) and sl == pytest.approx(tp)
    lv = initial_levels(sign, entry, p, tp, sl)
    assert sign * (lv.tp - entry) / entry * 1e4 == pytest.approx(tp)
    assert sign * (entry - lv.stop) / entry * 1e4 == pytest.approx(sl)


def test_the_scalper_is_coherent_and_the_classic_profile_says_why_it_is_not() -> None:
    assert coherence_problems(exit_profile("scalper")) == []
    classic = coherence_problems(exit_profile("classic"))
    assert len(classic) == 2 and "breakeven" in classic[0] and "time_stop" in classic[1]
    assert barriers(exit_profile("classic"), 3.0) == pytest.approx((50.0, 25.0))  # the literal 0.5% / 0.25%
    assert signature(exit_profile("scalper")) != signature(exit_profile("classic"))


def test_a_path_labelled_a_win_is_a_take_profit_and_a_loss_a_stop() -> None:
    p = exit_profile("scalper")
    tp, sl = barriers(p, 0.5)
    for drift, kind, label in ((+1, ExitKind.TAKE_PROFIT, 1), (-1, ExitKind.STOP_LOSS, 0)):
        mids = 100.0 * (1.0 + drift * np.linspace(0.0, 2.0 * tp, 50) * 1e-4)
        ts = np.arange(50, dtype=np.int64) * 100
        got = label_barriers(ts, mids, np.asarray([0]), np.asarray([1]), tp, sl, int(p.horizon_s * 1000))
        lv = initial_levels(1, 100.0, p, tp, sl)
        exits = [k for px in mids[1:] if (k := update(lv, float(px), p, trailing=True)) is not None]
        assert int(got[0]) == label and exits[0] is kind


@given(st.sampled_from(["scalper", "classic"]), st.floats(-1.0, 50.0) | st.just(math.inf))
def test_the_figures_read_once_give_the_same_floats(profile: str, vol: float) -> None:
    """``Barriers`` (the exits' figures read once) is the formula on the exits itself, bit for bit."""
    p = exit_profile(profile)
    unit = max(vol, 0.0) * math.sqrt(p.horizon_s)
    sl = p.sl_pct * 1e4 + p.sl_vol * unit
    tp = p.tp_pct * 1e4 + p.tp_vol * unit
    want = repr(((min(tp, p.max_R * sl) if sl > 0.0 else tp), sl))  # repr: a NaN (inf * 0) equals itself
    assert repr(Barriers(p)(vol)) == repr(barriers(p, vol)) == want
