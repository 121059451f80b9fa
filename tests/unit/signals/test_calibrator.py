from __future__ import annotations

import numpy as np
import pytest

from hedge.config import CalibratorParams
from hedge.signals.calibrator import Calibrator, fit_logistic, sigmoid


def test_predict_p_and_e_pi_hand_values() -> None:
    c = Calibrator(CalibratorParams(a=-1.0, b=2.0, fees_bps=4.0))
    assert c.predict_p(0.5) == pytest.approx(0.5)
    assert c.predict_p(-0.5) == pytest.approx(0.5)  # the sign of the score is the side
    p = c.predict_p(1.0)
    assert p == pytest.approx(1.0 / (1.0 + np.exp(-1.0)))
    assert c.e_pi_bps(0.5, 1.0, 50.0, 25.0) == pytest.approx(0.5 * 50 - 0.5 * 25 - 4 - 1)
    assert c.e_pi_bps(0.2, 2.0, 50.0, 25.0) == pytest.approx(10 - 20 - 4 - 2)


def test_sigmoid_is_stable_at_extremes() -> None:
    assert sigmoid(800.0) == 1.0
    assert sigmoid(-800.0) == 0.0
    assert sigmoid(0.0) == 0.5


def test_fit_recovers_known_parameters() -> None:
    rng = np.random.default_rng(7)
    x = rng.uniform(0.0, 1.0, 40_000)
    a, b = -1.2, 3.0
    y = (rng.uniform(size=x.size) < 1.0 / (1.0 + np.exp(-(a + b * x)))).astype(np.float64)
    fit = fit_logistic(x, y, l2=0.0)
    assert fit.converged
    assert fit.a == pytest.approx(a, abs=0.08)
    assert fit.b == pytest.approx(b, abs=0.15)


def test_ridge_keeps_one_sided_labels_finite() -> None:
    x = np.linspace(0.0, 1.0, 50)
    fit = fit_logistic(x, np.zeros(50), l2=1e-3)
    assert np.isfinite(fit.a) and np.isfinite(fit.b)
    assert sigmoid(fit.a + fit.b * 0.5) < 0.05


def test_fit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        fit_logistic(np.array([]), np.array([]))
    with pytest.raises(ValueError):
        fit_logistic(np.array([0.1, 0.2]), np.array([0.0, 2.0]))
    with pytest.raises(ValueError):
        fit_logistic(np.array([0.1, np.nan]), np.array([0.0, 1.0]))
