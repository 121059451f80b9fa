"""The JSONL journal: append-only machine logs, one writer per file, cheap enough for the hot path.

Owns: logs/events.jsonl, logs/order_updates.jsonl, logs/orders_success.jsonl, logs/orders_failed.jsonl,
logs/orders_denied.jsonl, logs/risk_vetoes.jsonl, logs/orders_executed.jsonl (and any other
named journal), their buffering, flushing, group commit, size-based rotation and torn-line
tolerance.

Design: ``write()`` is synchronous and only encodes one line into an in-memory buffer (msgspec
for Structs, orjson for plain mappings; ~1-2 us). The buffer goes to the file when it exceeds
``buffer_bytes``, on ``flush()`` (called on an interval by ``Journals.run_flusher`` and at
shutdown) and before rotation. The file is unbuffered and ``flush()`` is one write(2) straight from
the buffer (no copy, no second buffer: ~4 us -> the system call alone; a durable line is flushed
inside the router's decision, right before its order leaves). Each kind's part of the line prefix
is encoded once. Per-event ``await aiofiles.write()`` costs 60-96 us on this
machine, so it is not used here.

Durable journals (``DURABLE_JOURNALS``: the audit trail of orders and fills) are group-committed
(``hedge.state.group_commit``): their lines are written to the file at the next loop turn and
fdatasynced by a background thread; ``Journals.group.synced(n)`` waits until the first ``n`` are
on disk. ``fsync=False`` (replay, a pure simulation) writes the same lines without the sync, and
``close`` then closes the files without one either.

Every line is ``{"ts_ns": <int>, "kind": "<str>", "data": {...}}`` (``ts_ns`` from the engine's
clock unless the caller gives one: event time in replay). A crash mid-write can
leave a torn last line: on open the writer counts it and starts on a fresh line (the torn bytes
are never rewritten); readers skip and count lines that do not parse.

Secrets: every payload passes through a ``Masker`` (by default: the values of the environment
variables named like secrets), so a key or token that slipped into an event's text is written
as ``***``.

Must never: rewrite or truncate existing lines, write a secret, or raise into the caller on a
full disk (errors are counted and logged; the buffer is kept for the next attempt).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import orjson

from hedge.model.clock import Clock, LiveClock
from hedge.state.group_commit import GroupCommit, SyncJob
from hedge.state.masking import Masker

log = logging.getLogger(__name__)

T = TypeVar("T")

JOURNAL_NAMES = (
    "events",
    "orders_success",
    "orders_failed",
    "orders_denied",
    "risk_vetoes",
    "orders_executed",
)
# The audit trail: on disk (group commit, fdatasync) before the engine acts on its next decision.
ORDER_UPDATES = "order_updates"
DURABLE_JOURNALS = ("orders_sent", ORDER_UPDATES, "fills")
REQUEST_JOURNALS = ("orders_sent",)  # durable, but no order waits for their lines (group_commit.py)

_encoder = msgspec.json.Encoder()


def encode_payload(payload: msgspec.Struct | Mapping[str, Any]) -> bytes:
    if isinstance(payload, msgspec.Struct):
        return _encoder.encode(payload)
    return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


class JournalWriter:
    """Append-only JSONL writer with a large buffer and size-based rotation."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int = 50 * 1024 * 1024,
        backups: int = 5,
        buffer_bytes: int = 1024 * 1024,
        masker: Masker | None = None,
        clock: Clock | None = None,
        on_write: Callable[[JournalWriter], None] | None = None,
    ) -> None:
        """``on_write``: called after each line instead of the size check (a durable writer's commit)."""
        self.path = Path(path)
        self.masker = masker if masker is not None else Masker()
        # what masks a line, fixed here (a Masker's secrets are fixed at its construction): None when there
        # is nothing to mask, so a line costs no ``Masker.__bool__`` call
        self._mask_bytes = self.masker.mask_bytes if self.masker else None
        self.now_ns = (clock or LiveClock()).now_ns  # stamps a line written without ``ts_ns``
        self.max_bytes = max_bytes
        self.backups = backups
        self.buffer_bytes = buffer_bytes
        self._buf = bytearray()
        self._file: io.FileIO | None = None  # unbuffered: ``flush`` is one write(2) of the buffer
        self._kinds: dict[str, bytes] = {}  # kind -> its pre-encoded part of the line's prefix
        self._size = 0
        self.lines = 0
        self.rotations = 0
        self.torn_on_open = 0
        self.write_errors = 0
        self.on_write = on_write
        self._new_entry = False  # the file's directory entry is not yet on disk
        self._open()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._new_entry = not self.path.exists()
        f = open(self.path, "ab", buffering=0)  # noqa: SIM115 - held open for the writer's lifetime
        self._size = f.tell()
        if self._size > 0:
            with open(self.path, "rb") as r:
                r.seek(-1, os.SEEK_END)
                if r.read(1) != b"\n":
                    # A crash tore the last line. Never rewrite it: start on a fresh line.
                    self.torn_on_open += 1
                    log.warning("journal %s: torn last line from an earlier run; skipped", self.path)
                    f.write(b"\n")
                    self._size += 1
        self._file = f

    def write(self, kind: str, payload: msgspec.Struct | Mapping[str, Any], ts_ns: int = 0) -> None:
        """Append one record. Synchronous and cheap: the bytes go to the buffer."""
        self.write_encoded(kind, encode_payload(payload), ts_ns)

    def write_encoded(self, kind: str, body: bytes, ts_ns: int = 0) -> None:
        """``write`` of a payload already encoded (``encode_payload``): a caller that needs the same
        bytes elsewhere (the router's pending record) encodes once."""
        buf = self._buf
        tail = self._kinds.get(kind)
        if tail is None:
            tail = self._kinds[kind] = b',"kind":"%s","data":' % kind.encode()
        buf += b'{"ts_ns":%d%s' % (ts_ns or self.now_ns(), tail)
        mask = self._mask_bytes
        buf += mask(body) if mask is not None else body
        buf += b"}\n"
        self.lines += 1
        if self.on_write is not None:
            self.on_write(self)
        elif len(buf) >= self.buffer_bytes:
            self.flush()

    def flush(self) -> None:
        buf = self._buf
        if not buf or self._file is None:
            return
        try:
            if self._size > 0 and self._size + len(buf) > self.max_bytes:
                self._rotate()
            while buf:  # straight from the buffer, no copy: one write(2), more only when it was short
                n = self._file.write(buf)
                if not n:
                    raise OSError("write(2) wrote nothing")
                self._size += n
                del buf[:n]
        except OSError as exc:
            self.write_errors += 1
            log.error("journal %s: write failed (%s); %d bytes kept for retry", self.path, exc, len(buf))

    def sync_job(self) -> SyncJob | None:
        """What a sync of the lines written so far needs (a dup of the descriptor, so a rotation may
        close the file meanwhile; the directory once per new file); None when the last write failed."""
        if self._buf or self._file is None:
            return None
        try:
            fd = os.dup(self._file.fileno())
        except OSError as exc:  # out of descriptors: the lines are in the file; counted, synced next time
            self.write_errors += 1
            log.error("journal %s: cannot sync (%s)", self.path, exc)
            return None
        directory = self.path.parent if self._new_entry else None
        self._new_entry = False
        return fd, directory

    def _rotate(self) -> None:
        assert self._file is not None
        self._file.close()
        if self.backups > 0:
            for i in range(self.backups - 1, 0, -1):
                src = self.path.with_name(f"{self.path.name}.{i}")
                if src.exists():
                    os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink(missing_ok=True)
        self.rotations += 1
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115
        self._new_entry = True
        self._size = 0

    def close(self, *, sync: bool = True) -> None:
        """Flush and close; ``sync`` False skips the final fsync (replay: nothing to make durable)."""
        self.flush()
        if self._file is not None:
            if sync:
                with contextlib.suppress(OSError):
                    os.fsync(self._file.fileno())
            self._file.close()
            self._file = None


