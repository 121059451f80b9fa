"""Brier score, log-loss, ECE and the reliability table by hand and by property; the fit/validation
split never lets a validation sample be earlier than (or overlap the outcome of) a fitted one."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedge.signals.calibration import split
from hedge.signals.reliability import brier, ece, log_loss, reliability_table, score


def test_hand_values() -> None:
    p, y = [0.2, 0.2, 0.8, 0.8], [0, 1, 1, 1]
    assert brier(p, y) == pytest.approx((0.04 + 0.64 + 0.04 + 0.04) / 4)
    assert log_loss(p, y) == pytest.approx(-(math.log(0.8) + math.log(0.2) + 2 * math.log(0.8)) / 4)
    table = reliability_table(p, y)
    assert [(b.lo, b.n, b.mean_p, b.win_rate) for b in table] == [
        (0.2, 2, pytest.approx(0.2), 0.5), (0.8, 2, pytest.approx(0.8), 1.0)]
    assert ece(p, y) == pytest.approx(0.5 * 0.3 + 0.5 * 0.2)
    assert reliability_table([1.0], [1])[0].hi == 1.0  # p = 1 falls in the last bucket


def test_perfect_forecasts_have_zero_error_and_bad_input_is_refused() -> None:
    assert brier([0.0, 1.0], [0, 1]) == 0.0 and ece([0.0, 1.0], [0, 1]) == 0.0
    with pytest.raises(ValueError):
        score([1.5], [1])
    with pytest.raises(ValueError):
        score([0.5], [2])


@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 1)), min_size=1, max_size=200))
def test_properties(rows: list[tuple[float, int]]) -> None:
    p = [r[0] for r in rows]
    y = [r[1] for r in rows]
    r = score(p, y)
    assert 0.0 <= r.brier <= 1.0 and r.log_loss >= 0.0 and 0.0 <= r.ece <= 1.0
    assert sum(b.n for b in r.buckets) == r.n == len(rows)
    assert r.base_rate == pytest.approx(sum(y) / len(y))
    # ECE is the bucket-weighted gap, never more than the mean absolute error
    assert r.ece <= float(np.mean(np.abs(np.asarray(p) - np.asarray(y)))) + 1e-9


@given(
    st.lists(st.integers(0, 10_000), min_size=1, max_size=300),
    st.floats(0.05, 1.0),
    st.integers(0, 2_000),
)
def test_split_has_no_leakage(gaps: list[int], fraction: float, horizon_ms: int) -> None:
    ts = np.cumsum(np.asarray(gaps, dtype=np.int64))
    fit, val = split(ts, fraction, horizon_ms)
    assert not (fit & val).any()
    if val.any() and fit.any():
        # every fitted outcome (its time + horizon) is known strictly before the first validation sample
        assert int((ts[fit] + horizon_ms).max()) < int(ts[val].min())
    if fraction >= 1.0:
        assert fit.all()
