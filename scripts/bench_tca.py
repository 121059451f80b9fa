"""Transaction-cost analysis of the router modes on each bundled recording and both together, same intents.

The measurement setup of issue 16: the classic exit profile (the defaults' calibrated gate vetoes
every intent on these recordings), ``strategy.per_trade_nav_pct=0.02`` and the risk cooloff off
(``risk.cooloff.seconds=0``) so every intent trades. Each ``router.mode`` replays the bundled
recordings once; the intents are the same in every mode (checked: same count), so the rows compare
one to one. Each mode's log directory keeps its ``tca.jsonl`` (``hedge tca DIR...`` charts them).

Sets: the first recording alone, both together, and the executions of the "both" run that arrived
in the second file (it continues the first's book and has no snapshot, so it cannot be replayed
alone). ``auto`` uses the fill model in configs/fillprob.yaml (``hedge calibrate-fills``, fitted on
the first file only).

An execution still running when a recording ends writes no record, and a mode that waits longer
(auto may rest up to 4x the maker timeout) leaves more of them at the end of the 3-minute 0718: each
set also compares the modes on the intents every mode recorded (``same_intents``).

Last line: one JSON object: per set and mode, the ``tca`` "all" row (cost_bps, shortfall_bps,
shortfall_usd, markout_bps, maker_share, fill_rate, budget_violations, time_to_fill_p50_s) with
the maker/taker rows' markouts, the shortfall ratio of each mode to ``taker`` and the goals met.

Usage: .venv/bin/python scripts/bench_tca.py [OUT_DIR]   (default: a temporary directory)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import msgspec

from hedge.app import run_async
from hedge.config import DEFAULT_CONFIG_DIR, Config, default_config, exit_profile, load_config
from hedge.feeds.recording import bundled_btcusdt, iter_recording
from hedge.replay.runner import Replay
from hedge.router.tca import MARKOUTS_S, IntentTca
from hedge.router.tca_stats import tca_block
from hedge.state.journal import read_journal

MODES = ("taker", "maker_first", "auto")
WRITTEN_AFTER_S = max(MARKOUTS_S.values()) + 1e-3  # TcaRecorder writes a record after its last markout


MODEL = load_config(DEFAULT_CONFIG_DIR, env={}).runtime.router.auto.model  # configs/fillprob.yaml


def measurement_config(mode: str) -> Config:
    cfg = default_config()
    r = msgspec.structs.replace
    return r(
        cfg,
        strategy=r(cfg.strategy, exits=exit_profile("classic"), per_trade_nav_pct=0.02),
        risk=r(cfg.risk, cooloff=r(cfg.risk.cooloff, seconds=0.0)),
        runtime=r(cfg.runtime, router=r(cfg.runtime.router, mode=mode, auto=r(cfg.runtime.router.auto, model=MODEL))),
    )


def _row(recs: list[IntentTca], mode: str) -> dict[str, object]:
    block = tca_block(recs)[mode]
    row = msgspec.to_builtins(block["all"])
    row["maker_markout_bps"] = block["maker"].markout_bps
    row["taker_markout_bps"] = block["taker"].markout_bps
    return row


def _records(log_dir: Path) -> list[tuple[float, IntentTca]]:
    """(arrival time in s, record): each is written ``WRITTEN_AFTER_S`` after its execution ended (or at the end)."""
    out = []
    for r in read_journal(log_dir / "tca.jsonl"):
        if r.kind == "tca":
            rec = msgspec.convert(r.decode(), IntentTca)
            out.append((r.ts_ns / 1e9 - WRITTEN_AFTER_S - max(rec.time_to_fill_s, 0.0), rec))
    return out


def _compare(rows: dict[str, dict[str, object]]) -> dict[str, object]:
    base = rows["taker"]["shortfall_usd"]
    ratio = {m: round(rows[m]["shortfall_usd"] / base, 3) if base else None for m in MODES}  # type: ignore[operator]
    auto = rows["auto"]
    return {"shortfall_vs_taker": ratio, "goals": {
        "auto_shortfall_le_0.7x_taker": ratio["auto"] is not None and ratio["auto"] <= 0.7,
        "auto_maker_share_ge_0.6": (auto["maker_share"] or 0.0) >= 0.6,  # type: ignore[operator]
        "zero_budget_violations": all(rows[m]["budget_violations"] == 0 for m in MODES)}}


def _same_intents(recs: dict[str, list[tuple[float, IntentTca]]]) -> dict[str, object]:
    """The modes compared on the intents each of them recorded (the rest are still running at the end)."""
    common = set.intersection(*({r.intent_id for _, r in recs[m]} for m in MODES))
    rows = {m: _row([r for _, r in recs[m] if r.intent_id in common], m) for m in MODES}
    return {"intents": len(common), **{m: {k: rows[m][k] for k in ("shortfall_usd", "maker_share", "fill_rate")}
                                       for m in MODES}, **_compare(rows)}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="bench-tca-"))
    files = bundled_btcusdt()
    first_end = max(r.recv_ns for r in iter_recording(files[:1])) / 1e9
    sets = {files[0].name: files[:1], "both": files}
    result: dict[str, object] = {"files": [p.name for p in files], "out": str(out)}
    later: dict[str, dict[str, object]] = {}
    for name, paths in sets.items():
        rows: dict[str, dict[str, object]] = {}
        intents: dict[str, int] = {}
        all_recs: dict[str, list[tuple[float, IntentTca]]] = {}
        tails: dict[str, list[tuple[float, IntentTca]]] = {}
        for mode in MODES:
            d = out / name / mode
            s = run_async(Replay(measurement_config(mode), paths, log_dir=d).run())
            intents[mode] = s.approved
            recs = all_recs[mode] = _records(d)
            rows[mode] = _row([r for _, r in recs], mode)
            print(f"{name} {mode}: {json.dumps(rows[mode])}", file=sys.stderr)
            if name == "both":  # the executions that arrived in the later file (it continues the first's book)
                tails[mode] = [(t, r) for t, r in recs if t > first_end]
                later[mode] = _row([r for _, r in tails[mode]], mode) if tails[mode] else {}
        if len(set(intents.values())) != 1:
            raise SystemExit(f"{name}: the modes did not execute the same intents: {intents}")
        result[name] = {**rows, **_compare(rows), "same_intents": _same_intents(all_recs)}
    if all(later.values()):  # the later file alone cannot be replayed: it has no book snapshot of its own
        result[files[1].name + " (arrivals after the first file, in the 'both' run)"] = {
            **later, **_compare(later), "same_intents": _same_intents(tails)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
