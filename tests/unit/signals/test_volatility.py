from __future__ import annotations

import math

import pytest

from hedge.events import VolRegime
from hedge.signals.volatility import EwmaVol, classify_regime


def test_one_return_gives_hand_computed_vol() -> None:
    v = EwmaVol(halflife_s=10.0)
    v.update(100.0, 0)
    assert v.vol_bps == 0.0
    v.update(100.01, 1000)  # r = ln(1.0001) * 1e4 bps after 1 s
    r = math.log(100.01 / 100.0) * 1e4
    assert v.vol_bps == pytest.approx(math.sqrt(r * r * math.log(2) / 10.0))


def test_decay_halves_the_sum_after_one_halflife() -> None:
    v = EwmaVol(halflife_s=10.0)
    v.update(100.0, 0)
    v.update(101.0, 0)
    before = v.vol_bps
    v.update(101.0, 10_000)  # no price change, one half-life later
    assert v.vol_bps == pytest.approx(before / math.sqrt(2.0))


def test_two_returns_accumulate_with_decay() -> None:
    v = EwmaVol(halflife_s=5.0)
    v.update(100.0, 0)
    v.update(100.02, 2000)
    v.update(100.0, 7000)
    r1 = math.log(100.02 / 100.0) * 1e4
    r2 = math.log(100.0 / 100.02) * 1e4
    s = r1 * r1 * 0.5 ** (5.0 / 5.0) + r2 * r2
    assert v.vol_bps == pytest.approx(math.sqrt(s * math.log(2) / 5.0))


def test_warm_after_one_halflife_and_bad_prices_ignored() -> None:
    v = EwmaVol(halflife_s=2.0)
    v.update(-1.0, 0)
    assert not v.warm and v.first_ms == -1
    v.update(100.0, 1000)
    v.update(100.0, 2999)
    assert not v.warm
    v.update(100.0, 3000)
    assert v.warm
    with pytest.raises(ValueError):
        EwmaVol(0.0)


def test_time_going_backwards_does_not_grow_the_sum() -> None:
    v = EwmaVol(halflife_s=5.0)
    v.update(100.0, 5000)
    v.update(100.0, 4000)
    assert v.vol_bps == 0.0 and v.last_ms == 5000


def test_regime_boundaries() -> None:
    assert classify_regime(0.1, 0.3, 1.5) is VolRegime.LOW
    assert classify_regime(0.3, 0.3, 1.5) is VolRegime.NORMAL
    assert classify_regime(1.5, 0.3, 1.5) is VolRegime.NORMAL
    assert classify_regime(1.51, 0.3, 1.5) is VolRegime.HIGH
