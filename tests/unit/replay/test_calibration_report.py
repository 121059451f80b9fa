"""The net expectancy's confidence interval."""

from __future__ import annotations

import pytest

from hedge.replay.calibration_report import mean_ci


def test_mean_ci_by_hand() -> None:
    assert mean_ci([]).mean == 0.0 and mean_ci([2.0]) == mean_ci([2.0])
    one = mean_ci([2.0])
    assert one.low == one.high == one.mean == 2.0
    ci = mean_ci([1.0, 2.0, 3.0])  # sd 1, t(2) = 4.303
    assert ci.mean == 2.0 and ci.high - ci.mean == pytest.approx(4.303 / 3**0.5)
    assert mean_ci([1.0] * 100).low == pytest.approx(1.0)
