"""How far can choosing the leg per intent go? The hindsight oracle over the router's legs, vs ``taker``.

The setup of scripts/bench_tca.py (its ``measurement_config``: the classic exit profile,
``per_trade_nav_pct=0.02``, cooloff off, the fill model of configs/fillprob.yaml). Both bundled
recordings are replayed once per leg in ``LEGS`` (the same intents in every run, checked), and each
intent's shortfall (USDT, ``tca.jsonl``) is read per leg. The ``oracle`` takes, per intent and in
hindsight, the leg that cost least: no causal policy that picks among these legs per intent (auto,
any threshold, any signal-conditioned rule) can beat it, so if it is above 0.7x ``taker`` the goal
is out of reach for such a chooser. The legs:

- ``taker``: the capped IOC at once (the baseline);
- ``peg_T``: maker first pegged to the touch (``router.reprice_ticks`` 2, no limit) for T s, then the IOC;
- ``peg_off1_20``: the same one tick behind the touch; ``peg_rp5_20``: repriced only when the touch
  moved 5 ticks away;
- ``static_T``: rest at the arrival touch for T s without repricing, then the IOC (no chase);
- ``auto``: today's auto.

The oracle restricted to a family of legs (``FAMILIES``: the horizon, the level, every pegged leg,
the reprice threshold) bounds a chooser of that kind; ``pair_*``: choosing between ``taker`` and
``auto``'s leg per intent, right with probability q (``pair_coin``: q = 0.5), and the q the goal
needs (above 1: out of reach even for the oracle). ``completed`` adds to each shortfall the taker
fee on the unfilled rest (crossed at the end mid, where its opportunity cost is marked), so a leg
cannot look cheaper by filling less. ``walk_forward``: the best fixed leg on one file's intents,
scored on the other's, both ways.

Also the fee floor (every intent filled whole as maker at the arrival mid, no chase: the maker fee)
and the chase each leg's maker fills paid (their slippage vs the arrival mid, fees excluded).

Sets: the intents that arrived in the first file, in the second, and all (the second file
continues the first's book and cannot be replayed alone).

Last line: one JSON object: per set, each leg's shortfall and ratio to taker, the oracle's (and
which legs it picked), the fee floor's ratio, and the maker fills' chase per pegged leg.

Usage: .venv/bin/python scripts/bench_oracle.py [OUT_DIR]   (default: a temporary directory)
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import msgspec
from bench_tca import _records, measurement_config

from hedge.app import run_async
from hedge.config import Config
from hedge.feeds.recording import bundled_btcusdt, iter_recording
from hedge.replay.runner import Replay
from hedge.router.tca import IntentTca

NEVER = 1_000_000  # reprice_ticks: the touch never moves this far: a static order


def _leg(mode: str, timeout_s: float = 5.0, offset: int = 0, reprice: int = 2) -> Config:
    cfg = measurement_config(mode)
    r = msgspec.structs.replace
    return r(cfg, runtime=r(cfg.runtime, router=r(cfg.runtime.router, maker_timeout_s=timeout_s,
                                                  maker_offset_ticks=offset, reprice_ticks=reprice)))


LEGS: dict[str, Config] = {
    "taker": _leg("taker"),
    **{f"peg_{t:g}": _leg("maker_first", t) for t in (5.0, 10.0, 20.0)},
    "peg_off1_20": _leg("maker_first", 20.0, offset=1),
    "peg_rp5_20": _leg("maker_first", 20.0, reprice=5),
    **{f"static_{t:g}": _leg("maker_first", t, reprice=NEVER) for t in (20.0, 40.0)},
    "auto": _leg("auto"),
}
FAMILIES = {  # the hindsight oracle restricted to the legs a chooser of one kind picks among
    "horizon": ("taker", "peg_5", "peg_10", "peg_20"),
    "level": ("taker", "peg_20", "peg_off1_20"),
    "pegged": ("taker", "peg_5", "peg_10", "peg_20", "peg_off1_20", "peg_rp5_20", "auto"),
    "reprice": ("taker", "peg_20", "peg_rp5_20", "static_20"),
}
PAIR = ("taker", "auto")  # the choice auto makes per slice: the accuracy it would need
GOAL = 0.7
MAKER_FEE_BPS = 2.0
TAKER_FEE_BPS = 5.0


def _notional(r: IntentTca) -> float:
    return r.qty * r.arrival_mid


def _completed(r: IntentTca) -> float:
    """The shortfall with the unfilled rest crossed at the end of the execution (its opportunity cost is
    already marked at the end mid: plus the taker fee), so a leg does not look cheaper by filling less."""
    return r.shortfall_usd + (r.qty - r.filled_qty) * r.end_mid * TAKER_FEE_BPS / 1e4


def _chase_bps(recs: list[IntentTca]) -> float | None:
    """Quantity-weighted slippage vs the arrival mid of the maker fills (fees excluded): the chase."""
    fills = [f for r in recs for f in r.fills if f.maker]
    q = sum(f.qty for f in fills)
    return round(sum(f.qty * f.slippage_bps for f in fills) / q, 3) if q else None


def _costs(by_leg: dict[str, dict[str, IntentTca]], ids: set[str], cost: Callable[[IntentTca], float],
           ) -> dict[str, object]:
    taker = sum(cost(by_leg["taker"][i]) for i in ids)
    legs = {n: sum(cost(by_leg[n][i]) for i in ids) for n in LEGS}
    best = {i: min(LEGS, key=lambda n, i=i: cost(by_leg[n][i])) for i in ids}  # type: ignore[misc]
    oracle = sum(cost(by_leg[best[i]][i]) for i in ids)
    # choosing between the two legs of PAIR per intent, right with probability q: the q that reaches GOAL
    lo = sum(min(cost(by_leg[n][i]) for n in PAIR) for i in ids)
    hi = sum(max(cost(by_leg[n][i]) for n in PAIR) for i in ids)
    need = (hi - GOAL * taker) / (hi - lo) if hi > lo else None
    return {"usd": {n: round(v, 4) for n, v in legs.items()},
            "vs_taker": {n: round(v / taker, 3) for n, v in legs.items()},
            "oracle_usd": round(oracle, 4), "oracle_vs_taker": round(oracle / taker, 3),
            "oracle_picks": dict(Counter(best.values())),
            "family_oracle_vs_taker": {f: round(sum(min(cost(by_leg[n][i]) for n in legs) for i in ids) / taker, 3)
                                       for f, legs in FAMILIES.items()},
            "pair_oracle_vs_taker": round(lo / taker, 3), "pair_coin_vs_taker": round((lo + hi) / 2 / taker, 3),
            "pair_accuracy_for_goal": round(need, 3) if need is not None else None}


def _set(by_leg: dict[str, dict[str, IntentTca]], ids: set[str]) -> dict[str, object]:
    taker = sum(by_leg["taker"][i].shortfall_usd for i in ids)
    # the fee floor: each intent filled whole as maker at the arrival mid (BTC's half spread is ~0.008 bps)
    floor = sum(_notional(by_leg["taker"][i]) * MAKER_FEE_BPS / 1e4 for i in ids)
    fill = {n: round(sum(by_leg[n][i].filled_qty for i in ids) / sum(by_leg[n][i].qty for i in ids), 3) for n in LEGS}
    return {
        "intents": len(ids),
        "shortfall": _costs(by_leg, ids, lambda r: r.shortfall_usd),
        "completed": _costs(by_leg, ids, _completed),
        "fill_rate": fill,
        "fee_floor_vs_taker": round(floor / taker, 3),
        "maker_chase_bps": {n: _chase_bps([by_leg[n][i] for i in ids]) for n in LEGS if n != "taker"},
    }


def _walk_forward(by_leg: dict[str, dict[str, IntentTca]], a: set[str], b: set[str], name_a: str, name_b: str,
                  ) -> dict[str, object]:
    """The best fixed leg (completed cost) chosen on one file's intents, scored on the other's, both ways."""
    out: dict[str, object] = {}
    for fit, test, fit_name, test_name in ((a, b, name_a, name_b), (b, a, name_b, name_a)):
        leg = min(LEGS, key=lambda n: sum(_completed(by_leg[n][i]) for i in fit))
        taker = sum(_completed(by_leg["taker"][i]) for i in test)
        out[f"fit {fit_name} -> test {test_name}"] = {
            "leg": leg, "completed_vs_taker": round(sum(_completed(by_leg[leg][i]) for i in test) / taker, 3)}
    return out


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="bench-oracle-"))
    files = bundled_btcusdt()
    first_end = max(r.recv_ns for r in iter_recording(files[:1])) / 1e9
    by_leg: dict[str, dict[str, IntentTca]] = {}
    arrival: dict[str, float] = {}
    approved: dict[str, int] = {}
    for name, cfg in LEGS.items():
        d = out / name
        approved[name] = run_async(Replay(cfg, files, log_dir=d).run()).approved
        recs = _records(d)
        by_leg[name] = {r.intent_id: r for _, r in recs}
        arrival.update({r.intent_id: t for t, r in recs if name == "taker"})
        print(f"{name}: {len(recs)} records", file=sys.stderr)
    if len(set(approved.values())) != 1:
        raise SystemExit(f"the legs did not execute the same intents: {approved}")
    common = set.intersection(*(set(v) for v in by_leg.values())) & set(arrival)
    sets = {files[0].name: {i for i in common if arrival[i] <= first_end},
            files[1].name: {i for i in common if arrival[i] > first_end}, "both": common}
    result: dict[str, object] = {name: _set(by_leg, ids) for name, ids in sets.items() if ids}
    result["walk_forward"] = _walk_forward(by_leg, sets[files[0].name], sets[files[1].name],
                                           files[0].name, files[1].name)
    print(json.dumps({"out": str(out), **result}))


if __name__ == "__main__":
    main()
