"""The bundled BTCUSDT recording (2024-07-18 file) split for tests: the recorded snapshot, the
diffs before it, the clean diff chain from the bridging diff on (with the raw frames), and a naive
dict reference book over that chain."""

from __future__ import annotations

import itertools

from hedge.events import DepthDiff, DepthSnapshot
from hedge.feeds.codec import Codec
from hedge.feeds.recording import bundled_btcusdt, iter_hftbacktest

S = "BTCUSDT"


def _load() -> tuple[DepthSnapshot, list[DepthDiff], list[DepthDiff], bytes, dict[int, bytes]]:
    codec = Codec()
    snap: DepthSnapshot | None = None
    snap_raw = b""
    before: list[DepthDiff] = []
    after: list[DepthDiff] = []
    raw_by_u: dict[int, bytes] = {}
    for rec in iter_hftbacktest(bundled_btcusdt()[:1]):
        if rec.is_snapshot:
            snap = codec.decode_snapshot(rec.raw, S, rec.recv_ns)
            snap_raw = rec.raw
            continue
        ev = codec.decode(rec.raw, rec.recv_ns)
        if isinstance(ev, DepthDiff):
            (before if snap is None else after).append(ev)
            raw_by_u[ev.final_id] = rec.raw
    assert snap is not None
    # Per Binance: drop u < lastUpdateId; the bridging diff and what follows form the clean chain.
    chain = [d for d in before + after if d.final_id >= snap.last_update_id]
    assert chain[0].first_id <= snap.last_update_id <= chain[0].final_id
    assert all(b.prev_final_id == a.final_id for a, b in itertools.pairwise(chain))
    return snap, before, chain, snap_raw, raw_by_u


SNAP, BEFORE, CHAIN, SNAP_RAW, _RAW = _load()
CHAIN_RAW = [_RAW[d.final_id] for d in CHAIN]


class Reference:
    """Naive dict book over the clean chain."""

    def __init__(self) -> None:
        self.bids = {px: q for px, q in SNAP.bids if q > 0}
        self.asks = {px: q for px, q in SNAP.asks if q > 0}
        self.at = -1  # index in CHAIN of the last applied diff

    def advance_to(self, j: int) -> None:
        while self.at < j:
            self.at += 1
            d = CHAIN[self.at]
            for side, levels in ((self.bids, d.bids), (self.asks, d.asks)):
                for px, q in levels:
                    if q > 0:
                        side[px] = q
                    else:
                        side.pop(px, None)

    def top(self) -> tuple[float, float, float, float]:
        bp = max(self.bids)
        ap = min(self.asks)
        return (bp, self.bids[bp], ap, self.asks[ap])


def _reference_tops() -> dict[int, tuple[float, float, float, float]]:
    ref = Reference()
    tops = {}
    for j in range(len(CHAIN)):
        ref.advance_to(j)
        tops[CHAIN[j].final_id] = ref.top()
    return tops


TOPS = _reference_tops()


