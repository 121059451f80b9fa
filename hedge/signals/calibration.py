"""Fitting the calibrator from recorded market data (what ``hedge calibrate`` runs).

Owns: the procedure. Replay BookUpdate/Trade/MarkPrice events through the same feature engine
and strategies as live trading; take a sample whenever a strategy has a non-zero score, at most
one per (strategy, symbol) per ``calibrator.min_gap_ms`` of event time (overlapping samples
would be near-duplicates); label each by the barrier rule (``labeling.label_barriers``) with
the exit rules' TP/SL in bps and ``calibrator.horizon_s``; drop censored samples; fit
``p = sigmoid(a + b * |score|)`` (``calibrator.fit_logistic``, ridge ``calibrator.l2``).

Must never: write files (the command does), or touch the live stage's state.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec
import numpy as np

from hedge.config import CalibratorParams, StrategyConfig
from hedge.events import BookUpdate, Event, MarkPrice, Trade
from hedge.signals.calibrator import LogisticFit, fit_logistic
from hedge.signals.features import FeatureEngine
from hedge.signals.labeling import CENSORED, label_barriers
from hedge.signals.strategies import build_strategies


class CalibrationResult(msgspec.Struct, frozen=True, kw_only=True):
    params: CalibratorParams
    fit: LogisticFit
    book_updates: int
    signals: int
    censored: int
    tp_bps: float
    sl_bps: float


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
        # per sample: symbol, index into its path, side, |score|
        self.samples: list[tuple[str, int, int, float]] = []
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
            self.samples.append((f.symbol, len(path.ts) - 1, 1 if s > 0.0 else -1, abs(s)))

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

    def fit(
        self, *, tp_bps: float | None = None, sl_bps: float | None = None, fitted_on: str = ""
    ) -> CalibrationResult:
        """Label every sample and fit; TP/SL default to the exit rules. ValueError when nothing is labelled."""
        cfg = self.cfg
        cal = cfg.calibrator
        tp = cfg.exits.tp_pct * 1e4 if tp_bps is None else tp_bps
        sl = cfg.exits.sl_pct * 1e4 if sl_bps is None else sl_bps
        xs: list[float] = []
        ys: list[int] = []
        censored = 0
        horizon_ms = int(cal.horizon_s * 1000)
        for sym, path in self._paths.items():
            mine = [sample for sample in self.samples if sample[0] == sym]
            if not mine:
                continue
            labels = label_barriers(
                np.asarray(path.ts, dtype=np.int64),
                np.asarray(path.mids, dtype=np.float64),
                np.asarray([sample[1] for sample in mine], dtype=np.int64),
                np.asarray([sample[2] for sample in mine], dtype=np.int64),
                tp,
                sl,
                horizon_ms,
            )
            for sample, y in zip(mine, labels.tolist(), strict=True):
                if y == CENSORED:
                    censored += 1
                else:
                    xs.append(sample[3])
                    ys.append(y)
        if not xs:
            raise ValueError(
                f"no labelled samples ({self.book_updates} valid book updates, {len(self.samples)} signals, "
                f"{censored} censored): the recording may be shorter than calibrator.horizon_s"
            )
        fit = fit_logistic(np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64), l2=cal.l2)
        params = msgspec.structs.replace(
            cal, a=fit.a, b=fit.b, samples=len(xs), positives=int(sum(ys)), fitted_on=fitted_on
        )
        return CalibrationResult(
            params=params,
            fit=fit,
            book_updates=self.book_updates,
            signals=len(self.samples),
            censored=censored,
            tp_bps=tp,
            sl_bps=sl,
        )


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
