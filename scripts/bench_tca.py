"""Transaction-cost analysis of the router modes on every bundled recording, with the same intents.

The measurement setup of issue 16: the classic exit profile (the defaults' calibrated gate vetoes
every intent on these recordings), ``strategy.per_trade_nav_pct=0.02`` and the risk cooloff off
(``risk.cooloff.seconds=0``) so every intent trades. Each ``router.mode`` replays the bundled
recordings once; the intents are the same in every mode (checked: same count), so the rows compare
one to one. Each mode's log directory keeps its ``tca.jsonl`` (``hedge tca DIR...`` charts them).

Last line: one JSON object: per mode, the summary's ``tca`` "all" row (cost_bps, shortfall_bps,
shortfall_usd, markout_bps, maker_share, fill_rate, budget_violations, time_to_fill_p50_s) with
the maker row's markouts, and the shortfall ratio of each mode to ``taker``.

Usage: .venv/bin/python scripts/bench_tca.py [OUT_DIR]   (default: a temporary directory)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import msgspec

from hedge.app import run_async
from hedge.config import Config, default_config, exit_profile
from hedge.feeds.recording import bundled_btcusdt
from hedge.replay.runner import Replay

MODES = ("taker", "maker_first", "auto")


def measurement_config(mode: str) -> Config:
    cfg = default_config()
    r = msgspec.structs.replace
    return r(
        cfg,
        strategy=r(cfg.strategy, exits=exit_profile("classic"), per_trade_nav_pct=0.02),
        risk=r(cfg.risk, cooloff=r(cfg.risk.cooloff, seconds=0.0)),
        runtime=r(cfg.runtime, router=r(cfg.runtime.router, mode=mode)),
    )


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="bench-tca-"))
    result: dict[str, object] = {"files": [p.name for p in bundled_btcusdt()], "out": str(out)}
    intents: dict[str, int] = {}
    for mode in MODES:
        s = run_async(Replay(measurement_config(mode), bundled_btcusdt(), log_dir=out / mode).run())
        intents[mode] = s.approved
        row = msgspec.to_builtins(s.tca[mode]["all"])
        row["maker_markout_bps"] = s.tca[mode]["maker"].markout_bps
        row["taker_markout_bps"] = s.tca[mode]["taker"].markout_bps
        row["intents"] = s.tca[mode]["all"].intents
        result[mode] = row
        print(f"{mode}: {json.dumps(row)}", file=sys.stderr)
    if len(set(intents.values())) != 1:
        raise SystemExit(f"the modes did not execute the same intents: {intents}")
    base = result["taker"]["shortfall_usd"]  # type: ignore[index]
    result["shortfall_vs_taker"] = {m: round(result[m]["shortfall_usd"] / base, 3) if base else None  # type: ignore[index]
                                    for m in MODES}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
