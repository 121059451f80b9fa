from __future__ import annotations

import math

import msgspec
import pytest

from hedge.bus import Bus
from hedge.config import CalibratorParams, StrategyConfig, StrategyEntry, exit_profile
from hedge.config.geometry import signature
from hedge.events import BookUpdate, Event, MarkPrice, Trade
from hedge.feeds.recording import ReplaySource, bundled_btcusdt
from hedge.signals.calibration import SampleCollector, calibrate
from hedge.signals.calibrator import sigmoid
from tests.unit.signals.test_features import book

SCALPER = [StrategyEntry(name="micro_scalper")]


def synthetic() -> list[Event]:
    """10-second segments: a strong bid (score 0.54) is followed by +6 bps, a weak one (0.12) by -6 bps."""
    out: list[Event] = []
    ts = 0
    base = 100.0
    for seg in range(40):
        strong = seg % 2 == 0
        bq, aq = (19.0, 1.0) if strong else (6.0, 4.0)
        move = (6e-4 if strong else -6e-4) * base
        for k in range(100):
            mid = base + move * min(k, 50) / 50
            out.append(book(ts, mid - 0.01, mid + 0.01, bq, aq, uid=ts + 1))
            ts += 100
        base += move
    return out


def test_calibration_learns_that_strong_scores_win() -> None:
    cfg = StrategyConfig(strategies=SCALPER, calibrator=CalibratorParams(min_gap_ms=10_000, fit_fraction=1.0),
                         exits=exit_profile("scalper", horizon_s=5.0))
    res = calibrate(synthetic(), cfg, tp_bps=3.0, sl_bps=3.0, fitted_on="synthetic")
    assert res.book_updates == 4000
    assert res.signals == 40 and res.censored == 0
    assert res.params.samples == 40 and res.params.positives == 20
    assert res.fit.b > 5.0
    assert sigmoid(res.fit.a + res.fit.b * 0.54) > 0.9 > 0.1 > sigmoid(res.fit.a + res.fit.b * 0.12)
    assert res.params.fitted_on == "synthetic" and res.params.fees_bps == cfg.calibrator.fees_bps


def recorded_events() -> list[Event]:
    bus = Bus()
    out: list[Event] = []
    for t in (BookUpdate, Trade, MarkPrice):
        bus.subscribe(t, out.append)
    ReplaySource(bundled_btcusdt(), bus).run_sync()
    return out


def test_calibration_on_the_bundled_recording() -> None:
    # the scalper's geometry, fit on the earlier 60%; fit and scored samples at one density (the identity below)
    cfg = StrategyConfig(strategies=SCALPER, calibrator=CalibratorParams(min_gap_ms=1000, eval_gap_ms=1000))
    events = recorded_events()
    res = calibrate(events, cfg)
    assert res.book_updates == sum(isinstance(e, BookUpdate) and e.valid for e in events) > 9000
    assert 0 < res.params.positives < res.params.samples
    assert res.validation is not None and res.validation.n == res.params.validation_samples > 0
    assert res.params.samples + res.purged + res.validation.n + res.censored == res.signals
    assert res.params.geometry == signature(cfg.exits) and res.params.data_from < res.params.data_to
    assert math.isfinite(res.params.a) and math.isfinite(res.params.b) and res.fit.converged
    collector = SampleCollector(cfg)  # the same run driven by bus subscriptions, as the command does
    bus = Bus()
    bus.subscribe(BookUpdate, collector.on_book)
    bus.subscribe(Trade, collector.on_trade)
    bus.subscribe(MarkPrice, collector.on_mark)
    ReplaySource(bundled_btcusdt(), bus).run_sync()
    again = collector.fit()
    assert msgspec.json.encode(again) == msgspec.json.encode(res)


def test_nothing_to_label_is_a_clear_error() -> None:
    cfg = StrategyConfig(strategies=SCALPER, exits=exit_profile("scalper", horizon_s=3600.0))
    with pytest.raises(ValueError, match="no labelled samples"):
        calibrate(synthetic()[:50], cfg, tp_bps=50.0, sl_bps=50.0)
