from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge.signals.calibration_stats import block_bootstrap, ece_equal_mass, noise_floor
from hedge.signals.calibrator import fit_logistic
from hedge.signals.cross_validation import blocked_folds
from hedge.signals.reliability import ece


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(20, 200), lo=st.floats(0.0, 10.0), extra=st.floats(0.1, 1000.0))
def test_a_stronger_slope_prior_never_moves_p_further_from_the_base_rate(
    seed: int, n: int, lo: float, extra: float
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, n)
    y = (rng.uniform(size=n) < 0.2 + 0.6 * x).astype(np.float64)
    weak = fit_logistic(x, y, slope_l2=lo)
    strong = fit_logistic(x, y, slope_l2=lo + extra)
    assert abs(strong.b) <= abs(weak.b) + 1e-9  # the penalised slope never grows with the penalty
    # p's spread around its centre (= how far from the base rate it can claim) shrinks with |b|
    assert np.ptp(strong.b * x) <= np.ptp(weak.b * x) + 1e-9
    flat = fit_logistic(x, y, slope_l2=1e9)  # all prior: every p is the fit's base rate
    p = 1.0 / (1.0 + np.exp(-(flat.a + flat.b * x)))
    assert np.allclose(p, y.mean(), atol=1e-3)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_ece_is_small_when_calibrated_and_large_when_not(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.75, 20_000)
    y = (rng.uniform(size=p.size) < p).astype(np.float64)
    assert ece(p, y) < 0.02 and ece_equal_mass(p, y) < 0.02
    off = np.clip(p + 0.2, 0.0, 1.0)  # claims 20 points more than it wins
    assert ece(off, y) > 0.15 and ece_equal_mass(off, y) > 0.15
    # fewer samples, more noise (another seed than the one that drew p)
    assert noise_floor(p[:300], reps=50, seed=seed + 1) > noise_floor(p, reps=5, seed=seed + 1)


def test_equal_mass_buckets_and_block_bootstrap() -> None:
    p = np.array([0.1, 0.1, 0.9, 0.9])
    assert ece_equal_mass(p, np.array([0.0, 1.0, 1.0, 1.0]), bins=2) == 0.5 * 0.4 + 0.5 * 0.1
    ts = np.arange(100, dtype=np.int64) * 100  # 10 blocks of 1 s
    rng = np.random.default_rng(1)
    q = rng.uniform(0.2, 0.8, 100)
    y = (rng.uniform(size=100) < q).astype(np.float64)
    ci = block_bootstrap(ts, q, y, ece, block_ms=1000, reps=200)
    assert ci.blocks == 10 and 0.0 <= ci.lo <= ci.hi
    again = block_bootstrap(ts, q, y, ece, block_ms=1000, reps=200)
    assert again == ci  # seeded: the same figures every time


@given(st.lists(st.integers(0, 100_000), min_size=1, max_size=60), st.integers(2, 6), st.integers(1, 5000))
def test_blocked_folds_never_fit_on_a_scored_outcome_window(stamps: list[int], folds: int, horizon: int) -> None:
    ts = np.sort(np.asarray(stamps, dtype=np.int64))
    covered = np.zeros(ts.size, dtype=bool)
    for fit, scored in blocked_folds(ts, ts, folds, horizon):
        covered |= scored
        for t in ts[scored].tolist():
            assert not np.any(np.abs(ts[fit] - t) <= horizon)  # no fitted window overlaps a scored one
    assert covered.all()  # every sample is scored by exactly one fold
