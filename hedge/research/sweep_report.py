"""A sweep's report: heat maps over two swept keys, the best points' equity curves, the table, as one HTML file.

Owns: choosing what to chart (the spec's ``report.heatmap`` keys, else the first two keys with
several values; with one such key, a heat map against the recordings), ranking the rows by the
spec's metric (best first; ``max_drawdown`` lowest first; failed points never rank), writing
``heatmap.png``, ``equity_best.png`` and ``report.html`` into the output directory.

Must never: run a point or change a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hedge.research import charts
from hedge.research.points import PointResult
from hedge.research.spec import SweepSpec
from hedge.research.table import columns

REPORT_FILE = "report.html"


def heat_keys(spec: SweepSpec, rows: Sequence[dict[str, Any]]) -> tuple[str, str] | None:
    if len(spec.report.heatmap) == 2:
        return spec.report.heatmap[0], spec.report.heatmap[1]
    varied = [k for k in spec.params if len({repr(r[k]) for r in rows}) > 1]
    if len({r["recordings"] for r in rows}) > 1:
        varied.append("recordings")
    return (varied[0], varied[1]) if len(varied) >= 2 else None


def ranked(results: Sequence[PointResult], metric: str) -> list[PointResult]:
    ok = [r for r in results if not r.row["error"] and r.row.get(metric) is not None]
    lowest_first = metric == "max_drawdown"
    return sorted(ok, key=lambda r: (r.row[metric] if lowest_first else -r.row[metric], r.row["point"]))


def write(spec: SweepSpec, results: Sequence[PointResult], out: Path, title: str) -> Path:
    rows = [r.row for r in results]
    metric = spec.report.metric
    keys = list(spec.params)
    sections: list[tuple[str, str | Path]] = []
    failed = sum(1 for r in rows if r["error"])
    summary = f"<p>{len(rows)} replays, {failed} failed; ranked by {metric}.</p>"
    sections.append(("Summary", summary))
    hk = heat_keys(spec, rows)
    if hk is not None:
        sections.append((f"{metric} over {hk[0]} x {hk[1]}",
                         charts.heatmap(rows, hk[0], hk[1], metric, out / "heatmap.png")))
    best = ranked(results, metric)[: spec.report.best]
    label_keys = [k for k in keys if len({repr(r[k]) for r in rows}) > 1]
    curves = [(f"#{r.row['point']} {r.row['recordings']} " + " ".join(f"{k.rsplit('.', 1)[-1]}={r.row[k]}"
                                                                    for k in label_keys), r.curve) for r in best]
    sections.append((f"Equity curves of the best {len(best)}", charts.equity_curves(curves, out / "equity_best.png")))
    sections.append(("Best points", charts.table_html([r.row for r in best], columns(keys))))
    sections.append(("All points", charts.table_html(rows, columns(keys))))
    return charts.html_page(title, sections, out / REPORT_FILE)