class JournalRecord(msgspec.Struct, frozen=True):
    ts_ns: int
    kind: str
    data: msgspec.Raw  # decoded lazily: readers usually filter on ``kind`` first

    def decode(self, into: type[T] | Any = Any) -> T:
        """The payload decoded as ``into`` (a Struct type, or plain JSON values by default)."""
        result: T = msgspec.json.decode(self.data, type=into)
        return result


_record_decoder = msgspec.json.Decoder(JournalRecord)


class ReadStats:
    def __init__(self) -> None:
        self.lines = 0
        self.torn = 0


def read_journal(path: str | Path, stats: ReadStats | None = None) -> Iterator[JournalRecord]:
    """Yield the records of one journal file; torn or corrupt lines are skipped and counted."""
    st = stats if stats is not None else ReadStats()
    with open(path, "rb") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rec = _record_decoder.decode(line)
            except msgspec.DecodeError:
                st.torn += 1
                continue
            st.lines += 1
            yield rec


class Journals:
    """The set of named journal files under one log directory (one writer each)."""

    def __init__(
        self,
        log_dir: str | Path,
        *,
        max_bytes: int = 50 * 1024 * 1024,
        backups: int = 5,
        buffer_bytes: int = 1024 * 1024,
        names: tuple[str, ...] = JOURNAL_NAMES,
        clock: Clock | None = None,
        durable: tuple[str, ...] = DURABLE_JOURNALS,
        fsync: bool = True,
    ) -> None:
        """``durable``: the journals group-committed at each loop iteration; ``fsync`` False commits
        them to the file without fdatasync (replay: the same lines, no disk round trip)."""
        self.dir = Path(log_dir)
        self._opts = {"max_bytes": max_bytes, "backups": backups, "buffer_bytes": buffer_bytes}
        self._masker = Masker()
        self._clock: Clock = clock or LiveClock()
        self.durable = durable
        self.group = GroupCommit(fsync=fsync)
        self.writers: dict[str, JournalWriter] = {}
        for n in names:
            self.writer(n)

    def writer(self, name: str) -> JournalWriter:
        w = self.writers.get(name)
        if w is None:
            on_write = ((self.group.on_request_line if name in REQUEST_JOURNALS else self.group.on_line)
                        if name in self.durable else None)
            w = JournalWriter(self.dir / f"{name}.jsonl", masker=self._masker, clock=self._clock, on_write=on_write,
                              **self._opts)
            self.writers[name] = w
        return w

    def write(self, journal: str, kind: str, payload: msgspec.Struct | Mapping[str, Any]) -> None:
        self.writer(journal).write(kind, payload)

    def flush(self) -> None:
        for w in self.writers.values():
            w.flush()

    async def run_flusher(self, interval_s: float) -> None:
        """Flush every ``interval_s`` until cancelled (then flush once more)."""
        try:
            while True:
                await asyncio.sleep(interval_s)
                self.flush()
        finally:
            self.flush()

    def close(self) -> None:
        self.group.close()
        for w in self.writers.values():
            w.close(sync=self.group.fsync)  # no fsync when the group commits without one (replay)
