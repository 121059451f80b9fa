"""The BTC model on a small hand-computed fixture: EMAs, regimes, realised volatility, basis, the message."""

from __future__ import annotations

import math

import pytest

from hedge.state.btc_model.model import PARAMS, Params, ema, message, read, realised_vol, title

P = Params(ema_fast=2, ema_slow=3, rv_short=2, rv_long=4, periods_per_year=1.0)
CLOSES = [100.0, 102.0, 101.0, 104.0, 108.0]
CLOSE_MS = 1_733_299_200_000  # 2024-12-04 08:00 UTC


def test_ema_is_seeded_with_the_mean_then_smoothed() -> None:
    # EMA2: seed (100 + 102) / 2 = 101; alpha 2/3: 101 -> 101, 104 -> 103, 108 -> 103 + 2/3 x 5 = 106.333...
    assert ema(CLOSES, 2) == pytest.approx(319 / 3)
    # EMA3: seed (100 + 102 + 101) / 3 = 101; alpha 1/2: 104 -> 102.5, 108 -> 105.25
    assert ema(CLOSES, 3) == pytest.approx(105.25)
    with pytest.raises(ValueError):
        ema([1.0], 2)


def test_realised_volatility_is_the_root_mean_square_log_return_annualised() -> None:
    short = math.sqrt((math.log(104 / 101) ** 2 + math.log(108 / 104) ** 2) / 2)
    assert realised_vol(CLOSES, 2, 1.0) == pytest.approx(short)
    assert realised_vol(CLOSES, 2, 365.0) == pytest.approx(short * math.sqrt(365))
    assert short == pytest.approx(0.033772, abs=1e-6)  # ln(104/101) = 0.029270, ln(108/104) = 0.037740


def test_a_reading_and_its_message() -> None:
    r = read("BTCUSDT", "4h", CLOSES, CLOSE_MS, P, funding_rate=0.0001, mark=108.1, index=108.0)
    assert r.close == 108.0 and r.close_ms == CLOSE_MS
    assert (r.ema_fast, r.ema_slow) == (pytest.approx(319 / 3), pytest.approx(105.25))
    assert r.trend == "UP"  # 108 > 106.33 > 105.25
    assert r.trend_bps == pytest.approx((319 / 3 / 105.25 - 1) * 1e4) and round(r.trend_bps, 1) == 102.9
    rets = [math.log(102 / 100), math.log(101 / 102), math.log(104 / 101), math.log(108 / 104)]
    long_ = math.sqrt(sum(x * x for x in rets) / 4)  # 0.026317
    assert r.rv_long == pytest.approx(long_) and r.vol_ratio == pytest.approx(r.rv_short / long_)
    assert round(r.vol_ratio, 3) == 1.283 and r.vol == "HIGH"  # >= 1.25
    assert r.basis_bps == pytest.approx(0.1 / 108.0 * 1e4)
    prev = read("BTCUSDT", "4h", [104.0, 103.0, 102.0, 101.0, 100.0], CLOSE_MS - 14_400_000, P,
                funding_rate=0.00005, mark=100.0, index=100.0)
    assert prev.trend == "DOWN"
    assert title(r) == "BTCUSDT 4h close 2024-12-04 08:00 UTC"
    assert message(r, prev, P) == (
        "Close 108.00 (+8.00% since 2024-12-04 04:00 UTC)\n"
        "Trend UP (was DOWN): EMA2 106.33 vs EMA3 105.25 (+103 bps)\n"
        f"Vol HIGH (was {prev.vol}): RV2 3.4% vs RV4 2.6% (x1.28)\n"
        "Funding +0.0100% (+11.0%/yr), basis +9.3 bps (funding was +0.0050%)"
    )
    assert message(r, None, P).splitlines()[0] == "Close 108.00 (first reading)"


def test_the_shipped_parameters_fit_the_history_the_exchange_serves() -> None:
    assert PARAMS["1d"].bars_needed == 200 and PARAMS["4h"].bars_needed == 55
