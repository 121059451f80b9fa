"""A one-line progress bar on stderr, for long commands run on a terminal (``hedge replay``, ``hedge sweep``).

Owns: ``ProgressBar`` — drawn only when stderr is a TTY (a pipe, a log file or CI sees nothing) and
only once the run has lasted ``after_s`` (a short run never flashes a bar), redrawn at most every
``every_s``, with the done/total count, the share, the rate and the time left; without a total it
shows the count and the rate. While drawn, a log line clears the bar first (a filter on the root
logger's handlers; the next update draws it again below). ``close()`` clears the line and removes
the filter, so the command's own output follows.

Must never: write to stdout (commands keep it for their JSON), or draw on anything but a terminal.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

WIDTH = 30  # characters of the bar itself


class ProgressBar:
    """``update(done)`` as work finishes; ``close()`` at the end (also on failure)."""

    def __init__(self, label: str, total: int | None = None, *, stream: TextIO | None = None,
                 after_s: float = 2.0, every_s: float = 0.2, force: bool = False) -> None:
        """``force``: draw even when ``stream`` is not a TTY (tests)."""
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.total = total if total else None
        self.after_s = after_s
        self.every_s = every_s
        self.enabled = force or self.stream.isatty()
        self.start = time.monotonic()  # wall clock: a progress display, never an outcome
        self._last_draw = 0.0
        self.drawn = False
        self.done = 0
        self._handlers: list[logging.Handler] = []
        if self.enabled:
            self._handlers = list(logging.getLogger().handlers)
            for h in self._handlers:
                h.addFilter(self._clear_before_log)

    def _clear_before_log(self, record: logging.LogRecord) -> bool:
        self._clear()
        return True

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.after_s or now - self._last_draw < self.every_s:
            return
        self._last_draw = now
        self.stream.write("\r" + self.line(now - self.start, note) + "\033[K")
        self.stream.flush()
        self.drawn = True

    def line(self, elapsed: float, note: str = "") -> str:
        rate = self.done / elapsed if elapsed > 0 else 0.0
        tail = f" {note}" if note else ""
        if self.total is None:
            return f"{self.label} {self.done:,} ({rate:,.0f}/s, {elapsed:.0f}s){tail}"
        share = min(1.0, self.done / self.total)
        fill = round(share * WIDTH)
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        return (f"{self.label} [{'#' * fill}{'.' * (WIDTH - fill)}] {share:4.0%} {self.done:,}/{self.total:,} "
                f"({elapsed:.0f}s, ~{left:.0f}s left){tail}")

    def _clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.drawn = False

    def close(self) -> None:
        self._clear()
        for h in self._handlers:
            h.removeFilter(self._clear_before_log)
        self._handlers = []
