"""The ledger's durable copy: logs/state/portfolio_ledger.json, written atomically, read at start.

Owns: encoding ``LedgerState``, writing it through ``hedge.state.atomic.atomic_write`` (temp
file, fsync, rename: a crash leaves the previous complete file), and reading it back. The
operator surface logs/state/positions_ledger.json is a different file with a single writer, the
state publisher, fed by the ``LedgerPosition`` events the portfolio publishes.

Design: two ways to write, one file, never out of order.
- ``save_now()`` writes synchronously. The portfolio calls it only *before* it publishes an exit
  intent (write-ahead: a restarted process must know the attempt was issued, so it never reuses
  the intent id) — exits are rare, an fsync there costs a few milliseconds.
- ``mark_dirty()`` + ``run()``: every other change (fills, order tags, stop ratchets that can
  move on every tick) is coalesced and written from a worker thread at most every
  ``persist_interval_s``.
Each snapshot is encoded on the event loop (so it is consistent) and carries a sequence number;
a lock serialises the writes and an older snapshot never replaces a newer one.

Must never: leave a partial file, or run an fsync on the tick path except for a write-ahead exit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import msgspec

from hedge.portfolio.ledger import LedgerState
from hedge.state.atomic import atomic_write

log = logging.getLogger(__name__)

LEDGER_FILE = "portfolio_ledger.json"

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(LedgerState)


class LedgerStore:
    def __init__(self, path: str | Path, state: LedgerState, *, interval_s: float = 0.25) -> None:
        self.path = Path(path)
        self.state = state
        self.interval_s = interval_s
        self.writes = 0
        self.errors = 0
        self._dirty = asyncio.Event()
        self._seq = 0
        self._written = 0
        self._lock = threading.Lock()

    @staticmethod
    def load(path: str | Path) -> LedgerState:
        """The persisted ledger; an empty one when there is no file. A corrupt file raises."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            return LedgerState()
        try:
            return _decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ValueError(f"{p}: unreadable ledger ({exc}); move it aside to start from the exchange") from None

    def mark_dirty(self) -> None:
        self._dirty.set()

    def _snapshot(self) -> tuple[int, bytes]:
        self._seq += 1
        self.state.saved_ns = time.time_ns()
        return self._seq, _encoder.encode(self.state)

    def _write(self, seq: int, data: bytes) -> None:
        with self._lock:
            if seq <= self._written:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, data)
            self._written = seq
            self.writes += 1

    def save_now(self) -> None:
        """Write the ledger now (write-ahead); raises OSError when it cannot be written."""
        self._dirty.clear()
        try:
            self._write(*self._snapshot())
        except OSError:
            self.errors += 1
            self._dirty.set()
            raise

    async def run(self) -> None:
        """Write coalesced changes until cancelled (a failed write is counted and retried)."""
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            seq, data = self._snapshot()
            try:
                await asyncio.to_thread(self._write, seq, data)
            except OSError as exc:
                self.errors += 1
                self._dirty.set()
                log.error("portfolio: cannot write %s (%s); retrying", self.path, exc)
            await asyncio.sleep(self.interval_s)
