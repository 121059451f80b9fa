"""The bounded, incremental tail of one JSONL journal (with its rotated backups).

Owns: keeping the newest lines of a journal in memory within a byte budget and a line cap per
kind, reading on each refresh only the bytes appended since the last one (a rotation or a
truncation starts over), picking lines of the wanted kinds by their fixed prefix
(``{"ts_ns":N,"kind":"K",...``, the journal writer's format) without decoding the others, and
decoding kept lines in one batch into the small line shapes of ``hedge.dashboard.lines``.

Why this shape: a daemon's journals reach 50 MB x 6 files each; a dashboard must render in a
few seconds and a few hundred MB, and refresh every few seconds while they grow. The first
read costs one pass over ``budget`` bytes (C-speed ``bytes.find``); each refresh costs the new
bytes only. What lies before the budget is not shown (``first_ns`` says where the window starts).

Must never: write, lock or rename a journal, hold more than its caps, or raise on a torn or
corrupt line (it is skipped and counted).
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import msgspec

T = TypeVar("T")

ALL = "*"  # the ``keep`` key that keeps every line whatever its kind
_PREFIX = b'{"ts_ns":'


def line_ts_ns(line: bytes) -> int:
    """The ``ts_ns`` of a journal line from its prefix (0 when it has none)."""
    end = line.find(b",", len(_PREFIX))
    try:
        return int(line[len(_PREFIX):end]) if line.startswith(_PREFIX) else 0
    except ValueError:
        return 0


def pick(data: bytes, kinds: Iterable[str]) -> dict[str, list[bytes]]:
    """The complete lines of ``data`` whose ``kind`` is one of ``kinds``, in file order, by kind."""
    out: dict[str, list[bytes]] = {}
    for kind in kinds:
        needle = b'"kind":"%s"' % kind.encode()
        found: list[bytes] = []
        pos = data.find(needle)
        while pos >= 0:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            if end < 0:
                end = len(data)
            # the kind right after the line's ts_ns (not a "kind" key nested in a payload)
            if data.startswith(_PREFIX, start) and data.find(b",", start + len(_PREFIX), pos) == pos - 1:
                found.append(data[start:end])
            pos = data.find(needle, end)
        out[kind] = found
    return out


def decode_lines(lines: Iterable[bytes], into: type[T]) -> tuple[list[T], int]:
    """Decode journal lines as ``into`` in one batch; on a bad line fall back to one by one.
    Returns (decoded, lines skipped)."""
    batch = list(lines)
    if not batch:
        return [], 0
    try:
        return msgspec.json.decode(b"[" + b",".join(batch) + b"]", type=list[into]), 0  # type: ignore[valid-type]
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    out: list[T] = []
    for line in batch:
        try:
            out.append(msgspec.json.decode(line, type=into))
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
    return out, len(batch) - len(out)


class JournalTail:
    """The newest lines of ``path`` (and ``path.1`` ... when the current file is short of the budget)."""

    def __init__(self, path: str | Path, keep: Mapping[str, int], budget_bytes: int, backups: int = 5) -> None:
        """``keep``: kind -> most lines kept (``ALL``: every line, whatever its kind)."""
        self.path = Path(path)
        self.budget = budget_bytes
        self.backups = backups
        self.keep = dict(keep)
        self.lines: dict[str, collections.deque[bytes]] = {k: collections.deque(maxlen=n) for k, n in keep.items()}
        self.version = 0  # bumped whenever lines were added or dropped
        self.exists = False
        self.mtime_ns = 0
        self.bytes_read = 0
        self._ino = -1
        self._offset = 0
        self._lock = threading.Lock()
        self._decoded: dict[tuple[str, type], tuple[int, list, int]] = {}  # type: ignore[type-arg]

    # ------------------------------------------------------------------------------ reading

    def refresh(self) -> None:
        """Read what was appended since the last call (everything within the budget the first time)."""
        with self._lock:
            try:
                st = os.stat(self.path)
            except OSError:
                self.exists = False
                return
            self.exists = True
            self.mtime_ns = st.st_mtime_ns
            if st.st_ino != self._ino or st.st_size < self._offset:
                self._reload(st.st_ino, st.st_size)
            elif st.st_size > self._offset:
                start = max(self._offset, st.st_size - self.budget)
                at, data = self._read(self.path, start, st.st_size, mid_line=start > self._offset)
                self._offset = at + self._consumed(data)
                self._add(data)

    def _reload(self, ino: int, size: int) -> None:
        for q in self.lines.values():
            q.clear()
        self._ino = ino
        segments: list[bytes] = []
        start = max(0, size - self.budget)
        at, current = self._read(self.path, start, size, mid_line=start > 0)
        self._offset = at + self._consumed(current)
        left = self.budget - size
        for i in range(1, self.backups + 1):
            if left <= 0:
                break
            backup = self.path.with_name(f"{self.path.name}.{i}")
            try:
                bsize = os.stat(backup).st_size
            except OSError:
                break
            bstart = max(0, bsize - left)
            segments.append(self._read(backup, bstart, bsize, mid_line=bstart > 0)[1])
            left -= bsize
        for data in reversed(segments):
            self._add(data)
        self._add(current)
        self.version += 1

    def _read(self, path: Path, start: int, end: int, *, mid_line: bool) -> tuple[int, bytes]:
        """(file offset of the returned bytes, the bytes from ``start`` to ``end``)."""
        try:
            with open(path, "rb") as f:
                f.seek(start)
                data = f.read(end - start)
        except OSError:
            return start, b""
        self.bytes_read += len(data)
        if mid_line:  # the window starts inside a line: drop its rest
            cut = data.find(b"\n") + 1
            return start + cut, data[cut:] if cut else b""
        return start, data

    @staticmethod
    def _consumed(data: bytes) -> int:
        """Bytes of ``data`` up to its last newline (a line still being written is read next time)."""
        return data.rfind(b"\n") + 1

    def _add(self, data: bytes) -> None:
        data = data[: data.rfind(b"\n") + 1]
        if not data:
            return
        kinds = [k for k in self.keep if k != ALL]
        for kind, found in pick(data, kinds).items():
            self.lines[kind].extend(found)
        if ALL in self.keep:
            self.lines[ALL].extend(x for x in data.split(b"\n") if x)
        self.version += 1

    # ------------------------------------------------------------------------------ views

    def get(self, kind: str = ALL) -> list[bytes]:
        with self._lock:
            return list(self.lines.get(kind, ()))

    def decoded(self, kind: str, into: type[T]) -> tuple[list[T], int]:
        """The kept lines of ``kind`` decoded as ``into`` (cached until new lines arrive) and the bad ones."""
        key = (kind, into)
        hit = self._decoded.get(key)
        if hit is not None and hit[0] == self.version:
            return hit[1], hit[2]
        values, bad = decode_lines(self.get(kind), into)
        self._decoded[key] = (self.version, values, bad)
        return values, bad
