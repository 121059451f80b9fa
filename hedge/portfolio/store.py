"""The ledger's durable copy: logs/state/portfolio_ledger.json, written atomically, read at start.

Owns: encoding ``LedgerState``, writing it through ``hedge.state.atomic.atomic_write`` (temp
file, fsync, rename: a crash leaves the previous complete file), and reading it back. The
operator surface logs/state/positions_ledger.json is a different file with a single writer, the
state publisher, fed by the ``LedgerPosition`` events the portfolio publishes.

Design: two ways to write, one file, never out of order (``hedge.state.coalesced``).
- ``save_now()`` writes synchronously. The portfolio calls it only *before* it publishes an exit
  intent (write-ahead: a restarted process must know the attempt was issued, so it never reuses
  the intent id) — exits are rare, an fsync there costs a few milliseconds.
- ``mark_dirty()`` + ``run()``: every other change (fills, order tags, stop ratchets that can
  move on every tick) is coalesced and written from a worker thread at most every
  ``persist_interval_s``.

Must never: leave a partial file, or run an fsync on the tick path except for a write-ahead exit.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from hedge.model.clock import Clock
from hedge.portfolio.ledger import LedgerState
from hedge.state.coalesced import CoalescedWriter

LEDGER_FILE = "portfolio_ledger.json"

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(LedgerState)


class LedgerStore(CoalescedWriter):
    def __init__(self, path: str | Path, state: LedgerState, *, clock: Clock, interval_s: float = 0.25) -> None:
        super().__init__(path, self._encode, interval_s=interval_s, what="portfolio")
        self.state = state
        self.clock = clock

    @staticmethod
    def load(path: str | Path) -> LedgerState:
        """The persisted ledger; an empty one when there is no file. A corrupt file raises."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            return LedgerState()
        try:
            return _decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ValueError(f"{p}: unreadable ledger ({exc}); move it aside to start from the exchange") from None

    def _encode(self) -> bytes:
        self.state.saved_ns = self.clock.now_ns()
        return _encoder.encode(self.state)
