"""The state publisher: writes the surfaces of ``StateModel`` to logs/state/*.json, off the hot path.

Owns: when each state file is written and the writing itself. A surface is written when it has
changed, at most once per ``runtime.state.min_interval_s`` (a periodic surface, diagnostics, is
rewritten every interval because it holds ages); logs/state/manifest.json is written at start;
everything still pending is written at shutdown.

Design: the bus handlers of ``StateModel`` only mark a surface dirty (a set insert). This
service's task conflates all the changes of one interval into a single build + encode in the
event-loop thread (consistent, no locks) and hands the bytes to a worker thread for the atomic
write (temp file, fsync, rename: milliseconds that must not stall the loop). A failing disk is
logged (rate-limited) and counted; the surface stays dirty and is retried next interval.
``fsync`` (True) makes each write durable; a replay turns it off (the same bytes, no disk round trip).

Every file's bytes pass through ``Masker`` (a secret that slipped into a reason text is written
as ``***``).

Must never: write from a bus handler, block the loop on disk, or stop on a write error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import msgspec

from hedge.model.clock import EventClock
from hedge.state.atomic import TMP_SUFFIX, atomic_write
from hedge.state.manifest import MANIFEST_FILE, SURFACE_BY_NAME, SURFACES, build_manifest
from hedge.state.masking import Masker
from hedge.state.surfaces import StateModel

log = logging.getLogger(__name__)

PERIODIC_FLOOR_S = 0.25  # periodic surfaces are never rewritten faster than this
_LOG_EVERY_S = 30.0
_encoder = msgspec.json.Encoder()


def encode_state(obj: msgspec.Struct) -> bytes:
    return msgspec.json.format(_encoder.encode(obj), indent=2) + b"\n"


class StatePublisher:
    """A service (``name`` + ``run()``) writing the state files of one engine."""

    name = "state-publisher"

    def __init__(
        self, model: StateModel, directory: str | Path, min_interval_s: float = 1.0, masker: Masker | None = None,
    ) -> None:
        self.model = model
        self.clock = model.t.clock  # the engine's: write intervals and the manifest's stamp
        self.masker = masker if masker is not None else Masker()
        self.dir = Path(directory)
        self.min_interval_s = min_interval_s
        self.stats = model.write_stats
        self.fsync = True  # durable writes; a replay (pure simulation) sets False: the same bytes
        self._dirty: set[str] = {x.name for x in SURFACES}  # every file exists after the first round
        self._manifest_written = False
        self._last: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._last_error_log = -_LOG_EVERY_S
        model.on_dirty = self.mark

    def mark(self, name: str) -> None:
        """Called from bus handlers: remember that ``name`` changed. O(1), never blocks."""
        if name not in self._dirty:
            self._dirty.add(name)
            self._wake.set()

    def _interval(self, name: str) -> float:
        if SURFACE_BY_NAME[name].periodic:
            return max(self.min_interval_s, PERIODIC_FLOOR_S)
        return self.min_interval_s

    async def run(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob(f".*{TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                stale.unlink()
        await asyncio.to_thread(self._write_manifest)
        try:
            while True:
                await self._write_due()
                wait = self._next_due_in()
                self._wake.clear()
                if wait is None:
                    await self._wake.wait()
                elif wait > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), wait)
        finally:
            self.flush()

    def _next_due_in(self) -> float | None:
        if not self._dirty:
            return None
        now = self.clock.now_s()
        return max(0.0, min(self._last.get(n, 0.0) + self._interval(n) for n in self._dirty) - now)

    async def _write_due(self) -> None:
        now = self.clock.now_s()
        due = [n for n in self._dirty if now - self._last.get(n, float("-inf")) >= self._interval(n)]
        for name in due:
            self._dirty.discard(name)
            data = self._encode(name)
            try:
                await asyncio.to_thread(atomic_write, self.dir / SURFACE_BY_NAME[name].file, data, fsync=self.fsync)
            except OSError as exc:
                self._failed(name, exc)
                self._dirty.add(name)
            else:
                self.stats.writes += 1
            self._last[name] = self.clock.now_s()
            if SURFACE_BY_NAME[name].periodic:
                self._dirty.add(name)

    def _write_manifest(self) -> None:
        atomic_write(self.dir / MANIFEST_FILE, encode_state(build_manifest(
            self.min_interval_s, self.clock.now_ns(), time="event" if isinstance(self.clock, EventClock) else "wall")),
            fsync=self.fsync)
        self._manifest_written = True

    def _encode(self, name: str) -> bytes:
        return self.masker.mask_bytes(encode_state(self.model.build(name)))

    def flush(self) -> None:
        """Write every pending surface now, synchronously (shutdown, tests)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self._manifest_written:
            try:
                self._write_manifest()
            except OSError as exc:
                self._failed(MANIFEST_FILE, exc)
        failed: set[str] = set()
        for name in sorted(self._dirty):
            data = self._encode(name)
            try:
                atomic_write(self.dir / SURFACE_BY_NAME[name].file, data, fsync=self.fsync)
            except OSError as exc:
                self._failed(name, exc)
                failed.add(name)
                continue
            self.stats.writes += 1
            self._last[name] = self.clock.now_s()
        self._dirty = failed | {x.name for x in SURFACES if x.periodic}

    def _failed(self, name: str, exc: OSError) -> None:
        self.stats.errors += 1
        now = self.clock.now_s()
        if now - self._last_error_log >= _LOG_EVERY_S:
            self._last_error_log = now
            log.error("state: writing %s failed (%s); %d write errors so far", name, exc, self.stats.errors)
