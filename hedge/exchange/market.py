"""The market the local exchange plays: a looped real recording or a synthetic order flow.

Owns: the two sources of market events (``hedge.exchange.marketdata``: ``BookSnapshot``,
``BookDiff``, ``MarketTrade``, ``TopOfBook``) with their play time:
- ``RecordingTape`` reads hftbacktest-format recordings (``hedge.exchange.recording``) or Parquet
  tapes (``hedge.exchange.tape``), starts at the
  first REST snapshot, and loops forever. At the end of each pass it emits one synthetic diff that
  morphs the end book back into the start snapshot, then replays the pass again with every update
  id offset so the chain stays unbroken (first ``pu`` of the new pass == ``u`` of the morph diff)
  and trade ids keep increasing.
- ``SyntheticFlow`` generates a seeded random order flow for any symbol (random-walk mid, a
  20-level book, trades at the touch).

Must never: schedule, sleep or send; it only yields ``(play_time_ns, event)`` pairs.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import msgspec

from hedge.exchange.marketdata import BookDiff, BookSnapshot, Level, MarketTrade, PlayEvent, TopOfBook
from hedge.exchange.recording import FrameDecoder, bundled_recording, read_lines
from hedge.exchange.tape import is_tape, read_tape

__all__ = ["PlayEvent", "RecordingPass", "RecordingTape", "SyntheticFlow", "bundled_recording", "load_pass"]

log = logging.getLogger(__name__)

PASS_GAP_NS = 100_000_000  # pause between the end of a pass and the morph diff


class RecordingPass(msgspec.Struct, frozen=True):
    snapshot: BookSnapshot
    events: list[tuple[int, PlayEvent]]  # (ns since the snapshot, event)
    duration_ns: int
    first_prev_id: int  # pu of the first diff played
    last_id: int  # u of the last diff
    trade_id_span: int


@lru_cache(maxsize=4)
def load_pass(paths: tuple[str, ...]) -> RecordingPass:
    """One pass of a one-symbol recording, from its first REST snapshot, keeping only what follows it.

    The symbol is the snapshot's (from the snapshot body or the ``<symbol>_<date>`` file name).
    """
    snapshot: BookSnapshot | None = None
    t0 = 0
    decoded: list[tuple[int, PlayEvent]] = []
    for recv_ns, ev in _recorded(paths):
        if not isinstance(ev, BookSnapshot):
            decoded.append((recv_ns, ev))
        elif snapshot is None:
            if not ev.symbol:
                raise ValueError(f"{paths[0]}: cannot tell the symbol of the depth snapshot")
            snapshot, t0 = ev, recv_ns
    if snapshot is None:
        raise ValueError(f"no depth snapshot in {', '.join(paths)}")
    symbol = snapshot.symbol
    decoded = [(t, e) for t, e in decoded if e.symbol == symbol]
    events: list[tuple[int, PlayEvent]] = []
    for recv, ev in decoded:
        # Diffs buffered before the snapshot arrived still count when they reach past it.
        if isinstance(ev, BookDiff) and ev.final_id < snapshot.last_update_id:
            continue
        if isinstance(ev, TopOfBook) and ev.update_id < snapshot.last_update_id:
            continue
        if isinstance(ev, MarketTrade) and recv < t0:
            continue
        events.append((max(0, recv - t0), ev))
    diffs = [e for _, e in events if isinstance(e, BookDiff)]
    if not diffs or not diffs[0].first_id <= snapshot.last_update_id <= diffs[0].final_id:
        raise ValueError("recording: no diff after the snapshot straddles its lastUpdateId")
    trades = [e.trade_id for _, e in events if isinstance(e, MarketTrade)]
    span = (max(trades) - min(trades) + 1) if trades else 1
    duration = (events[-1][0] if events else 0) + PASS_GAP_NS
    return RecordingPass(snapshot, events, duration, diffs[0].prev_final_id, diffs[-1].final_id, span)


def _recorded(paths: tuple[str, ...]) -> Iterator[tuple[int, PlayEvent]]:
    """Every playable event of the recordings, in order, with its receive time."""
    decoder = FrameDecoder()
    for path in paths:
        if is_tape(path):
            yield from read_tape(path)
            continue
        for line in read_lines([path]):
            if line.is_snapshot:
                try:
                    yield line.recv_ns, decoder.snapshot(line.raw, line.symbol)
                except ValueError as exc:  # a snapshot the tape cannot use is skipped, as a bad frame is
                    log.warning("exchange: %s (skipped)", exc)
            elif (got := decoder.frame(line.raw)) is not None:
                yield line.recv_ns, got


def _morph(
    symbol: str, end: tuple[dict[float, float], dict[float, float]], start: BookSnapshot, prev_id: int
) -> BookDiff:
    """A diff turning the book ``end`` into the snapshot ``start`` (absolute quantities, 0 deletes)."""
    sb, sa = dict(start.bids), dict(start.asks)
    bids = [(p, 0.0) for p in end[0] if p not in sb] + list(start.bids)
    asks = [(p, 0.0) for p in end[1] if p not in sa] + list(start.asks)
    return BookDiff(
        symbol=symbol, first_id=prev_id + 1, final_id=prev_id + 1, prev_final_id=prev_id, bids=bids, asks=asks
    )


def _apply(side: dict[float, float], levels: list[Level]) -> None:
    for px, qty in levels:
        if qty > 0.0:
            side[px] = qty
        else:
            side.pop(px, None)


class RecordingTape:
    """Endless replay of one recording pass with consistent ids; play time in ns from the start."""

    def __init__(self, paths: Sequence[str | Path]) -> None:
        self.one = load_pass(tuple(str(p) for p in paths))
        self.symbol = self.one.snapshot.symbol

    def __iter__(self) -> Iterator[tuple[int, PlayEvent]]:
        p = self.one
        yield 0, p.snapshot
        offset, trade_offset, base = 0, 0, 0
        replace = msgspec.structs.replace
        while True:
            book = (dict(p.snapshot.bids), dict(p.snapshot.asks))
            for t, ev in p.events:
                if isinstance(ev, BookDiff):
                    _apply(book[0], ev.bids)
                    _apply(book[1], ev.asks)
                    if offset:
                        ev = replace(
                            ev,
                            first_id=ev.first_id + offset,
                            final_id=ev.final_id + offset,
                            prev_final_id=ev.prev_final_id + offset,
                        )
                elif offset and isinstance(ev, TopOfBook):
                    ev = replace(ev, update_id=ev.update_id + offset)
                elif trade_offset and isinstance(ev, MarketTrade):
                    ev = replace(ev, trade_id=ev.trade_id + trade_offset)
                yield base + t, ev
            base += p.duration_ns
            morph = _morph(self.symbol, book, p.snapshot, p.last_id + offset)
            yield base, morph
            offset = morph.final_id - p.first_prev_id
            trade_offset += p.trade_id_span


class SyntheticFlow:
    """Seeded random order flow: every ``step_ns`` a few levels change, sometimes a trade prints."""

    LEVELS = 20

    def __init__(self, symbol: str, tick: float, step_qty: float, *, seed: int = 0, step_ns: int = 50_000_000) -> None:
        self.symbol = symbol
        self.tick = tick
        self.step_qty = step_qty
        self.step_ns = step_ns
        self.rng = random.Random(f"{symbol}:{seed}")

    def _px(self, ticks: int) -> float:
        return round(ticks * self.tick, 10)

    def _qty(self) -> float:
        return round(self.rng.randint(1, 400) * self.step_qty, 10)

    def __iter__(self) -> Iterator[tuple[int, PlayEvent]]:
        rng, n = self.rng, self.LEVELS
        mid = int(rng.uniform(50, 5000) / self.tick)
        bids = {mid - i: self._qty() for i in range(1, n + 1)}
        asks = {mid + i: self._qty() for i in range(1, n + 1)}
        uid, tid, t = 1_000_000, 1, 0
        yield (
            0,
            BookSnapshot(
                symbol=self.symbol,
                last_update_id=uid,
                bids=[(self._px(k), q) for k, q in sorted(bids.items(), reverse=True)],
                asks=[(self._px(k), q) for k, q in sorted(asks.items())],
            ),
        )
        while True:
            t += self.step_ns
            mid += rng.choice((-1, 0, 0, 1))
            nb = {mid - i: bids.get(mid - i) or self._qty() for i in range(1, n + 1)}
            na = {mid + i: asks.get(mid + i) or self._qty() for i in range(1, n + 1)}
            for _ in range(3):
                nb[mid - rng.randint(1, n)] = self._qty()
                na[mid + rng.randint(1, n)] = self._qty()
            db = [(self._px(k), 0.0) for k in bids if k not in nb]
            db += [(self._px(k), q) for k, q in nb.items() if bids.get(k) != q]
            da = [(self._px(k), 0.0) for k in asks if k not in na]
            da += [(self._px(k), q) for k, q in na.items() if asks.get(k) != q]
            bids, asks = nb, na
            first = uid + 1
            uid += rng.randint(1, 50)
            yield (
                t,
                BookDiff(symbol=self.symbol, first_id=first, final_id=uid, prev_final_id=first - 1, bids=db, asks=da),
            )
            bb, ba = max(bids), min(asks)
            yield (
                t,
                TopOfBook(
                    symbol=self.symbol,
                    update_id=uid,
                    bid_px=self._px(bb),
                    bid_qty=bids[bb],
                    ask_px=self._px(ba),
                    ask_qty=asks[ba],
                ),
            )
            if rng.random() < 0.4:
                seller_takes = rng.random() < 0.5
                px = self._px(bb if seller_takes else ba)
                qty = round(rng.randint(1, 20) * self.step_qty, 10)
                yield t, MarketTrade(symbol=self.symbol, trade_id=tid, price=px, qty=qty, buyer_maker=seller_takes)
                tid += 1
