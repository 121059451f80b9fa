from __future__ import annotations

import numpy as np
import pytest

from hedge.signals.labeling import CENSORED, label_barriers


def run(mids: list[float], idx: list[int], sides: list[int], horizon_ms: int = 5000) -> list[int]:
    ts = np.arange(len(mids), dtype=np.int64) * 1000
    return label_barriers(ts, np.array(mids), np.array(idx, dtype=np.int64), np.array(sides, dtype=np.int64), 10.0, 5.0, horizon_ms).tolist()


def test_tp_first_sl_first_and_timeout() -> None:
    up = [100.0, 100.05, 100.11, 99.0, 99.0, 99.0, 99.0, 99.0]
    assert run(up, [0], [1]) == [1]  # +11 bps before the drop
    assert run(up, [0], [-1]) == [0]  # a short: -5.0 bps... then -11: stop first
    flat = [100.0] * 10
    assert run(flat, [0], [1]) == [0]  # neither within 5 s, horizon complete
    assert run(flat, [8], [1]) == [CENSORED]  # horizon runs past the end


def test_horizon_bounds_the_scan_and_no_look_ahead() -> None:
    mids = [100.0, 100.0, 100.0, 100.2]
    assert run(mids, [0], [1], horizon_ms=2000) == [0]
    assert run(mids, [0], [1], horizon_ms=3000) == [1]
    assert run([100.2, 100.0, 100.0, 100.0, 100.0], [1], [1], horizon_ms=2000) == [0]  # the past does not count


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        label_barriers(np.array([0, 1]), np.array([1.0]), np.array([0]), np.array([1]), 1.0, 1.0, 1)
    with pytest.raises(ValueError):
        label_barriers(np.array([0]), np.array([1.0]), np.array([0]), np.array([1]), 0.0, 1.0, 1)
