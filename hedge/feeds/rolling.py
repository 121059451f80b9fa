"""Rolling Parquet tapes for ``hedge record --format parquet``: crash-safe files, flushed every few seconds.

Owns: ``RollingTape``, the recorder's ``Tap`` (frames and snapshot bodies in, as received) that
writes a directory of tapes (``hedge.feeds.parquet``): ``<prefix>-<UTC of the first row>-<n>.parquet``,
one per ``roll_s`` of recorded time. A Parquet file is readable only once its footer is written,
so every ``flush`` rewrites the current file whole — its earlier row groups plus one new row group
of the rows since the last flush — through a temporary file, fsync and an atomic rename. A crash
(``kill -9``) therefore leaves every file complete and readable, losing at most the rows since the
last flush; the cost is rewriting at most one ``roll_s`` of data per flush (kept as Arrow tables
in memory), done off the event loop (``flush_async``) so receive stamps are never held up.

Clock: file names come from the rows' receive times (no clock read here).

Must never: leave a partial file under a final name, or change a frame's content or order.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from hedge.feeds.parquet import TapeWriter, write


class RollingTape:
    """Write frames and snapshots to rolling tapes in ``out_dir`` (see the module docstring)."""

    def __init__(self, out_dir: str | Path, *, prefix: str = "tape", roll_s: float = 300.0) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.roll_ns = int(roll_s * 1e9)
        self.writer = TapeWriter()
        self.files: list[Path] = []
        self._chunks: list[pa.Table] = []  # the current file's row groups so far
        self._first_ns = 0  # the current file's first receive time (0: no file yet)
        self._last_ns = 0
        self._lock = asyncio.Lock()

    @property
    def frames(self) -> int:
        return self.writer.frames

    @property
    def snapshots(self) -> int:
        return self.writer.snapshots

    def _seen(self, recv_ns: int) -> None:
        if not self._first_ns:
            self._first_ns = recv_ns
            stamp = datetime.fromtimestamp(recv_ns // 1_000_000_000, UTC).strftime("%Y%m%dT%H%M%SZ")
            self.files.append(self.out_dir / f"{self.prefix}-{stamp}-{len(self.files):04d}.parquet")
        self._last_ns = recv_ns

    def write_frame(self, recv_ns: int, raw: bytes | str) -> None:
        self._seen(recv_ns)
        self.writer.write_frame(recv_ns, raw)

    def write_snapshot(self, recv_ns: int, symbol: str, raw: bytes | str) -> None:
        self._seen(recv_ns)
        self.writer.write_snapshot(recv_ns, symbol, raw)

    def _cut(self) -> tuple[Path, list[pa.Table]] | None:
        """The current file and its row groups with the new rows as one more (None: nothing new);
        the next row starts a new file once this one spans ``roll_s``."""
        if not self.writer.pending:
            return None
        self._chunks.append(self.writer.take())
        job = (self.files[-1], list(self._chunks))
        if self._last_ns - self._first_ns >= self.roll_ns:
            self._chunks, self._first_ns = [], 0
        return job

    def flush(self) -> None:
        """Rewrite the current file with the rows so far (synchronously)."""
        job = self._cut()
        if job is not None:
            write(job[0], job[1], fsync=True)

    async def flush_async(self) -> None:
        """``flush`` with the file written in a worker thread (one flush at a time, in order)."""
        async with self._lock:
            job = self._cut()
            if job is not None:
                await asyncio.to_thread(write, job[0], job[1], fsync=True)

    def close(self) -> None:
        self.flush()
