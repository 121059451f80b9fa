"""The trade list on disk: ``<log_dir>/trades.csv``, one row per closed trade (``ClosedTrade``).

Owns: the file's columns (``COLUMNS``), the row of one trade, and appending it: the header when
the file is new or empty, then one line per closed trade, written and flushed as the trade
closes (trades are rare: opening the file per row costs nothing that matters and keeps no handle).
Times are ISO 8601 UTC with milliseconds; money in USDT; blank where a figure is unknown (R
without a stop). The daemon appends across restarts; ``hedge replay`` starts a fresh file (it
removes the old one first).

Must never: rewrite or reorder rows already written, or raise into the bus on a full disk
(logged and counted; the trade stays in the events journal).
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime
from pathlib import Path

from hedge.bus import Bus
from hedge.events import ClosedTrade

log = logging.getLogger(__name__)

TRADES_FILE = "trades.csv"
COLUMNS = (
    "symbol", "side", "strategy", "entry_time", "exit_time", "qty", "entry_price", "exit_price",
    "gross_pnl", "fees", "net_pnl", "risk", "r_multiple", "exit_reason", "entry_reason", "holding_s",
    "max_qty", "mfe_bps", "mae_bps", "fills", "key",
)


def iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000.0, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _num(x: float) -> str:
    return f"{round(x, 10) + 0.0:.10g}"  # no binary noise, no "-0"


def row(t: ClosedTrade) -> list[str]:
    """One trade as the CSV's cells, in ``COLUMNS`` order."""
    return [
        t.symbol, t.side, t.strategy, iso_ms(t.opened_ms), iso_ms(t.closed_ms), _num(t.qty), _num(t.entry_price),
        _num(t.exit_price), _num(t.gross_pnl), _num(t.fees), _num(t.net_pnl), _num(t.risk) if t.risk > 0.0 else "",
        _num(t.r_multiple) if t.r_multiple is not None else "", t.exit_reason, t.entry_reason,
        _num((t.closed_ms - t.opened_ms) / 1000.0), _num(t.max_qty), f"{t.mfe_bps:.2f}", f"{t.mae_bps:.2f}",
        str(t.fills), t.key,
    ]


class TradeCsv:
    """Appends every ``ClosedTrade`` published on a bus to ``<log_dir>/trades.csv``."""

    def __init__(self, log_dir: str | Path) -> None:
        self.path = Path(log_dir) / TRADES_FILE
        self.rows = 0
        self.errors = 0

    def attach(self, bus: Bus) -> None:
        bus.subscribe(ClosedTrade, self.on_trip)

    def on_trip(self, t: ClosedTrade) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8", newline="") as f:
                if f.tell() == 0:
                    w.writerow(COLUMNS)
                w.writerow(row(t))
                f.write(buf.getvalue())
        except OSError as exc:
            self.errors += 1
            log.error("trades: cannot append to %s: %s", self.path, exc.strerror or exc)
            return
        self.rows += 1
