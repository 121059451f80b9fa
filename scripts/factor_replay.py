"""Replay the bundled BTCUSDT recordings with the adaptive weight overlay off and on (docs/intel.md).

For the defaults and for the classic exit profile (which trades), each with
``factor_diagnostics.auto_weighting.adaptive`` off and on, and the classic profile once more with
``features.intel`` (conviction) on: the replay's decision fingerprint, and from its
factor_diagnostics.json the factor table (IC, IR, hit rate, PnL) and the hybrid score's weights over
time. Every new flag off must give the fingerprints of COMMON.md / docs/replay.md.

Usage: .venv/bin/python scripts/factor_replay.py [--log-dir DIR]. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from hedge.config import load_config
from hedge.replay.runner import Replay
from hedge.state import schemas as s
from hedge.state.manifest import read_surface, state_dir

DATA = Path(__file__).resolve().parents[1] / "hedge" / "data" / "binance-usdm" / "hftbacktest"
FILES = [DATA / "btcusdt_20240718.gz", DATA / "btcusdt_20240719.gz"]
CLASSIC = {"HEDGE_STRATEGY__EXITS__PROFILE": "classic"}
ADAPTIVE = {"HEDGE_STRATEGY__FACTOR_DIAGNOSTICS__AUTO_WEIGHTING__ADAPTIVE": "true"}
RUNS: dict[str, dict[str, str]] = {
    "defaults": {},
    "defaults_adaptive": ADAPTIVE,
    "classic": CLASSIC,
    "classic_adaptive": {**CLASSIC, **ADAPTIVE},
    "classic_intel": {**CLASSIC, "INTEL_V6_ENABLED": "1"},
}


def replay(name: str, env: dict[str, str], root: Path) -> dict[str, Any]:
    cfg = load_config(None, env=env)
    log_dir = root / name
    summary = asyncio.run(Replay(cfg, FILES, log_dir=log_dir).run())
    fd = read_surface(state_dir(log_dir), s.FactorDiagnosticsState)
    assert fd is not None
    hist = fd.weights_history
    picks = sorted({0, len(hist) // 4, len(hist) // 2, 3 * len(hist) // 4, len(hist) - 1}) if hist else []
    return {
        "fingerprint": summary.fingerprint,
        "intents": summary.intents, "orders": summary.orders, "pnl": round(summary.pnl, 4),
        "factors": {r.factor: {"ic": round(r.ic, 4), "ir": round(r.ir, 3), "hit_rate": round(r.hit_rate, 3),
                               "pnl_bps": round(r.pnl_bps, 1), "attributed_bps": round(r.attributed_bps, 2),
                               "samples": r.samples} for r in fd.factors},
        "weights_end": {k: round(v, 4) for k, v in fd.weights.items()},
        "weights_updates": len(hist),
        "weights_over_time": [[hist[i].ts_ms, round(hist[i].signal, 4), round(hist[i].expectancy, 4)] for i in picks],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log-dir", type=Path, default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.log_dir or Path(tmp)
        out = {name: replay(name, env, root) for name, env in RUNS.items()}
    for name, r in out.items():
        print(f"== {name}: fingerprint {r['fingerprint']}  intents {r['intents']}  orders {r['orders']}  "
              f"pnl {r['pnl']}  weights {r['weights_end']} ({r['weights_updates']} updates)")
        for factor, row in r["factors"].items():
            print(f"   {factor:<24} IC {row['ic']:+.4f}  IR {row['ir']:+.3f}  hit {row['hit_rate']:.3f}  "
                  f"pnl {row['pnl_bps']:+.1f} bps  attributed {row['attributed_bps']:+.2f} bps")
        if r["weights_over_time"]:
            print("   weights over time (ts_ms, signal, expectancy):", r["weights_over_time"])
    print(json.dumps({
        name: {k: r[k] for k in ("fingerprint", "intents", "orders", "pnl", "weights_end", "weights_updates",
                                 "weights_over_time")} | {"factors": r["factors"]}
        for name, r in out.items()
    }))


if __name__ == "__main__":
    main()
