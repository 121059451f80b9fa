"""Auto mode with its maker leg's chase limited (``router.max_reprices``): does chasing less cost less?

The setup of scripts/bench_tca.py (its ``measurement_config``: the classic exit profile,
``per_trade_nav_pct=0.02``, cooloff off, the fill model of configs/fillprob.yaml), ``router.mode:
auto``, for each limit K in ``LIMITS`` (0 = no limit, the default): the shortfall, maker share and
fill rate on the first recording alone, on both together, and on the executions of the "both" run
that arrived in the second file (the sets of bench_tca). Compare with bench_tca's ``taker`` row of
the same sets (7.15 USDT whole stream on the intents every mode recorded, docs/tca.md).

Last line: one JSON object: per K and set, ``shortfall_usd``, ``maker_share``, ``fill_rate``,
``records``, and ``vs_no_limit`` (shortfall / K=0's).

Usage: .venv/bin/python scripts/bench_chase.py [OUT_DIR] [K ...]   (default: a temporary directory; 0 1 2 4)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import msgspec
from bench_tca import _records, _row, measurement_config

from hedge.app import run_async
from hedge.feeds.recording import bundled_btcusdt, iter_recording
from hedge.replay.runner import Replay

LIMITS = (0, 1, 2, 4)
KEYS = ("shortfall_usd", "maker_share", "fill_rate")


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="bench-chase-"))
    limits = [int(k) for k in sys.argv[2:]] or list(LIMITS)
    files = bundled_btcusdt()
    first_end = max(r.recv_ns for r in iter_recording(files[:1])) / 1e9
    r = msgspec.structs.replace
    result: dict[str, dict[str, dict[str, object]]] = {}
    for k in limits:
        cfg = measurement_config("auto")
        cfg = r(cfg, runtime=r(cfg.runtime, router=r(cfg.runtime.router, max_reprices=k)))
        sets: dict[str, dict[str, object]] = {}
        for name, paths in ((files[0].name, files[:1]), ("both", files)):
            d = out / f"k{k}" / name
            run_async(Replay(cfg, paths, log_dir=d).run())
            recs = _records(d)
            parts = {name: [x for _, x in recs]}
            if name == "both":  # the later file alone cannot be replayed: it continues the first's book
                parts[files[1].name + " arrivals"] = [x for t, x in recs if t > first_end]
            for set_name, rs in parts.items():
                row = _row(rs, "auto")
                sets[set_name] = {**{key: row[key] for key in KEYS}, "records": len(rs)}
        result[f"max_reprices={k}"] = sets
        print(f"max_reprices={k}: {json.dumps(sets)}", file=sys.stderr)
    base = result.get("max_reprices=0")
    if base:
        for sets in result.values():
            for set_name, row in sets.items():
                b = base[set_name]["shortfall_usd"]
                row["vs_no_limit"] = round(row["shortfall_usd"] / b, 3) if b else None  # type: ignore[operator]
    print(json.dumps({"out": str(out), "sweep": result}))


if __name__ == "__main__":
    main()
