"""Choose the calibrator's label density and slope prior on the fit recording alone (cross-validation).

Replays one recording (default: the bundled btcusdt_20240718.gz, the data the shipped calibrator is
fitted on; never the recording reported as out of sample), then for each label density
(``calibrator.min_gap_ms``) and slope prior (``calibrator.slope_l2``) fits with ``fit_fraction`` 1
and scores the fit by blocked, purged cross-validation (``calibrator.cv_folds`` folds, scored at
``calibrator.eval_gap_ms``: the same scored samples for every candidate). The rule, fixed before
the scan: the lowest pooled cross-validated log-loss (a proper scoring rule); ties go to the
sparser labels and the stronger prior (listed first).

Usage: .venv/bin/python scripts/calibration_select.py [FILE...]
Prints a table, then one JSON line: the chosen candidate and every candidate's figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import msgspec

from hedge.bus import Bus
from hedge.config import load_config
from hedge.events import BookUpdate, MarkPrice, Trade
from hedge.feeds.recording import ReplaySource
from hedge.signals.calibration import SampleCollector

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "hedge" / "data" / "binance-usdm" / "hftbacktest"
GAPS_MS = (1000, 250, 100, 0)
SLOPE_L2 = (1000.0, 100.0, 10.0, 1.0, 0.0)


def main() -> None:
    files = [Path(f) for f in sys.argv[1:]] or [DATA / "btcusdt_20240718.gz"]
    cfg = load_config(ROOT / "configs")
    collector = SampleCollector(cfg.strategy)
    bus = Bus()
    bus.subscribe(BookUpdate, collector.on_book)
    bus.subscribe(Trade, collector.on_trade)
    bus.subscribe(MarkPrice, collector.on_mark)
    ReplaySource(files, bus, imbalance_levels=cfg.runtime.feeds.imbalance_levels).run_sync()
    rows = []
    for gap in GAPS_MS:
        for prior in SLOPE_L2:
            cal = msgspec.structs.replace(cfg.strategy.calibrator, min_gap_ms=gap, slope_l2=prior, fit_fraction=1.0)
            collector.cfg = msgspec.structs.replace(cfg.strategy, calibrator=cal)
            res = collector.fit()
            v = res.validation
            rows.append({
                "min_gap_ms": gap, "slope_l2": prior, "fit_n": res.params.samples,
                "a": round(res.params.a, 4), "b": round(res.params.b, 4),
                "cv_n": v.n if v else 0, "cv_log_loss": round(v.log_loss, 4) if v else None,
                "cv_brier": round(v.brier, 4) if v else None, "cv_ece": round(v.ece, 4) if v else None,
            })
            print(rows[-1])
    scored = [r for r in rows if r["cv_log_loss"] is not None]
    best = min(scored, key=lambda r: r["cv_log_loss"]) if scored else None
    print(json.dumps({"files": [f.name for f in files], "rule": "lowest cv_log_loss", "chosen": best,
                      "candidates": rows}))


if __name__ == "__main__":
    main()
