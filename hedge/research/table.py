"""A sweep's results table: one row per point, in point order, written as Parquet and CSV.

Owns: the columns (point, recordings, trained_on, each swept key under its dotted name, then pnl,
max_drawdown, fills, maker_share, shortfall_bps, orders, events, fingerprint, wall_s, error) and
writing ``results.parquet`` (pyarrow, snappy) and ``results.csv`` (a failed point: empty figures and
its error).

Must never: reorder rows (the point order is the spec's), or drop a failed point.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hedge.research.points import METRIC_COLUMNS

PARQUET_FILE = "results.parquet"
CSV_FILE = "results.csv"


def columns(keys: Sequence[str]) -> list[str]:
    return ["point", "recordings", "trained_on", *keys, *METRIC_COLUMNS]


def write(rows: Sequence[dict[str, Any]], keys: Sequence[str], out: Path) -> list[Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = columns(keys)
    data = {c: [r.get(c) for r in rows] for c in cols}
    for key in keys:  # a key whose values mix types (1, "x") is stored as text
        if len({type(v) for v in data[key] if v is not None}) > 1 and any(isinstance(v, str) for v in data[key]):
            data[key] = [None if v is None else str(v) for v in data[key]]
    table = pa.table(data)
    parquet = out / PARQUET_FILE
    pq.write_table(table, parquet, compression="snappy")
    path = out / CSV_FILE
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    return [parquet, path]

