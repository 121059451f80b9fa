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
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import numpy as np

T = TypeVar("T")

ALL = "*"  # the ``keep`` key that keeps every line whatever its kind
CHUNK = 4 * 1024 * 1024  # bytes read at a time
_PREFIX = b'{"ts_ns":'


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


Extractor = Callable[[list[bytes]], "np.ndarray[Any, Any]"]


class JournalTail:
    """The newest lines of ``path`` (and ``path.1`` ... when the current file is short of the budget)."""

    def __init__(self, path: str | Path, keep: Mapping[str, int], budget_bytes: int, backups: int = 5,
                 extract: Mapping[str, tuple[Extractor, int]] | None = None) -> None:
        """``keep``: kind -> most raw lines kept (``ALL``: every line, whatever its kind). ``extract``:
        kind -> (a function turning a batch of lines into rows of floats, most rows kept): such kinds
        are kept as numbers only (a NAV curve of 250k points is 4 MB, not 60)."""
        self.path = Path(path)
        self.budget = budget_bytes
        self.backups = backups
        self.keep = dict(keep)
        self.extract = dict(extract or {})
        self.lines: dict[str, collections.deque[bytes]] = {k: collections.deque(maxlen=n) for k, n in keep.items()}
        self._rows: dict[str, list[np.ndarray[Any, Any]]] = {k: [] for k in self.extract}
        self.version = 0  # bumped whenever lines were added or dropped
        self.exists = False
        self.mtime_ns = 0
        self.bytes_read = 0
        self.bad_lines = 0
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
                self._offset = self._scan(self.path, start, st.st_size, mid_line=start > self._offset)
                self.version += 1

    def _reload(self, ino: int, size: int) -> None:
        for q in self.lines.values():
            q.clear()
        for rows in self._rows.values():
            rows.clear()
        self._ino = ino
        plan: list[tuple[Path, int, int]] = []  # newest first
        left = self.budget - size
        for i in range(1, self.backups + 1):
            if left <= 0:
                break
            backup = self.path.with_name(f"{self.path.name}.{i}")
            try:
                bsize = os.stat(backup).st_size
            except OSError:
                break
            plan.append((backup, max(0, bsize - left), bsize))
            left -= bsize
        for backup, bstart, bsize in reversed(plan):
            self._scan(backup, bstart, bsize, mid_line=bstart > 0)
        start = max(0, size - self.budget)
        self._offset = self._scan(self.path, start, size, mid_line=start > 0)
        self.version += 1

    def _scan(self, path: Path, start: int, end: int, *, mid_line: bool) -> int:
        """Take the complete lines between ``start`` and ``end`` in chunks (bounded memory); returns the
        offset after the last complete line (a line still being written is read next time)."""
        carry = b""
        pos = start
        try:
            with open(path, "rb") as f:
                f.seek(start)
                while pos < end:
                    chunk = f.read(min(CHUNK, end - pos))
                    if not chunk:
                        break
                    pos += len(chunk)
                    self.bytes_read += len(chunk)
                    data = carry + chunk
                    if mid_line:  # the window starts inside a line: drop its rest
                        cut = data.find(b"\n") + 1
                        if not cut:
                            carry = b""
                            continue
                        data, mid_line = data[cut:], False
                    last = data.rfind(b"\n") + 1
                    self._add(data[:last])
                    carry = data[last:]
        except OSError:
            return pos
        return pos - len(carry)

    def _add(self, data: bytes) -> None:
        if not data:
            return
        kinds = [k for k in (*self.keep, *self.extract) if k != ALL]
        for kind, found in pick(data, kinds).items():
            if kind in self.lines:
                self.lines[kind].extend(found)
            if kind in self.extract and found:
                self._take_rows(kind, found)
        if ALL in self.keep:
            self.lines[ALL].extend(x for x in data.split(b"\n") if x)

    def _take_rows(self, kind: str, found: list[bytes]) -> None:
        fn, cap = self.extract[kind]
        try:
            rows = fn(found)
        except (msgspec.DecodeError, msgspec.ValidationError):
            good = []
            for line in found:
                try:
                    good.append(fn([line]))
                except (msgspec.DecodeError, msgspec.ValidationError):
                    self.bad_lines += 1
            if not good:
                return
            rows = np.concatenate(good)
        kept = self._rows[kind]
        kept.append(rows)
        if sum(len(r) for r in kept) > 2 * cap:
            kept[:] = [np.concatenate(kept)[-cap:]]

    # ------------------------------------------------------------------------------ views

    def get(self, kind: str = ALL) -> list[bytes]:
        with self._lock:
            return list(self.lines.get(kind, ()))

    def rows(self, kind: str) -> np.ndarray[Any, Any]:
        """The extracted rows of ``kind`` (oldest first; column 0 is ``ts_ns`` as a float64)."""
        with self._lock:
            kept = self._rows.get(kind) or []
            if len(kept) > 1:
                kept[:] = [np.concatenate(kept)]
            if not kept:
                return np.empty((0, 1))
            cap = self.extract[kind][1]
            return kept[0][-cap:]

    def decoded(self, kind: str, into: type[T]) -> tuple[list[T], int]:
        """The kept lines of ``kind`` decoded as ``into`` (cached until new lines arrive) and the bad ones."""
        key = (kind, into)
        hit = self._decoded.get(key)
        if hit is not None and hit[0] == self.version:
            return hit[1], hit[2]
        values, bad = decode_lines(self.get(kind), into)
        self._decoded[key] = (self.version, values, bad)
        return values, bad
