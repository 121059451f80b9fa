"""The Firestore sync service: reads the state files, queues what changed, commits it in batches.

Owns: the sync loop of one state directory (``<log_dir>/state``) — every ``firestore.interval_s``
it reads ``nav_state``, ``positions_state`` and ``leaderboard_state`` (and adds a NAV history
point once per ``nav_history_s`` of NAV reading time), queues each document whose content hash
differs from the last one committed (``Pending``: newest wins, bounded), and commits the queue in
batches of ``batch_size`` from a worker thread. A failed commit is counted, its batch put back
(newer content offered meanwhile wins) and retried after an exponential backoff; it also forgets
what the backend holds, so the next successful round rewrites every synced document once (a
restarted backend may have lost them: the sync never reads to find out). ``SyncStats`` are what
/metrics shows.

The engine's tick path never waits for it: it only reads files the state publisher has already
written; every file read and every commit runs in a worker thread.

Must never: read Firestore, raise out of its loop on a sync failure, or log a credential (errors are
reduced to their class and gRPC status, then masked).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import msgspec

from hedge.backoff import backoff_delays
from hedge.config import FirestoreConfig
from hedge.model.clock import Clock
from hedge.state.firestore.layout import SYNCED_SURFACES, Doc, Layout, bucket_ms, make_doc, nav_point
from hedge.state.firestore.pending import Pending
from hedge.state.firestore.writer import FirestoreWriter, SyncError
from hedge.state.masking import Masker

log = logging.getLogger(__name__)

_LOG_EVERY_S = 30.0


class Writer(Protocol):
    def commit(self, docs: list[Doc]) -> None: ...

    def close(self) -> None: ...


@dataclasses.dataclass
class SyncStats:
    """The sync's counters (``hedge_firestore_*`` in /metrics)."""

    enabled: bool = False
    writes: int = 0  # documents written
    commits: int = 0  # batches committed
    failures: int = 0  # commits (or client openings) that failed
    unchanged: int = 0  # state files read whose content was already written (no write)
    superseded: int = 0  # pending writes replaced by newer content before they were sent
    dropped: int = 0  # pending writes dropped (queue full)
    queue_depth: int = 0
    last_success_ns: int = 0
    latency_s: float = 0.0  # the last committed state: its file's updated_ns -> commit done
    latency_max_s: float = 0.0


