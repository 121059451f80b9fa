"""One durable file kept current off the hot path: coalesced, atomic, never out of order.

Owns: ``CoalescedWriter``, the write mechanics shared by the files whose owners change them on
the tick path (the portfolio's ledger, the risk gate's memory).
- ``mark_dirty()`` only sets an ``asyncio.Event`` (the hot path does no I/O).
- ``run()`` (a service task) encodes a snapshot on the event loop (so it is consistent), writes
  it from a worker thread through ``hedge.state.atomic.atomic_write``, then waits ``interval_s``:
  any number of changes in between cost one write. With ``final_write`` it writes once more when
  cancelled (clean shutdown).
- ``save_now()`` writes synchronously (write-ahead, shutdown, tests).
Each snapshot carries a sequence number and a lock serialises the writes, so an older snapshot
never replaces a newer one. ``encode`` returns None when nothing changed since its last bytes.
A failed write is counted, logged (its 1st and every ``LOG_ERROR_EVERY``-th failure) and
retried with the same bytes until newer ones replace them.

Must never: write from a bus handler, or drop a failed write without retrying it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from hedge.state.atomic import atomic_write

log = logging.getLogger(__name__)

LOG_ERROR_EVERY = 60


class CoalescedWriter:
    """Writes the bytes ``encode()`` returns to ``path`` (see the module docstring)."""

    def __init__(
        self, path: str | Path, encode: Callable[[], bytes | None], *, interval_s: float, what: str,
        final_write: bool = False,
    ) -> None:
        self.path = Path(path)
        self.encode = encode
        self.interval_s = interval_s
        self.what = what  # who writes, for the log
        self.final_write = final_write
        self.writes = 0
        self.errors = 0
        self._dirty = asyncio.Event()
        self._lock = threading.Lock()
        self._seq = 0
        self._written = 0  # the sequence number on disk
        self._retry: bytes | None = None  # the bytes of a failed write, until newer ones come

    def mark_dirty(self) -> None:
        """Something the file holds may have changed (hot path: sets an event, nothing else)."""
        self._dirty.set()

    def _next(self) -> tuple[int, bytes] | None:
        """The next snapshot to write (a new one, else a failed one again), or None."""
        data = self.encode()
        if data is None:
            data = self._retry
        self._retry = None
        if data is None:
            return None
        self._seq += 1
        return self._seq, data

    def _write(self, seq: int, data: bytes) -> None:
        with self._lock:
            if seq <= self._written:
                return  # a newer snapshot is already on disk
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, data)
            self._written = seq
            self.writes += 1

    def _failed(self, data: bytes, exc: OSError) -> None:
        self.errors += 1
        self._retry = data
        self._dirty.set()
        if self.errors == 1 or self.errors % LOG_ERROR_EVERY == 0:
            log.error("%s: cannot write %s (%s; %d failures); retrying", self.what, self.path, exc, self.errors)

    def save_now(self) -> bool:
        """Write the current snapshot now; False when nothing changed. Raises OSError when it cannot."""
        self._dirty.clear()
        taken = self._next()
        if taken is None:
            return False
        try:
            self._write(*taken)
        except OSError as exc:
            self._failed(taken[1], exc)
            raise
        return True

    async def run(self) -> None:
        """Write coalesced changes, at most once per ``interval_s``, until cancelled."""
        try:
            while True:
                await self._dirty.wait()
                self._dirty.clear()
                taken = self._next()
                if taken is not None:
                    try:
                        await asyncio.to_thread(self._write, *taken)
                    except OSError as exc:
                        self._failed(taken[1], exc)
                await asyncio.sleep(self.interval_s)
        finally:
            if self.final_write:
                try:
                    self.save_now()
                except OSError as exc:
                    log.error("%s: final write of %s failed: %s", self.what, self.path, exc)
