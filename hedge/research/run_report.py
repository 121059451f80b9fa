"""One run's report (a replay's or a live daemon's log dir): equity and drawdown, fills on the price, vetoes.

Owns: reading the log dir with the dashboard's journal readers (``hedge.dashboard.tail.JournalTail``
with its line shapes and extractors: the NAV lines of events.jsonl, fills.jsonl, risk_vetoes.jsonl,
the Position lines' mark prices) within a byte budget per journal (the newest part of a
long live log), the drawdown from the dashboard's ``nav_frame``, and writing ``equity.png``,
``fills.png`` (the symbol with the most fills), ``vetoes.png`` and ``report.html`` to the output dir.

Must never: write into the log dir unless it is the output dir, or change a journal it reads.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from hedge.dashboard.lines import FillRecord, VetoLine, nav_rows
from hedge.dashboard.readers import is_replay
from hedge.dashboard.series import nav_frame
from hedge.dashboard.tail import JournalTail
from hedge.research import charts

REPORT_FILE = "report.html"
BUDGET_BYTES = 512 * 1024 * 1024  # of each journal: the newest part of a longer live log
MAX_LINES = 2_000_000
VETO_BUCKETS = 60


def _tail(log_dir: Path, name: str, keep: dict[str, int], extract: dict[str, Any] | None = None) -> JournalTail:
    tail = JournalTail(log_dir / f"{name}.jsonl", keep, BUDGET_BYTES, extract=extract)
    tail.refresh()
    return tail


class _FillLine(msgspec.Struct, kw_only=True, gc=False):
    ts_ns: int
    data: FillRecord


class _Mark(msgspec.Struct, kw_only=True, gc=False):
    symbol: str = ""
    mark_price: float = 0.0


class _PositionLine(msgspec.Struct, kw_only=True, gc=False):
    """events.jsonl's Position lines: the mark price of a symbol every account update (the price line)."""

    ts_ns: int
    data: _Mark


def read_fills(log_dir: Path) -> list[tuple[str, int, float, str, bool]]:
    """(symbol, ts_ns, price, side, maker) per fill of fills.jsonl."""
    lines, _ = _tail(log_dir, "fills", {"fill": MAX_LINES}).decoded("fill", _FillLine)
    return [(x.data.fill.symbol, x.ts_ns, x.data.fill.price, x.data.fill.side, x.data.fill.maker) for x in lines]


def marks(events: JournalTail, symbol: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(ts_ns, mark price) of ``symbol`` from the Position lines (a zero mark: none known yet)."""
    lines, _ = events.decoded("Position", _PositionLine)
    pts = [(x.ts_ns, x.data.mark_price) for x in lines if x.data.symbol == symbol and x.data.mark_price > 0]
    return np.array([t for t, _ in pts], dtype=np.int64), np.array([p for _, p in pts], dtype=np.float64)


def write(log_dir: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    events = _tail(log_dir, "events", {"Position": MAX_LINES}, {"Nav": (nav_rows, MAX_LINES)})
    navs = events.rows("Nav")
    frame = nav_frame(navs if navs.shape[1] == 2 else np.empty((0, 2)))
    ts = frame.index.asi8 if len(frame) else np.empty(0, dtype=np.int64)
    equity = charts.equity_drawdown(ts, frame["nav"].to_numpy(), frame["drawdown"].to_numpy(), out / "equity.png")
    fills = read_fills(log_dir)
    symbol = Counter(f[0] for f in fills).most_common(1)[0][0] if fills else ""
    mine = [(t, p, side, maker) for s, t, p, side, maker in fills if s == symbol]
    fills_png = charts.fills_on_price(marks(events, symbol), mine, symbol or "no fills", out / "fills.png")
    vetoes, _ = _tail(log_dir, "risk_vetoes", {"veto": MAX_LINES}).decoded("veto", VetoLine)
    by_reason: dict[str, np.ndarray[Any, Any]] = {}
    lo = int(ts[0]) if len(ts) else min((v.ts_ns for v in vetoes), default=0)
    hi = int(ts[-1]) if len(ts) else max((v.ts_ns for v in vetoes), default=lo + 1)
    edges = np.linspace(lo, max(hi, lo + 1), VETO_BUCKETS + 1)
    for reason in sorted({r for v in vetoes for r in v.data.reasons}):
        stamps = np.array([v.ts_ns for v in vetoes if reason in v.data.reasons], dtype=np.float64)
        by_reason[reason] = np.histogram(stamps, bins=edges)[0].astype(np.float64)
    vetoes_png = charts.vetoes_over_time(edges[:-1], by_reason, out / "vetoes.png")
    kind = "replay" if is_replay(log_dir) else "live"
    nav_now = float(frame["nav"].iloc[-1]) if len(frame) else 0.0
    dd = float(frame["drawdown"].min()) if len(frame) else 0.0
    summary = (f"<p>{kind} log dir <code>{log_dir}</code>: {len(frame):,} NAV readings, last NAV {nav_now:.4f}, "
               f"max drawdown {-dd:.4%}; {len(fills):,} fills; {len(vetoes):,} vetoes.</p>")
    page = charts.html_page(f"hedge report {log_dir.name}", [
        ("Summary", summary), ("Equity and drawdown", equity), ("Fills on the price", fills_png),
        ("Vetoes over time", vetoes_png)], out / REPORT_FILE)
    return [equity, fills_png, vetoes_png, page]
