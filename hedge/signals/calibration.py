"""Fitting the calibrator from recorded market data (what ``hedge calibrate`` runs).

Owns: the procedure. Replay BookUpdate/Trade/MarkPrice events through the same feature engine
and strategies as live trading; take a sample whenever a strategy has a non-zero score, at most
one per (strategy, symbol) per ``calibrator.min_gap_ms`` of event time (overlapping samples
would be near-duplicates); label each by the barrier rule (``labeling.label_barriers``) with
the trade the portfolio would manage: TP/SL from ``hedge.config.geometry.barriers`` at the
sample's realized volatility, within ``exits.horizon_s``; drop censored samples.

The split (honest calibration): samples in time order, the earliest ``calibrator.fit_fraction``
fit ``p = sigmoid(a + b * |score|)`` (``calibrator.fit_logistic``, ridge ``calibrator.l2``), the
rest validate (``hedge.signals.reliability``). A fitted sample's outcome is known only at its
time + horizon, so fitted samples whose horizon reaches into the validation period are dropped
(purged): every validation sample is strictly later than everything the fit saw.
``evaluate`` scores an existing calibrator on the samples strictly after its ``data_to``.

Must never: write files (the command does), or touch the live stage's state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
import numpy as np
import numpy.typing as npt

from hedge.config import CalibratorParams, StrategyConfig
from hedge.config.geometry import barriers, signature
from hedge.events import BookUpdate, Event, MarkPrice, Trade
from hedge.signals.calibrator import LogisticFit, fit_logistic, sigmoid
from hedge.signals.features import FeatureEngine
from hedge.signals.labeling import CENSORED, label_barriers
from hedge.signals.reliability import Reliability, score
from hedge.signals.strategies import build_strategies


def iso_ms(ts_ms: int) -> str:
    """Event time as UTC ISO 8601 (what a calibrator's ``data_from``/``data_to`` hold)."""
    return datetime.fromtimestamp(ts_ms / 1000.0, UTC).isoformat(timespec="milliseconds")


class CalibrationResult(msgspec.Struct, frozen=True, kw_only=True):
    params: CalibratorParams
    fit: LogisticFit
    book_updates: int
    signals: int
    censored: int
    purged: int  # fitted samples dropped because their horizon reached the validation period
    tp_bps: float  # mean over the fitted samples (per-sample with a volatility-scaled geometry)
    sl_bps: float
    in_sample: Reliability
    validation: Reliability | None  # None when nothing was held out


class Labelled(msgspec.Struct, frozen=True, kw_only=True):
    """Every uncensored sample in time order: event time, |score|, outcome (1 = TP first), TP/SL bps."""

    ts_ms: npt.NDArray[np.int64]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    tp_bps: npt.NDArray[np.float64]
    sl_bps: npt.NDArray[np.float64]
    censored: int


class _Path:
    __slots__ = ("mids", "ts")

    def __init__(self) -> None:
        self.ts: list[int] = []
        self.mids: list[float] = []


class SampleCollector:
    """Bus handlers (or direct calls) that record mid paths and strategy samples during a replay."""

    def __init__(self, cfg: StrategyConfig, file: str = "strategy.yaml") -> None:
        self.cfg = cfg
        self.engine = FeatureEngine(cfg.signals)
        self.strategies = build_strategies(cfg, file)
        self._gap_ms = cfg.calibrator.min_gap_ms
        self._paths: dict[str, _Path] = {}
        self._last_sample: dict[tuple[str, str], int] = {}
        # per sample: symbol, index into its path, side, |score|, realized vol (bps/sqrt(s))
        self.samples: list[tuple[str, int, int, float, float]] = []
        self.book_updates = 0

    def on_book(self, u: BookUpdate) -> None:
        f = self.engine.on_book(u)
        if not f.valid:
            return
        self.book_updates += 1
        path = self._paths.get(f.symbol)
        if path is None:
            path = self._paths[f.symbol] = _Path()
        path.ts.append(f.ts_ms)
        path.mids.append(f.mid)
        for strat in self.strategies:
            s = strat.score(f)
            if s == 0.0:
                continue
            key = (strat.name, f.symbol)
            prev = self._last_sample.get(key)
            if prev is not None and f.ts_ms - prev < self._gap_ms:
                continue
            self._last_sample[key] = f.ts_ms
            self.samples.append((f.symbol, len(path.ts) - 1, 1 if s > 0.0 else -1, abs(s), f.vol_bps))

    def on_trade(self, t: Trade) -> None:
        self.engine.on_trade(t)

    def on_mark(self, m: MarkPrice) -> None:
        self.engine.on_mark(m)

    def feed(self, events: Iterable[Event]) -> None:
        for ev in events:
            if isinstance(ev, BookUpdate):
                self.on_book(ev)
            elif isinstance(ev, Trade):
                self.on_trade(ev)
            elif isinstance(ev, MarkPrice):
                self.on_mark(ev)

    def label(self, *, tp_bps: float | None = None, sl_bps: float | None = None) -> Labelled:
        """Label every sample (TP/SL: the geometry's at each sample's volatility, or the fixed overrides)."""
        exits = self.cfg.exits
        horizon_ms = int(exits.horizon_s * 1000)
        rows: list[tuple[int, float, int, float, float]] = []
        censored = 0
        for sym, path in self._paths.items():
            mine = [sample for sample in self.samples if sample[0] == sym]
            if not mine:
                continue
            geo = [barriers(exits, sample[4]) for sample in mine]
            tps = np.asarray([g[0] if tp_bps is None else tp_bps for g in geo], dtype=np.float64)
            sls = np.asarray([g[1] if sl_bps is None else sl_bps for g in geo], dtype=np.float64)
            labels = label_barriers(
                np.asarray(path.ts, dtype=np.int64),
                np.asarray(path.mids, dtype=np.float64),
                np.asarray([sample[1] for sample in mine], dtype=np.int64),
                np.asarray([sample[2] for sample in mine], dtype=np.int64),
                tps,
                sls,
                horizon_ms,
            )
            for sample, y, tp, sl in zip(mine, labels.tolist(), tps.tolist(), sls.tolist(), strict=True):
                if y == CENSORED:
                    censored += 1
                else:
                    rows.append((path.ts[sample[1]], sample[3], y, tp, sl))
        rows.sort(key=lambda r: r[0])
        cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
        return Labelled(
            ts_ms=np.asarray(cols[0], dtype=np.int64),
            x=np.asarray(cols[1], dtype=np.float64),
            y=np.asarray(cols[2], dtype=np.float64),
            tp_bps=np.asarray(cols[3], dtype=np.float64),
            sl_bps=np.asarray(cols[4], dtype=np.float64),
            censored=censored,
        )

    def fit(
        self, *, tp_bps: float | None = None, sl_bps: float | None = None, fitted_on: str = ""
    ) -> CalibrationResult:
        """Label, split, fit on the earlier part, validate on the later; ValueError when nothing can be fitted."""
        cal = self.cfg.calibrator
        lab = self.label(tp_bps=tp_bps, sl_bps=sl_bps)
        n = lab.x.size
        if not n:
            raise ValueError(
                f"no labelled samples ({self.book_updates} valid book updates, {len(self.samples)} signals, "
                f"{lab.censored} censored): the recording may be shorter than exits.horizon_s"
            )
        fit_mask, val_mask = split(lab.ts_ms, cal.fit_fraction, int(self.cfg.exits.horizon_s * 1000))
        if not fit_mask.any():
            raise ValueError(f"no sample left to fit after the purge ({n} labelled): a longer recording is needed")
        purged = int(n - fit_mask.sum() - val_mask.sum())
        fit = fit_logistic(lab.x[fit_mask], lab.y[fit_mask], l2=cal.l2)

        def scored(mask: npt.NDArray[np.bool_]) -> Reliability:
            return score([sigmoid(fit.a + fit.b * x) for x in lab.x[mask].tolist()], lab.y[mask])

        validation = scored(val_mask) if val_mask.any() else None
        fitted_ts = lab.ts_ms[fit_mask]
        params = msgspec.structs.replace(
            cal, a=fit.a, b=fit.b, samples=int(fit_mask.sum()), positives=int(lab.y[fit_mask].sum()),
            fitted_on=fitted_on, data_from=iso_ms(int(fitted_ts[0])),
            data_to=iso_ms(int(fitted_ts[-1]) + int(self.cfg.exits.horizon_s * 1000)),
            geometry=signature(self.cfg.exits),
            validation_samples=validation.n if validation else 0,
            brier=round(validation.brier, 6) if validation else 0.0,
            log_loss=round(validation.log_loss, 6) if validation else 0.0,
            ece=round(validation.ece, 6) if validation else 0.0,
        )
        return CalibrationResult(
            params=params,
            fit=fit,
            book_updates=self.book_updates,
            signals=len(self.samples),
            censored=lab.censored,
            purged=purged,
            tp_bps=float(lab.tp_bps[fit_mask].mean()),
            sl_bps=float(lab.sl_bps[fit_mask].mean()),
            in_sample=scored(fit_mask),
            validation=validation,
        )

    def evaluate(self, params: CalibratorParams, after_ms: int) -> Reliability:
        """``params``' forecasts scored on the samples strictly later than ``after_ms`` (out of sample)."""
        lab = self.label()
        later = lab.ts_ms > after_ms
        return score([sigmoid(params.a + params.b * x) for x in lab.x[later].tolist()], lab.y[later])


def split(ts_ms: npt.NDArray[np.int64], fit_fraction: float, horizon_ms: int) -> tuple[
    npt.NDArray[np.bool_], npt.NDArray[np.bool_]
]:
    """(fit, validation) masks over time-ordered samples: the earliest ``fit_fraction`` fit, the
    rest validate; a fitted sample whose outcome (its time + ``horizon_ms``) is not known before the
    first validation sample is in neither (purged). ``fit_fraction`` 1: everything fits."""
    n = ts_ms.size
    k = min(n, max(1, round(n * fit_fraction)))
    if k >= n:
        return np.ones(n, dtype=bool), np.zeros(n, dtype=bool)
    start = int(ts_ms[k])
    val = ts_ms >= start  # equal timestamps straddling the cut: the later part holds them all
    fit = ~val & (ts_ms + horizon_ms < start)
    return fit, val


def calibrate(
    events: Iterable[Event],
    cfg: StrategyConfig,
    *,
    tp_bps: float | None = None,
    sl_bps: float | None = None,
    fitted_on: str = "",
) -> CalibrationResult:
    """Fit the calibrator on time-ordered ``events``. Raises ValueError when nothing could be labelled."""
    collector = SampleCollector(cfg)
    collector.feed(events)
    return collector.fit(tp_bps=tp_bps, sl_bps=sl_bps, fitted_on=fitted_on)
