from __future__ import annotations

import math
import random

import pytest

from hedge.model.sprt import Sprt, SprtDecision


def test_llr_steps_and_bounds_hand_values() -> None:
    s = Sprt(p0=0.45, p1=0.55, alpha=0.05, beta=0.10)
    assert s.upper == pytest.approx(math.log(0.9 / 0.05))
    assert s.lower == pytest.approx(math.log(0.1 / 0.95))
    assert s.update(True) is SprtDecision.CONTINUE
    assert s.llr == pytest.approx(math.log(0.55 / 0.45))
    s.update(False)
    assert s.llr == pytest.approx(math.log(0.55 / 0.45) + math.log(0.45 / 0.55))


def test_losing_stream_is_switched_off_and_stays_off() -> None:
    rng = random.Random(1)
    s = Sprt(0.45, 0.55, 0.05, 0.10)
    decisions = [s.update(rng.random() < 0.30) for _ in range(400)]
    assert SprtDecision.NO_EDGE in decisions
    off_at = decisions.index(SprtDecision.NO_EDGE)
    assert off_at < 100 and not s.enabled
    assert all(d is SprtDecision.NO_EDGE for d in decisions[off_at:])
    trials = s.trials
    s.update(True)
    assert s.trials == trials  # no longer counting
    s.reset()
    assert s.enabled and s.llr == 0.0


def test_winning_stream_is_kept() -> None:
    rng = random.Random(2)
    s = Sprt(0.45, 0.55, 0.05, 0.10)
    decisions = [s.update(rng.random() < 0.65) for _ in range(1000)]
    assert s.enabled
    assert SprtDecision.EDGE in decisions and SprtDecision.NO_EDGE not in decisions


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        Sprt(0.55, 0.45, 0.05, 0.1)
    with pytest.raises(ValueError):
        Sprt(0.45, 0.55, 0.0, 0.1)