class FirestoreSync:
    """A service (``name`` + ``run()``) syncing one state directory to Firestore, one way."""

    name = "firestore-sync"

    def __init__(
        self,
        state_dir: str | Path,
        cfg: FirestoreConfig,
        clock: Clock,
        *,
        stats: SyncStats | None = None,
        writer_factory: Callable[[], Writer] | None = None,
        masker: Masker | None = None,
    ) -> None:
        self.dir = Path(state_dir)
        self.cfg = cfg
        self.clock = clock
        self.stats = stats if stats is not None else SyncStats()
        self.stats.enabled = True
        self.layout = Layout(cfg.root, cfg.instance)
        self.pending = Pending(cfg.queue_size)
        self.masker = masker or Masker()
        self._writer_factory = writer_factory or (lambda: FirestoreWriter(cfg.project, timeout_s=cfg.timeout_s))
        self._writer: Writer | None = None
        self._written: dict[str, str] = {}  # path -> content hash last committed
        self._seen: dict[str, bytes] = {}  # surface -> the file's bytes last read
        self._last_bucket = -1
        self._delay = backoff_delays(cfg.backoff_initial_s, cfg.backoff_max_s)
        self._attempt = 0
        self._retry_at = 0.0
        self._last_log = -_LOG_EVERY_S

    async def run(self) -> None:
        try:
            while True:
                await self.step()
                await asyncio.sleep(self.cfg.interval_s)
        finally:
            await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            with contextlib.suppress(Exception):
                await asyncio.to_thread(writer.close)

    async def step(self) -> None:
        """One round: read the state files, queue the changes, commit the queue (unless backing off)."""
        for doc in await asyncio.to_thread(self.scan):
            self.pending.offer(doc)
        if self.pending and self.clock.now_s() >= self._retry_at:
            await self._flush()
        self._count()

    def scan(self) -> list[Doc]:
        """The documents whose content differs from what was last committed (runs in a worker thread)."""
        out: list[Doc] = []
        for surface in SYNCED_SURFACES:
            try:
                data = (self.dir / f"{surface}.json").read_bytes()
            except OSError:
                continue  # not written yet
            if surface in self._seen and self._seen[surface] == data:
                self.stats.unchanged += 1
                continue
            try:
                content: dict[str, Any] = msgspec.json.decode(data)
            except msgspec.DecodeError:
                continue  # never happens with the atomic writer; a hand-edited file is skipped
            self._seen[surface] = data
            doc = make_doc(self.layout.state(surface), content, _int(content, "updated_ns"))
            if doc.path in self._written and self._written[doc.path] == doc.content_hash:
                self.stats.unchanged += 1
                continue
            out.append(doc)
            if surface == "nav_state":
                out += self._nav_history(content)
        return out

    def _nav_history(self, nav: dict[str, Any]) -> list[Doc]:
        nav_ns = _int(nav, "nav_ns")
        if nav_ns <= 0:
            return []
        b = bucket_ms(nav_ns, self.cfg.nav_history_s)
        if b == self._last_bucket:
            return []
        self._last_bucket = b
        return [make_doc(self.layout.nav_history(b), nav_point(nav, b), nav_ns)]

    async def _flush(self) -> None:
        while self.pending:
            batch = self.pending.take(self.cfg.batch_size)
            try:
                if self._writer is None:
                    self._writer = await asyncio.to_thread(self._writer_factory)
                await asyncio.to_thread(self._writer.commit, batch)
            except asyncio.CancelledError:
                self.pending.put_back(batch)
                raise
            except Exception as exc:
                self._failed(batch, exc)
                return
            self._committed(batch)

    def _committed(self, batch: list[Doc]) -> None:
        st = self.stats
        now_ns = self.clock.now_ns()
        for doc in batch:
            self._written[doc.path] = doc.content_hash
        st.writes += len(batch)
        st.commits += 1
        st.last_success_ns = now_ns
        newest = max(d.source_ns for d in batch)
        if newest > 0:
            st.latency_s = max(0.0, (now_ns - newest) / 1e9)
            st.latency_max_s = max(st.latency_max_s, st.latency_s)
        self._attempt = 0
        self._retry_at = 0.0

    def _failed(self, batch: list[Doc], exc: Exception) -> None:
        self.pending.put_back(batch)
        self._written.clear()  # the backend may have lost everything (a restart): rewrite it all
        self._seen.clear()
        self.stats.failures += 1
        delay = self._delay(self._attempt)
        self._attempt += 1
        now = self.clock.now_s()
        self._retry_at = now + delay
        what = (str(exc) if isinstance(exc, SyncError)
                else "google-cloud-firestore is not installed: pip install 'hedge[firestore]'"
                if isinstance(exc, ModuleNotFoundError) else type(exc).__name__)
        if now - self._last_log >= _LOG_EVERY_S:
            self._last_log = now
            log.warning("firestore: commit of %d document(s) failed (%s); retry in %.1f s; %d failures so far",
                        len(batch), self.masker.mask(what), delay, self.stats.failures)

    def _count(self) -> None:
        st = self.stats
        st.queue_depth = len(self.pending)
        st.superseded = self.pending.superseded
        st.dropped = self.pending.dropped


def _int(content: dict[str, Any], key: str) -> int:
    """An integer field of a state file (0 when missing); no ``.get``: this package makes no call by that name."""
    value = content[key] if key in content else 0  # noqa: SIM401 (no call named get here)
    return value if isinstance(value, int) else 0
