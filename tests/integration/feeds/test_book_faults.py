"""Faults injected into the real recorded BTCUSDT stream (bundled hftbacktest 2024-07-18 file).

Reference: a naive dict book rebuilt from the recorded snapshot and the clean diff stream. The
book under test gets the faulty stream; when it asks for a snapshot, it is served (a few diffs
later, as a real REST call would be) the reference state at the stream position reached, with a
lastUpdateId inside the next diff's range. Every BookUpdate it publishes as valid must equal the
reference top at that update id, and after the resync the whole book must equal the reference.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hedge.bus import Bus
from hedge.events import BookState, BookUpdate, DepthSnapshot
from hedge.feeds.sync import BookSync
from tests.integration.feeds.recorded import BEFORE, CHAIN, SNAP, TOPS, Reference

S = "BTCUSDT"


class Run:
    """The book under test, fed the recorded start and then a (faulty) sequence of CHAIN indices."""

    def __init__(self, snapshot_delay: int = 3) -> None:
        self.bus = Bus()
        self.updates: list[BookUpdate] = []
        self.requests = 0
        self.bus.subscribe(BookUpdate, self.updates.append)
        self.sync = BookSync(S, self.bus, request_snapshot=self._requested)
        self.ref = Reference()
        self.delay = snapshot_delay
        self._due = -1
        self.reached = -1
        self.fed = 0
        self.detected_at: int | None = None
        # The recorded start: buffered diffs, then the recorded snapshot.
        for d in BEFORE:
            self.sync.on_diff(d)
        self.requests = 0
        self.sync.on_snapshot(SNAP)
        self.reached = max(i for i, d in enumerate(CHAIN) if d in BEFORE)
        assert self.sync.state is BookState.VALID

    def _requested(self, symbol: str) -> None:
        assert symbol == S
        self.requests += 1
        if self._due < 0:
            self._due = self.fed + self.delay

    def reference_snapshot(self, j: int) -> DepthSnapshot:
        """The exchange's book after CHAIN[j]; its lastUpdateId lies inside CHAIN[j+1]'s range."""
        self.ref.advance_to(j)
        return DepthSnapshot(
            symbol=S, last_update_id=CHAIN[j + 1].first_id,
            bids=list(self.ref.bids.items()), asks=list(self.ref.asks.items()),
        )

    def feed(self, indices: list[int], serve: Callable[[int], DepthSnapshot] | None = None) -> None:
        for i in indices:
            if 0 <= self._due <= self.fed:
                self._due = -1
                self.sync.on_snapshot((serve or self.reference_snapshot)(self.reached))
            was_valid = self.sync.state is BookState.VALID
            self.sync.on_diff(CHAIN[i])
            self.fed += 1
            self.reached = max(self.reached, i)
            if was_valid and self.sync.state is not BookState.VALID and self.detected_at is None:
                self.detected_at = i

    def check(self) -> None:
        valid = [u for u in self.updates if u.valid]
        assert valid, "nothing published"
        for u in valid:
            assert (u.bid_px, u.bid_qty, u.ask_px, u.ask_qty) == TOPS[u.update_id], u.update_id
        assert self.sync.state is BookState.VALID
        ref = Reference()
        ref.advance_to(CHAIN.index(next(d for d in CHAIN if d.final_id == self.sync.last_u)))
        assert self.sync.book.bids(10_000) == sorted(ref.bids.items(), reverse=True)
        assert self.sync.book.asks(10_000) == sorted(ref.asks.items())


def test_clean_stream_matches_reference() -> None:
    r = Run()
    r.feed(list(range(r.reached + 1, len(CHAIN))))
    r.check()
    assert r.sync.stats.gaps == 0 and r.requests == 0


@pytest.mark.parametrize("k", [500, 2000])
def test_dropped_diff_detected_on_next_message_and_resynced(k: int) -> None:
    r = Run()
    r.feed(list(range(r.reached + 1, k)))
    n_before = len(r.updates)
    r.feed([k + 1])  # CHAIN[k] is lost
    assert r.detected_at == k + 1 and r.sync.stats.gaps == 1
    assert r.sync.state is BookState.INVALID and r.updates[-1].valid is False
    assert len(r.updates) == n_before + 1
    r.feed([k + 2, k + 3])  # the snapshot is served 3 diffs after the request
    assert r.sync.state is BookState.INVALID
    assert not any(u.valid for u in r.updates[n_before:])  # nothing valid until resynced
    r.feed(list(range(k + 4, len(CHAIN))))
    assert r.sync.stats.resyncs == 1 and r.requests == 1
    r.check()


def test_duplicates_are_skipped_without_resync() -> None:
    r = Run()
    seq: list[int] = []
    for i in range(r.reached + 1, len(CHAIN)):
        seq += [i, i] if i % 7 == 0 else [i]
    dups = len(seq) - (len(CHAIN) - r.reached - 1)
    r.feed(seq)
    assert r.sync.stats.gaps == 0 and r.sync.stats.stale_diffs == dups > 400
    r.check()


def test_out_of_order_diffs_detected_and_resynced() -> None:
    r = Run()
    k = 1500
    seq = list(range(r.reached + 1, len(CHAIN)))
    pos = seq.index(k)
    seq[pos], seq[pos + 1] = seq[pos + 1], seq[pos]
    r.feed(seq)
    assert r.detected_at == k + 1 and r.sync.stats.gaps == 1 and r.sync.stats.resyncs == 1
    r.check()


def test_snapshot_older_than_buffer_refused_then_resynced() -> None:
    r = Run()
    k = 1000
    served: list[int] = []

    def old_then_current(j: int) -> DepthSnapshot:
        served.append(j)
        return r.reference_snapshot(k - 20) if len(served) == 1 else r.reference_snapshot(j)

    r.feed(list(range(r.reached + 1, k)))
    r.feed([k + 1], serve=old_then_current)
    r.feed(list(range(k + 2, len(CHAIN))), serve=old_then_current)
    assert r.sync.stats.snapshots_stale == 1 and r.sync.stats.resyncs == 2 and len(served) == 2
    r.check()


def test_crossed_snapshot_rejected_then_resynced() -> None:
    r = Run()
    k = 800
    served: list[int] = []

    def crossed_then_good(j: int) -> DepthSnapshot:
        served.append(j)
        s = r.reference_snapshot(j)
        if len(served) == 1:
            best_ask = min(px for px, _ in s.asks)
            return DepthSnapshot(symbol=S, last_update_id=s.last_update_id, bids=[*s.bids, (best_ask + 5.0, 1.0)], asks=s.asks)
        return s

    r.feed(list(range(r.reached + 1, k)))
    r.feed(list(range(k + 1, len(CHAIN))), serve=crossed_then_good)
    assert r.sync.stats.snapshots_rejected == 1 and len(served) == 2
    r.check()
