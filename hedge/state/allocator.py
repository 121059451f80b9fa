"""The process allocator's policy: glibc's thresholds set at start, free heap returned on a timer.

Owns: ``AllocatorPolicy``, a daemon service (feature flag ``malloc_trim``, on by default). On glibc
it sets ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` to 64 KiB (the effect of
``GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536:glibc.malloc.trim_threshold=65536``, without a
re-exec): glibc's dynamic mmap threshold otherwise climbs to 32 MiB after the first large buffer is
freed, so every later large buffer (a REST body, a journal batch, a websocket frame) is carved from
the heap and leaves holes that pin pages. Then every ``interval_s`` it calls ``malloc_trim(0)`` in a
worker thread (ctypes drops the GIL), which hands the free pages inside every arena back to the
kernel. Measured by ``scripts/soak.py`` (docs/operations.md "Memory"): the daemon's RSS grew 7.0%
over the last 80% of a 60-minute soak with Python objects bounded (tracemalloc: ~0.1 MiB net) — the
rest was heap fragmentation. Elsewhere (musl, macOS) it does nothing and says so once.

Must never: run on the event loop thread (a trim walks every arena: milliseconds), change what any
object holds, or fail the daemon (an error is logged and the timer goes on).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
M_MMAP_THRESHOLD = -3
THRESHOLD_BYTES = 64 * 1024


def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (has ``malloc_trim`` and ``mallopt``), else None."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not (hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt")):
        return None
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    return libc


class AllocatorPolicy:
    """A service: glibc thresholds at start, ``malloc_trim(0)`` every ``interval_s`` (module docstring)."""

    name = "allocator"

    def __init__(self, interval_s: float = 60.0) -> None:
        self.interval_s = interval_s
        self.libc = _glibc()
        self.trims = 0
        self.released = 0  # trims that returned memory to the kernel (malloc_trim's answer)

    def apply_thresholds(self) -> bool:
        """Set the mmap and trim thresholds; True if glibc took both."""
        if self.libc is None:
            return False
        mmap_ok: int = self.libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD_BYTES)
        trim_ok: int = self.libc.mallopt(M_TRIM_THRESHOLD, THRESHOLD_BYTES)
        return mmap_ok == 1 and trim_ok == 1

    def trim(self) -> int:
        """Return the free heap pages to the kernel (blocking: call it off the loop thread)."""
        assert self.libc is not None
        released = int(self.libc.malloc_trim(0))
        self.trims += 1
        self.released += released
        return released

    async def run(self) -> None:
        if self.libc is None:
            log.info("allocator: not glibc, the allocator policy does nothing here")
            await asyncio.Event().wait()  # until cancelled
        if not self.apply_thresholds():
            log.warning("allocator: glibc refused the mmap/trim thresholds; trimming only")
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await asyncio.to_thread(self.trim)
            except Exception:  # a failed trim costs memory, never the daemon
                log.exception("allocator: malloc_trim failed")
