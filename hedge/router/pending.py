"""The pending-orders record: every order that may be live, persisted before its request is sent.

Owns: ``logs/state/pending_orders.jsonl``: an "open" line is written (one ``os.write`` on an
O_APPEND descriptor, so it is in the kernel before the request leaves) in the order's task, right
before its venue call (``OrderDesk.send``: off the decision, which only publishes the request), a
"close" line when it reaches a final state. After a crash the open entries are exactly the
orders whose fate the new process must learn (query by client order id) before it trades that
intent again: sent or not, filled or not.

Design: appends are unbuffered single writes (~5 us), not fsynced by default (a process crash
cannot lose them; a power loss could lose the last lines; ``fsync=True`` closes that gap at a
cost of milliseconds per order). ``load()`` reads the file, skips torn lines, and rewrites it
atomically (temp file, fsync, rename) with only the open entries.

Must never: drop an open entry that was not explicitly closed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Literal

import msgspec

from hedge.events import OrderRequest

log = logging.getLogger(__name__)


class PendingEntry(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    op: Literal["open", "close"]
    cid: str
    request: OrderRequest | None = None
    slice_no: int = 0


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(PendingEntry)


class PendingOrders:
    """Append-only record of possibly-live orders, compacted on load."""

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.torn = 0
        self._fd: int | None = None

    def load(self) -> list[PendingEntry]:
        """The open entries left by an earlier run (in creation order); compacts the file.

        Call once, at start, by the file's only writer (compaction replaces the file).
        """
        entries = self.read()
        self._rewrite(entries)
        return entries

    def read(self) -> list[PendingEntry]:
        """The open entries now, without touching the file."""
        opened: dict[str, PendingEntry] = {}
        if self.path.exists():
            with open(self.path, "rb") as f:
                for line in f:
                    if not line.strip():
                        continue
                    try:
                        e = _decoder.decode(line)
                    except (msgspec.DecodeError, msgspec.ValidationError):
                        self.torn += 1
                        continue
                    if e.op == "open" and e.request is not None:
                        opened[e.cid] = e
                    else:
                        opened.pop(e.cid, None)
        return list(opened.values())

    def _rewrite(self, entries: list[PendingEntry]) -> None:
        self.close()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as f:
            for e in entries:
                f.write(_encoder.encode(e) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def _append(self, line: bytes) -> None:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(self._fd, line)
        if self.fsync:
            os.fsync(self._fd)

    @staticmethod
    def open_line(req: OrderRequest, slice_no: int = 0, body: bytes | None = None) -> bytes:
        """The "open" line of ``req`` (what ``add`` writes; pure): ``PendingEntry``'s encoding, put
        together around ``body``, the request already encoded (the orders_sent line's), so an order
        is encoded once (tests/unit/router/test_pending.py holds it byte-equal to the struct's)."""
        if body is None:
            body = _encoder.encode(req)
        tail = b',"slice_no":%d}\n' % slice_no if slice_no else b"}\n"  # omit_defaults: 0 is left out
        return b'{"op":"open","cid":' + _encoder.encode(req.client_order_id) + b',"request":' + body + tail

    def add(self, req: OrderRequest, slice_no: int = 0, body: bytes | None = None) -> None:
        self._append(self.open_line(req, slice_no, body))

    def remove(self, cid: str) -> None:
        self._append(_encoder.encode(PendingEntry(op="close", cid=cid)) + b"\n")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
