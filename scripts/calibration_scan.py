"""Choose the scalper's trade geometry from data: held-out calibration quality per TP/SL width.

Replays recordings once (default: the bundled btcusdt_20240718.gz only, the data the defaults
were chosen on; never the recordings reported as out of sample), then for each volatility
multiple k (TP = SL = 1 bp + k x vol x sqrt(horizon_s)) and horizon labels the samples, fits on
the earlier ``calibrator.fit_fraction`` and scores the later rest. The rule: the geometry with the
lowest held-out log-loss among those whose labels are not one-sided (5% < win rate < 95%).

Usage: .venv/bin/python scripts/calibration_scan.py [FILE...]
Prints a table, then one JSON line: the chosen geometry and every candidate's figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import msgspec

from hedge.bus import Bus
from hedge.config import default_config
from hedge.events import BookUpdate, MarkPrice, Trade
from hedge.feeds.recording import ReplaySource
from hedge.signals.calibration import SampleCollector

DATA = Path(__file__).resolve().parents[1] / "hedge" / "data" / "binance-usdm" / "hftbacktest"
KS = (0.5, 1.0, 1.5, 2.0, 3.0)
HORIZONS = (30.0, 60.0)


def main() -> None:
    files = [Path(f) for f in sys.argv[1:]] or [DATA / "btcusdt_20240718.gz"]
    cfg = default_config().strategy
    collector = SampleCollector(cfg)
    bus = Bus()
    bus.subscribe(BookUpdate, collector.on_book)
    bus.subscribe(Trade, collector.on_trade)
    bus.subscribe(MarkPrice, collector.on_mark)
    ReplaySource(files, bus).run_sync()
    rows = []
    for horizon in HORIZONS:
        for k in KS:
            exits = msgspec.structs.replace(cfg.exits, tp_vol=k, sl_vol=k, horizon_s=horizon)
            collector.cfg = msgspec.structs.replace(cfg, exits=exits)
            try:
                res = collector.fit()
            except ValueError as exc:
                rows.append({"k": k, "horizon_s": horizon, "error": str(exc)})
                continue
            v = res.validation
            rows.append({
                "k": k, "horizon_s": horizon, "fit_n": res.params.samples,
                "fit_win_rate": round(res.in_sample.base_rate, 4), "held_out_n": v.n if v else 0,
                "held_out_win_rate": round(v.base_rate, 4) if v else None,
                "held_out_log_loss": round(v.log_loss, 4) if v else None,
                "held_out_ece": round(v.ece, 4) if v else None, "mean_tp_bps": round(res.tp_bps, 3),
            })
    for r in rows:
        print(r)
    ok = [r for r in rows if r.get("held_out_log_loss") is not None and 0.05 < r["fit_win_rate"] < 0.95]
    best = min(ok, key=lambda r: r["held_out_log_loss"]) if ok else None
    print(json.dumps({"files": [f.name for f in files], "chosen": best, "candidates": rows}))


if __name__ == "__main__":
    main()
