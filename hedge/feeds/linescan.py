"""Recorded lines in bulk: a block of hftbacktest lines to records, and the receive-time check a batch at a time.

Owns: the two per-line loops of reading a gz recording (``hedge.feeds.recording`` does the rest),
as kernels over whole blocks and lists, so the compiled build can run them in C:

- ``parse_block(block, make, slow)``: the records of a block of complete lines (each ending in
  ``\\n``, as ``recording.read_blocks`` gives them). A line in the common form — ASCII digits, one
  space, a combined-stream frame ``{"stream"...`` not ending in ``\\r`` — becomes
  ``make(recv_ns, raw)``; any other line (a snapshot, a bad line, an odd one) is handed whole to
  ``slow(line)``, the reference reader's per-line function (which counts and logs what is bad and
  returns a record or None). So what is read, counted and dropped stays the reference's by
  construction; the shortcut only decides what it can decide alone.
- ``count_lines(block)``: the line ends in a block (the reader's line count, for a damage report).
- ``TimeOrder(slack_ns, lookahead, judge, drop)``: ``recording.in_time_order``'s rule over lists
  of records: ``feed(recs)`` returns the records judged so far (the stream's order, without those
  ``drop``ped), ``flush()`` the rest at the stream's end. A record within ``slack_ns`` of the
  stream's time (the running maximum; nearly all) passes with one comparison; one outside it is
  judged by ``judge(t, last, ahead)`` on the next ``lookahead`` records of the stream, which may
  wait for the next list (kept back until then). Records are anything with ``recv_ns``.

Design: this ``.py`` is the reference (``HEDGE_PURE=1``); the compiled build (setup.py HOT_MODULES)
compiles ``linescan.pyx``: a ``memchr`` over the block (also to count lines: ~3x ``bytes.count``),
the receive time parsed from its digits, one bytes object per frame cut straight from the block
(the pure path makes a line, then the frame from it), and the time check as a C loop over the list
with the running maximum in a C integer.
Both give the same records and the same counts (tests/unit/feeds/test_linescan.py, hypothesis).

Must never: alter a line's bytes, decide a line the shortcut does not fully recognise, or reorder
records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

_FRAME = b'{"stream"'


def count_lines(block: bytes) -> int:
    """The line ends (``\\n``) in ``block``."""
    return block.count(b"\n")


def parse_block(block: bytes, make: Callable[[int, bytes], Any], slow: Callable[[bytes], Any]) -> list[Any]:
    """The records of ``block``'s lines, in order: ``make(recv_ns, raw)`` for a plain frame line,
    ``slow(line)`` (None: no record) for any other."""
    out: list[Any] = []
    append = out.append
    lines = block.split(b"\n")
    if not lines[-1]:
        lines.pop()
    for line in lines:
        sp = line.find(b" ")
        if sp > 0 and line[sp + 1 : sp + 10] == _FRAME and line[:sp].isdigit() and line[-1:] != b"\r":
            append(make(int(line[:sp]), line[sp + 1 :]))
        elif (rec := slow(line)) is not None:
            append(rec)
    return out


class TimeOrder:
    """``in_time_order``'s rule, a list of records at a time (see the module docstring)."""

    def __init__(self, slack_ns: int, lookahead: int, judge: Callable[[int, int, Sequence[Any]], bool],
                 drop: Callable[[Any], None], last: int = -1) -> None:
        self.slack = slack_ns
        self.lookahead = lookahead
        self.judge = judge
        self.drop = drop
        self.last = last  # the stream's time: the latest receive time taken (-1: none yet)
        self.carry: list[Any] = []  # records not judged yet: their lookahead is in the next list

    def feed(self, recs: list[Any]) -> list[Any]:
        """The records of ``recs`` (after those kept back before) that can be judged now, kept ones in order."""
        return self._run(self.carry + recs if self.carry else recs, False)

    def flush(self) -> list[Any]:
        """The stream has ended: the records kept back, judged on the fewer records left after them."""
        return self._run(self.carry, True)

    def _run(self, recs: list[Any], final: bool) -> list[Any]:
        self.carry = []
        slack, lookahead, last = self.slack, self.lookahead, self.last
        out: list[Any] = []
        n = end = len(recs)
        taken = 0  # records before this one are handed out or dropped
        for i in range(n):
            t = recs[i].recv_ns
            if last >= 0 and last - slack <= t <= last + slack:
                if t > last:
                    last = t
                continue
            if not final and n - i - 1 < lookahead:
                self.carry = recs[i:]
                end = i
                break
            if self.judge(t, last, recs[i + 1 : i + 1 + lookahead]):
                last = t
            else:
                out += recs[taken:i]
                taken = i + 1
                self.drop(recs[i])
        self.last = last
        if not taken and end == n:
            return recs
        out += recs[taken:end]
        return out
