"""``hedge tca LOGDIR...``: the transaction-cost table of one or more runs, tca.json and PNG charts.

Owns: reading every ``tca.jsonl`` of the given log directories (one per run: a replay in each
``router.mode`` compares one to one), printing the table (per mode and liquidity: cost, shortfall,
markouts, maker share, fill rate, fills beyond the budget, median time to fill), and writing
``tca.json`` (the block) with ``tca_cost.png`` (cost and shortfall by mode) and
``tca_markouts.png`` (markout curves per mode and liquidity) to ``--out`` (default: the first LOGDIR);
with auto-mode records, also the fill model's reliability (predicted vs realised maker fill
probability per bin: printed, ``tca_fill_reliability.json`` and ``tca_fill_reliability.png``) and
``tca_fill_probability.png`` (predicted and realised fill probability vs distance from the touch
and vs queue ahead).

Must never: write into a log directory other than ``--out``, or change a record it reads.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hedge.router.fillprob import FillFeatures
    from hedge.router.tca import IntentTca
    from hedge.router.tca_stats import ReliabilityBin, TcaStats

COLUMNS = ("mode", "liquidity", "intents", "fills", "cost_bps", "shortfall_bps", "mo_1s", "mo_5s", "mo_30s",
           "maker_share", "fill_rate", "over_budget", "ttf_p50_s")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("log_dirs", metavar="LOGDIR", nargs="+", help="log directories with a tca.jsonl (one per run)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="where tca.json and the charts go (default: the first LOGDIR)")


def read_records(log_dirs: list[str]) -> list[IntentTca]:
    """Every execution's record, once: a directory named twice (``a`` and ``a/``) is read once, and
    within a directory an intent's record counts once (the last: a replay into a log dir that an
    earlier run wrote appends to its journals, and would otherwise count every execution twice)."""
    import msgspec

    from hedge.router.tca import IntentTca
    from hedge.state.journal import read_journal

    out: list[IntentTca] = []
    seen_dirs: set[Path] = set()
    for d in log_dirs:
        path = (Path(d) / "tca.jsonl").resolve()
        if path in seen_dirs or not path.exists():
            continue
        seen_dirs.add(path)
        by_intent: dict[tuple[str, str], IntentTca] = {}
        for r in read_journal(path):
            if r.kind == "tca":
                rec = msgspec.convert(r.decode(), IntentTca)
                by_intent[(rec.mode, rec.intent_id)] = rec
        out += by_intent.values()
    return out


def _cell(x: float | int | None) -> str:
    return "-" if x is None else f"{x:.2f}" if isinstance(x, float) else str(x)


def table(block: dict[str, dict[str, TcaStats]]) -> str:
    rows = [COLUMNS]
    for mode, by_liq in block.items():
        for liq, s in by_liq.items():
            mo = s.markout_bps
            rows.append((mode, liq, _cell(s.intents), _cell(s.fills), _cell(s.cost_bps), _cell(s.shortfall_bps),
                         _cell(mo.get("1s")), _cell(mo.get("5s")), _cell(mo.get("30s")), _cell(s.maker_share),
                         _cell(s.fill_rate), _cell(s.budget_violations), _cell(s.time_to_fill_p50_s)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def charts(block: dict[str, dict[str, TcaStats]], out: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    from hedge.research.charts import save  # also selects the Agg backend
    from hedge.router.tca import MARKOUTS_S

    modes = list(block)
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = range(len(modes))
    ax.bar([x - 0.2 for x in xs], [block[m]["all"].cost_bps for m in modes], width=0.4, label="cost (filled)")
    ax.bar([x + 0.2 for x in xs], [block[m]["all"].shortfall_bps or 0.0 for m in modes], width=0.4,
           label="shortfall (incl. unfilled)")
    ax.set_xticks(list(xs), modes)
    ax.set_ylabel("bps vs arrival mid (fees included)")
    ax.set_title("Execution cost by router mode")
    ax.legend()
    cost = out / "tca_cost.png"
    save(fig, cost)
    fig, ax = plt.subplots(figsize=(6, 4))
    for m in modes:
        for liq in ("maker", "taker"):
            mo = block[m][liq].markout_bps
            pts = [(MARKOUTS_S[h], mo[h]) for h in MARKOUTS_S if h in mo]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{m} {liq}")
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("seconds after the fill")
    ax.set_ylabel("markout, bps (positive = moved our way)")
    ax.set_title("Markouts by mode and liquidity")
    if ax.lines[1:]:
        ax.legend()
    curves = out / "tca_markouts.png"
    save(fig, curves)
    return [cost, curves]


def main(args: argparse.Namespace) -> int:
    import msgspec

    from hedge.router.tca_stats import reliability, tca_block

    records = read_records(args.log_dirs)
    if not records:
        print(f"hedge tca: no tca.jsonl records in {', '.join(args.log_dirs)}", file=sys.stderr)
        return 1
    block = tca_block(records)
    out = Path(args.out or args.log_dirs[0])
    out.mkdir(parents=True, exist_ok=True)
    (out / "tca.json").write_bytes(msgspec.json.format(msgspec.json.encode(block)) + b"\n")
    print(table(block))
    written = [out / "tca.json", *charts(block, out)]
    bins = reliability(records)
    if bins:
        print("\nfill probability (auto, maker attempts): predicted vs realised")
        for b in bins:
            print(f"  P in [{b.lo:.1f}, {b.hi:.1f}): {b.attempts:4d} attempts, predicted {b.predicted:.3f}, "
                  f"realised {b.realised:.3f}")
        (out / "tca_fill_reliability.json").write_bytes(msgspec.json.format(msgspec.json.encode(bins)) + b"\n")
        written += [out / "tca_fill_reliability.json", reliability_chart(bins, out)]
    if any(r.choices for r in records):
        written.append(fill_features_chart(records, out))
    for p in written:
        print(f"wrote {p}")
    return 0


def reliability_chart(bins: list[ReliabilityBin], out: Path) -> Path:
    import matplotlib.pyplot as plt

    from hedge.research.charts import save  # also selects the Agg backend

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.5, label="calibrated")
    ax.plot([b.predicted for b in bins], [b.realised for b in bins], marker="o", label="auto: maker attempts")
    for b in bins:
        ax.annotate(str(b.attempts), (b.predicted, b.realised), textcoords="offset points", xytext=(4, 4))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted P(maker fill within the timeout)")
    ax.set_ylabel("realised fill rate")
    ax.set_title("Fill-probability reliability")
    ax.legend()
    path = out / "tca_fill_reliability.png"
    save(fig, path)
    return path


QUEUE_EDGES = (0.0, 0.01, 0.1, 1.0, 10.0)  # quantity ahead bins (base asset)


def fill_features_chart(records: list[IntentTca], out: Path) -> Path:
    """Fill probability vs distance from the touch and vs queue ahead: the model's mean P over every
    auto choice and the realised maker fill rate of the attempts, per bin (n annotated)."""
    import matplotlib.pyplot as plt

    from hedge.research.charts import save  # also selects the Agg backend

    choices = [c for r in records for c in r.choices]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    def queue_bin(f: FillFeatures) -> float:
        return max(e for e in QUEUE_EDGES if f.queue_ahead >= e)

    def distance(f: FillFeatures) -> float:
        return f.distance_ticks

    keys = (("distance from the touch, ticks", distance), ("queue ahead (base qty, bin lower edge)", queue_bin))
    for ax, (label, key) in zip(axes, keys, strict=True):
        bins: dict[float, list[tuple[float, bool, bool]]] = {}
        for c in choices:
            bins.setdefault(key(c.features), []).append((c.p_fill, c.rest, c.filled))
        xs = sorted(bins)
        pos = range(len(xs))
        ax.plot(pos, [sum(p for p, _, _ in bins[x]) / len(bins[x]) for x in xs], marker="o", label="predicted P")
        real = [(i, [f for _, r, f in bins[x] if r]) for i, x in enumerate(xs)]
        ax.plot([i for i, v in real if v], [sum(v) / len(v) for _, v in real if v], marker="s", label="realised")
        for i, x in enumerate(xs):
            ax.annotate(f"n={len(bins[x])}", (i, 0.02))
        ax.set_xticks(list(pos), [f"{x:g}" for x in xs])
        ax.set_ylim(0, 1)
        ax.set_xlabel(label)
        ax.set_ylabel("P(maker fill within the timeout)")
        ax.legend()
    fig.suptitle("Fill probability (auto)")
    path = out / "tca_fill_probability.png"
    save(fig, path)
    return path
