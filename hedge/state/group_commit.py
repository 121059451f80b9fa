"""Group commit of the durable journals: their lines in the kernel at once, on disk soon after.

Owns: when the durable journals' buffered lines are written and synced, the sync thread, and the
sequence numbers that let a caller wait until every line written before a point is on disk.

Design: each durable line bumps ``seq`` and, if none is pending, schedules one ``commit()`` with
``loop.call_soon`` (with no running loop: at once). ``commit()`` writes every dirty buffer to its
file on the loop (a few microseconds: from then on a kill -9 loses nothing) and hands the
fdatasync of those files to a background thread (a power loss neither, once it returns), so the
loop never blocks on the disk. While a sync runs, later commits queue behind it and are synced
together (``synced_seq`` only ever moves forward, in order).
``await synced(n)`` returns once the first ``n`` durable lines are on disk: the router waits for
the lines written before an order's request before sending it (the fills and answers its
decision rests on: ``barrier_seq``, the position of the last such line), never for the request's
own line nor for other requests' lines (``on_request_line``: what this process sent is not what a
decision rests on; each is synced while its order is in flight). When an order waits for lines a
running sync does not cover, their sync starts at once beside it (at most
``MAX_SYNCS_IN_FLIGHT``) instead of queueing behind it, so the wait is one sync, not the rest of
the running one plus another (on this loaded machine an fdatasync takes 1-50 ms); ``synced_seq``
still moves forward in order (a sync's target counts once every sync started before it returned).
``fsync=False`` (replay) writes the same lines and counts them synced at the commit.

Must never: block the event loop on fsync, report a line synced before its fdatasync returned,
or raise into the caller (a failed sync is counted and logged; the lines stay in the file).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hedge.state.journal import JournalWriter

log = logging.getLogger(__name__)

MAX_SYNCS_IN_FLIGHT = 2  # one batch, and one an order waits for started beside it
SyncJob = tuple[int, Path | None]  # a dup of the file's descriptor; its directory when the entry is new


def run_sync_jobs(jobs: list[SyncJob]) -> int:
    """fdatasync each job's descriptor (and fsync its directory when asked), close it; the failures."""
    errors = 0
    for fd, directory in jobs:
        try:
            os.fdatasync(fd)
            if directory is not None:
                dfd = os.open(directory, os.O_RDONLY)
                try:
                    os.fsync(dfd)
                finally:
                    os.close(dfd)
        except OSError as exc:
            errors += 1
            log.error("journal: fsync failed (%s)", exc)
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)
    return errors


class GroupCommit:
    """The durable journals' commit and sync (see the module docstring)."""

    def __init__(self, *, fsync: bool = True) -> None:
        self.fsync = fsync
        self.seq = 0  # durable lines written so far
        self.barrier_seq = 0  # the position of the last line an order must wait for (not a request line)
        self.synced_seq = 0  # the first ``synced_seq`` of them are on disk
        self.commits = 0
        self.syncs = 0
        self.urgent_syncs = 0  # syncs started beside a running one because an order waited
        self.sync_errors = 0
        self._dirty: dict[JournalWriter, None] = {}  # to write at the next commit
        self._to_sync: dict[JournalWriter, None] = {}  # written, to sync when the running sync ends
        self._to_sync_seq = 0
        self._scheduled = False
        self._flights: list[list[int]] = []  # syncs in flight in start order: [their target, done]
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._pool: ThreadPoolExecutor | None = None

    def on_line(self, w: JournalWriter) -> None:
        """A durable writer buffered a line an order waits for (an answer, a fill): committed at the next turn."""
        self.on_request_line(w)
        self.barrier_seq = self.seq

    def on_request_line(self, w: JournalWriter) -> None:
        """A durable writer buffered one of this process's own requests: committed at the next loop turn,
        but no other order waits for it (it is synced while it is in flight, like the order's own line)."""
        self.seq += 1
        self._dirty[w] = None
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop: nothing can act before this returns; commit now
            self.commit()
            return
        self._scheduled = True
        loop.call_soon(self.commit)

    def commit(self) -> None:
        """Every dirty durable buffer to its file now; their sync started (or queued behind the running one)."""
        self._scheduled = False
        self.write()
        self._start_sync()

    def write(self) -> None:
        """Every dirty durable buffer to its file now (a kill -9 loses nothing); their sync starts at
        the commit already scheduled for them (the router, right before an order leaves: starting the
        sync thread there would put a thread hand-off between the decision and the request)."""
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        for w in dirty:
            w.flush()
        self.commits += 1
        if not self.fsync:
            self._advance(self.seq)
            return
        self._to_sync |= dirty
        self._to_sync_seq = self.seq

    def _start_sync(self, *, urgent: bool = False) -> None:
        """Sync what was written since the running syncs started: when none runs, or ``urgent`` (an
        order waits for these lines) beside the running one, up to ``MAX_SYNCS_IN_FLIGHT``."""
        if not self._to_sync or (self._flights and not (urgent and len(self._flights) < MAX_SYNCS_IN_FLIGHT)):
            return
        jobs = [job for w in self._to_sync if (job := w.sync_job()) is not None]
        flight, self._to_sync = [self._to_sync_seq, 0], {}
        self._flights.append(flight)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._done(flight, run_sync_jobs(jobs))
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=MAX_SYNCS_IN_FLIGHT, thread_name_prefix="journal-sync")
        self.urgent_syncs += len(self._flights) > 1
        fut = loop.run_in_executor(self._pool, run_sync_jobs, jobs)
        fut.add_done_callback(lambda f: self._done(flight, f.result() if not f.cancelled() else len(jobs)))

    def _done(self, flight: list[int], errors: int) -> None:
        """A sync returned: the lines up to its target are on disk once every sync started before it returned too."""
        flight[1] = 1
        self.syncs += 1
        self.sync_errors += errors
        while self._flights and self._flights[0][1]:
            self._advance(self._flights.pop(0)[0])
        self._start_sync()

    def _advance(self, target: int) -> None:
        self.synced_seq = max(self.synced_seq, target)
        if not self._waiters:
            return
        waiting = []
        for n, fut in self._waiters:
            if n <= self.synced_seq:
                if not fut.done():
                    fut.set_result(None)
            else:
                waiting.append((n, fut))
        self._waiters = waiting

    async def synced(self, n: int) -> None:
        """Return once the first ``n`` durable lines are on disk (at once when they already are)."""
        if n <= self.synced_seq:
            return
        self.commit()  # lines still in a buffer: write them and start their sync now
        if n <= self.synced_seq:
            return
        if all(target < n for target, _ in self._flights):  # the running sync does not cover them
            self._start_sync(urgent=True)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((n, fut))
        await fut

    def close(self) -> None:
        """Commit, wait for the sync thread, sync what is left (the files are closed after this)."""
        self.commit()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._flights.clear()
        if self._to_sync:
            jobs = [job for w in self._to_sync if (job := w.sync_job()) is not None]
            self._to_sync = {}
            self.sync_errors += run_sync_jobs(jobs)
        self._advance(self.seq)
