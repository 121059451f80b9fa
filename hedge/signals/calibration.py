"""Fitting the calibrator from recorded market data (what ``hedge calibrate`` runs).

Owns: the procedure. Replay BookUpdate/Trade/MarkPrice events through the same feature engine
and strategies as live trading; record every tick where a strategy has a non-zero score; thin them
to at most one per (strategy, symbol) per gap of event time (``calibrator.min_gap_ms`` for the
fit, 0 = every signal: dense labels; ``calibrator.eval_gap_ms`` for scoring); label each by the
barrier rule (``labeling.label_barriers``) with the trade the portfolio would manage: TP/SL from
``hedge.config.geometry.barriers`` at the sample's realized volatility, within ``exits.horizon_s``;
drop censored samples. Dense labels overlap (one outcome window holds many samples): they give
the fit more of the score's range, not more independent evidence.

Validation (honest calibration). ``calibrator.fit_fraction`` < 1: samples in time order, the
earliest share fits ``p = sigmoid(a + b * |score|)`` (``calibrator.fit_logistic``, ridge
``calibrator.l2``, slope prior ``calibrator.slope_l2``), the later rest is scored; fitted samples
whose horizon reaches into the scored period are dropped (purged), so every scored sample is
strictly later than everything the fit saw. ``fit_fraction`` 1: the fit uses everything and is
scored by blocked, purged cross-validation (``hedge.signals.cross_validation``,
``calibrator.cv_folds``). ``evaluate`` scores an existing calibrator on the samples strictly after
its ``data_to``.

Must never: write files (the command does), or touch the live stage's state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec
import numpy as np
import numpy.typing as npt

from hedge.config import CalibratorParams, StrategyConfig
from hedge.config.geometry import Barriers, signature
from hedge.events import BookUpdate, Event, MarkPrice, Trade
from hedge.signals.calibrator import LogisticFit, fit_logistic, sigmoid
from hedge.signals.cross_validation import cross_validate
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
    validation_kind: str  # "later" (held out after the fit) or "cv" (blocked cross-validation)
    tp_bps: float  # mean over the fitted samples (per-sample with a volatility-scaled geometry)
    sl_bps: float
    in_sample: Reliability
    validation: Reliability | None  # None when nothing was held out


class Forecasts(msgspec.Struct, frozen=True, kw_only=True):
    """A calibrator's forecasts for labelled samples (event time, p, outcome) and their scores."""

    ts_ms: npt.NDArray[np.int64]
    p: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    reliability: Reliability


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
        self._paths: dict[str, _Path] = {}
        # every signal: strategy, symbol, index into its path, side, |score|, realized vol (bps/sqrt(s))
        self.samples: list[tuple[str, str, int, int, float, float]] = []
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
            self.samples.append((strat.name, f.symbol, len(path.ts) - 1, 1 if s > 0.0 else -1, abs(s), f.vol_bps))

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

    def thinned(self, gap_ms: int) -> list[tuple[str, str, int, int, float, float]]:
        """The signals, at most one per (strategy, symbol) per ``gap_ms`` of event time (0: all)."""
        last: dict[tuple[str, str], int] = {}
        out = []
        for sample in self.samples:
            ts = self._paths[sample[1]].ts[sample[2]]
            prev = last.get(sample[:2])
            if prev is not None and ts - prev < gap_ms:
                continue
            last[sample[:2]] = ts
            out.append(sample)
        return out

    def label(self, *, tp_bps: float | None = None, sl_bps: float | None = None, gap_ms: int = 0) -> Labelled:
        """Label the signals thinned to ``gap_ms`` (TP/SL: the geometry's at each sample's volatility,
        or the fixed overrides)."""
        exits = self.cfg.exits
        horizon_ms = int(exits.horizon_s * 1000)
        rows: list[tuple[int, float, int, float, float]] = []
        censored = 0
        samples = self.thinned(gap_ms)
        for sym, path in self._paths.items():
            mine = [sample for sample in samples if sample[1] == sym]
            if not mine:
                continue
            geometry = Barriers(exits)
            geo = [geometry(sample[5]) for sample in mine]
            tps = np.asarray([g[0] if tp_bps is None else tp_bps for g in geo], dtype=np.float64)
            sls = np.asarray([g[1] if sl_bps is None else sl_bps for g in geo], dtype=np.float64)
            labels = label_barriers(
                np.asarray(path.ts, dtype=np.int64),
                np.asarray(path.mids, dtype=np.float64),
                np.asarray([sample[2] for sample in mine], dtype=np.int64),
                np.asarray([sample[3] for sample in mine], dtype=np.int64),
                tps,
                sls,
                horizon_ms,
            )
            for sample, y, tp, sl in zip(mine, labels.tolist(), tps.tolist(), sls.tolist(), strict=True):
                if y == CENSORED:
                    censored += 1
                else:
                    rows.append((path.ts[sample[2]], sample[4], y, tp, sl))
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
        """Label, fit and validate (split or cross-validation); ValueError when nothing can be fitted."""
        cal = self.cfg.calibrator
        horizon_ms = int(self.cfg.exits.horizon_s * 1000)
        lab = self.label(tp_bps=tp_bps, sl_bps=sl_bps, gap_ms=cal.min_gap_ms)
        ev = self.label(tp_bps=tp_bps, sl_bps=sl_bps, gap_ms=cal.eval_gap_ms)
        n = lab.x.size
        if not n:
            raise ValueError(
                f"no labelled samples ({self.book_updates} valid book updates, {len(self.samples)} signals, "
                f"{lab.censored} censored): the recording may be shorter than exits.horizon_s"
            )
        fit_mask, val_mask = split(lab.ts_ms, cal.fit_fraction, horizon_ms)
        if not fit_mask.any():
            raise ValueError(f"no sample left to fit after the purge ({n} labelled): a longer recording is needed")
        purged = int(n - fit_mask.sum() - val_mask.sum())
        fit = fit_logistic(lab.x[fit_mask], lab.y[fit_mask], l2=cal.l2, slope_l2=cal.slope_l2)
        fitted_ts = lab.ts_ms[fit_mask]
        seen = ev.ts_ms <= fitted_ts[-1]

        def scored(mask: npt.NDArray[np.bool_]) -> Reliability:
            return score([sigmoid(fit.a + fit.b * x) for x in ev.x[mask].tolist()], ev.y[mask])

        validation: Reliability | None = None
        if val_mask.any():
            later = ev.ts_ms >= lab.ts_ms[val_mask][0]
            validation = scored(later) if later.any() else None
        elif cal.cv_folds >= 2:
            p, done = cross_validate(lab.ts_ms, lab.x, lab.y, ev.ts_ms, ev.x, folds=cal.cv_folds,
                                     horizon_ms=horizon_ms, l2=cal.l2, slope_l2=cal.slope_l2)
            validation = score(p[done], ev.y[done]) if done.any() else None
        params = msgspec.structs.replace(
            cal, a=fit.a, b=fit.b, samples=int(fit_mask.sum()), positives=int(lab.y[fit_mask].sum()),
            fitted_on=fitted_on, data_from=iso_ms(int(fitted_ts[0])),
            data_to=iso_ms(int(fitted_ts[-1]) + horizon_ms),
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
            signals=len(self.thinned(cal.min_gap_ms)),
            censored=lab.censored,
            purged=purged,
            validation_kind="later" if val_mask.any() else "cv",
            tp_bps=float(lab.tp_bps[fit_mask].mean()),
            sl_bps=float(lab.sl_bps[fit_mask].mean()),
            in_sample=scored(seen),
            validation=validation,
        )

    def evaluate(self, params: CalibratorParams, after_ms: int, gap_ms: int | None = None) -> Forecasts:
        """``params``' forecasts for the samples strictly later than ``after_ms`` (out of sample), thinned
        to ``gap_ms`` (default: ``params.eval_gap_ms``)."""
        lab = self.label(gap_ms=params.eval_gap_ms if gap_ms is None else gap_ms)
        later = lab.ts_ms > after_ms
        p = 1.0 / (1.0 + np.exp(-(params.a + params.b * lab.x[later])))
        return Forecasts(ts_ms=lab.ts_ms[later], p=p, y=lab.y[later], reliability=score(p, lab.y[later]))


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
