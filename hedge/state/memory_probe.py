"""The memory probe: tracemalloc snapshots on SIGUSR2, and what grew between them, by traceback.

Owns: a diagnosis a soak turns on (feature flag ``tracemalloc``, env ``HEDGE_FEATURE_TRACEMALLOC=1``;
off by default): it starts ``tracemalloc`` (``FRAMES`` frames a traceback), and at each SIGUSR2 takes
a snapshot. The first is the baseline; each later one rewrites ``<log dir>/tracemalloc.txt`` with
the ``TOP`` tracebacks whose memory grew most since the baseline (size and count growth, the
frames oldest first). ``scripts/soak.py --tracemalloc`` signals once after its warm-up and once at
the end of the run. tracemalloc costs CPU and memory of its own (RSS figures of such a run are not
the daemon's): a diagnosis, never a production setting.

Must never: run unless asked, or write anywhere but its own file in the log dir.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import tracemalloc
from pathlib import Path

log = logging.getLogger(__name__)

FRAMES = 8
TOP = 40
REPORT = "tracemalloc.txt"
# Allocations made by the probe itself and by imports are not what a leak hunt is after.
_IGNORED = (
    tracemalloc.Filter(False, tracemalloc.__file__),
    tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    tracemalloc.Filter(False, "<frozen importlib._bootstrap_external>"),
    tracemalloc.Filter(False, "<unknown>"),
)


def growth_report(baseline: tracemalloc.Snapshot, now: tracemalloc.Snapshot, top: int = TOP) -> str:
    """The ``top`` tracebacks that grew most from ``baseline`` to ``now``, most first, as text."""
    stats = now.filter_traces(_IGNORED).compare_to(baseline.filter_traces(_IGNORED), "traceback")
    grown = [st for st in stats if st.size_diff > 0][:top]
    total = sum(st.size_diff for st in stats)
    lines = [f"net growth since the baseline: {total / 1024:+.1f} KiB over {len(stats)} tracebacks", ""]
    for i, st in enumerate(grown, 1):
        lines.append(f"#{i}: {st.size_diff / 1024:+.1f} KiB ({st.count_diff:+d} blocks), now "
                     f"{st.size / 1024:.1f} KiB in {st.count} blocks")
        lines.extend("    " + line for line in st.traceback.format())
        lines.append("")
    return "\n".join(lines)


class MemoryProbe:
    """A service: tracemalloc on while it runs; SIGUSR2 takes a snapshot (see the module docstring)."""

    name = "memory-probe"

    def __init__(self, log_dir: Path) -> None:
        self.path = log_dir / REPORT
        self.baseline: tracemalloc.Snapshot | None = None
        self.snapshots = 0

    def snapshot(self) -> None:
        """Take a snapshot: the first is the baseline, each later one rewrites the report."""
        now = tracemalloc.take_snapshot()
        self.snapshots += 1
        if self.baseline is None:
            self.baseline = now
            log.warning("memory probe: baseline snapshot taken (%d traces)", len(now.traces))
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f"snapshot {self.snapshots} against the baseline (snapshot 1)\n"
                       + growth_report(self.baseline, now) + "\n")
        tmp.replace(self.path)
        log.warning("memory probe: snapshot %d, growth written to %s", self.snapshots, self.path)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        if not tracemalloc.is_tracing():
            tracemalloc.start(FRAMES)
        loop.add_signal_handler(signal.SIGUSR2, self.snapshot)
        try:
            await asyncio.Event().wait()  # until cancelled
        finally:
            loop.remove_signal_handler(signal.SIGUSR2)
            tracemalloc.stop()
