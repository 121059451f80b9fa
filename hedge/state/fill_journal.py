"""The fill journal: every exchange fill of the account, once, with where the engine learnt it.

Owns: ``logs/fills.jsonl`` (a durable journal: group-committed and fdatasynced, see
``hedge.state.journal``), one ``fill`` line per exchange trade ``{"source": ..., "fill": Fill}``,
and the memory of the trades already journaled, keyed by (symbol, trade id) — Binance's trade ids
are per symbol. ``source`` is ``"user_stream"`` (a ``Fill`` on the bus: the venue's stream of
fills, the simulated one in replay) or ``"reconcile"`` (fetched by the portfolio's
reconciliation: fills a crash or a stream gap hid from the bus).

Design: at start the memory is read back from the journal itself (the current file and its
newest backup), so a fill journaled before a kill is not journaled again when the next process's
reconciliation fetches it, whatever the ledger's last save held. A fill without a trade id (0)
cannot be told apart: it is journaled every time it is seen.

Must never: journal a trade id twice for a symbol, drop a fill it has not seen, or decide
anything from a fill.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import msgspec

from hedge.events import Fill
from hedge.state.journal import JournalWriter, ReadStats, read_journal

log = logging.getLogger(__name__)

FILLS_JOURNAL = "fills"
Source = Literal["user_stream", "reconcile"]
USER_STREAM: Source = "user_stream"
RECONCILE: Source = "reconcile"
_REMEMBERED = 200_000  # trade ids kept in memory (reconciliation looks back minutes, not days)


class FillRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One line of fills.jsonl (``kind`` "fill")."""

    source: Source
    fill: Fill


class _Key(msgspec.Struct, frozen=True):
    symbol: str = ""
    trade_id: int = 0


class _KeyOnly(msgspec.Struct, frozen=True):
    fill: _Key = _Key()


class FillJournal:
    """fills.jsonl's writer (see the module docstring)."""

    def __init__(self, writer: JournalWriter) -> None:
        self.writer = writer
        self.journaled = 0
        self.duplicates = 0
        self._seen: dict[tuple[str, int], None] = {}  # insertion-ordered set, oldest first
        self._read_back(writer.path)

    def _read_back(self, path: Path) -> None:
        stats = ReadStats()
        for p in (path.with_name(f"{path.name}.1"), path):
            if not p.exists():
                continue
            for rec in read_journal(p, stats):
                if rec.kind != "fill":
                    continue
                try:
                    only: _KeyOnly = rec.decode(_KeyOnly)
                    key = only.fill
                except (msgspec.DecodeError, msgspec.ValidationError):
                    stats.torn += 1
                    continue
                if key.trade_id:
                    self._remember((key.symbol, key.trade_id))
        if stats.torn:
            log.warning("fills journal %s: %d unreadable line(s) skipped on read-back", path, stats.torn)

    def _remember(self, key: tuple[str, int]) -> None:
        self._seen[key] = None
        if len(self._seen) > _REMEMBERED:
            del self._seen[next(iter(self._seen))]

    def record(self, fill: Fill, source: Source) -> bool:
        """Journal ``fill`` unless its trade is already in the journal; True when a line was written."""
        if fill.trade_id:
            key = (fill.symbol, fill.trade_id)
            if key in self._seen:
                self.duplicates += 1
                return False
            self._remember(key)
        self.writer.write("fill", FillRecord(source=source, fill=fill), fill.recv_ns)
        self.journaled += 1
        return True

    def on_fill(self, fill: Fill) -> None:
        """Bus handler: a fill from the venue's stream."""
        self.record(fill, USER_STREAM)
