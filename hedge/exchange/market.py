"""The market the local exchange plays: a looped real recording or a synthetic order flow.

Owns: the market events (depth diff, trade, best bid/offer) in Binance's id spaces, and the two
sources that produce them with their play time:
- ``RecordingTape`` loads hftbacktest-format recordings (``<recv_ns> <json>`` gzip lines: combined
  stream frames and one REST depth snapshot), starts at the snapshot, and loops forever. At the end
  of each pass it emits one synthetic diff that morphs the end book back into the start snapshot,
  then replays the pass again with every update id offset so the chain stays unbroken
  (first ``pu`` of the new pass == ``u`` of the morph diff) and trade ids keep increasing.
- ``SyntheticFlow`` generates a seeded random order flow for any symbol (random-walk mid, a
  20-level book, trades at the touch).

Must never: schedule, sleep or send; it only yields ``(play_time_ns, event)`` pairs.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import msgspec
import orjson

Level = tuple[str, str]


class Depth(msgspec.Struct, frozen=True):
    symbol: str
    first_id: int  # U
    last_id: int  # u
    prev_id: int  # pu
    bids: list[Level]
    asks: list[Level]


class Trade(msgspec.Struct, frozen=True):
    symbol: str
    trade_id: int
    price: str
    qty: str
    buyer_is_maker: bool


class Ticker(msgspec.Struct, frozen=True):
    symbol: str
    update_id: int
    bid: str
    bid_qty: str
    ask: str
    ask_qty: str


class Snapshot(msgspec.Struct, frozen=True):
    symbol: str
    last_id: int
    bids: list[Level]
    asks: list[Level]


MarketEvent = Depth | Trade | Ticker | Snapshot


def bundled_recording() -> list[Path]:
    base = resources.files("hedge").joinpath("data", "binance-usdm", "hftbacktest")
    return [Path(str(base.joinpath(n))) for n in ("btcusdt_20240718.gz", "btcusdt_20240719.gz")]


class _Pass(msgspec.Struct, frozen=True):
    snapshot: Snapshot
    events: list[tuple[int, MarketEvent]]  # (ns since the snapshot, event)
    duration_ns: int
    first_prev_id: int
    last_id: int
    trade_id_span: int


def _levels(raw: list[list[str]]) -> list[Level]:
    return [(p, q) for p, q in raw]


def _parse_line(line: bytes, symbol_hint: str) -> tuple[int, MarketEvent] | None:
    ts, _, body = line.partition(b" ")
    if not body.strip():
        return None
    msg = orjson.loads(body)
    recv = int(ts)
    if "lastUpdateId" in msg:
        return recv, Snapshot(symbol_hint, int(msg["lastUpdateId"]), _levels(msg["bids"]), _levels(msg["asks"]))
    data = msg.get("data", msg)
    kind = data.get("e")
    if kind == "depthUpdate":
        return recv, Depth(data["s"], data["U"], data["u"], data["pu"], _levels(data["b"]), _levels(data["a"]))
    if kind == "trade":
        return recv, Trade(data["s"], data["t"], data["p"], data["q"], bool(data["m"]))
    if kind == "aggTrade":
        return recv, Trade(data["s"], data["a"], data["p"], data["q"], bool(data["m"]))
    if kind == "bookTicker":
        return recv, Ticker(data["s"], data["u"], data["b"], data["B"], data["a"], data["A"])
    return None


@lru_cache(maxsize=4)
def load_pass(paths: tuple[str, ...], symbol: str = "BTCUSDT") -> _Pass:
    """One pass of a recording, from its first REST snapshot, keeping only what follows it."""
    snapshot: Snapshot | None = None
    t0 = 0
    everything: list[tuple[int, MarketEvent]] = []
    for path in paths:
        with gzip.open(path, "rb") as fh:
            for line in fh:
                parsed = _parse_line(line, symbol)
                if parsed is None:
                    continue
                if isinstance(parsed[1], Snapshot):
                    if snapshot is None:
                        snapshot, t0 = parsed[1], parsed[0]
                    continue
                everything.append(parsed)
    events: list[tuple[int, MarketEvent]] = []
    for recv, ev in everything:
        if snapshot is None:
            break
        # Diffs buffered before the snapshot arrived still count when they reach past it.
        if isinstance(ev, Depth) and ev.last_id < snapshot.last_id:
            continue
        if isinstance(ev, Ticker) and ev.update_id < snapshot.last_id:
            continue
        if isinstance(ev, Trade) and recv < t0:
            continue
        events.append((max(0, recv - t0), ev))
    if snapshot is None:
        raise ValueError(f"no depth snapshot in {', '.join(paths)}")
    depths = [e for _, e in events if isinstance(e, Depth)]
    if not depths or not depths[0].first_id <= snapshot.last_id <= depths[0].last_id:
        raise ValueError("recording: the first diff after the snapshot does not straddle its lastUpdateId")
    trades = [e.trade_id for _, e in events if isinstance(e, Trade)]
    span = (max(trades) - min(trades) + 1) if trades else 1
    duration = (events[-1][0] if events else 0) + 100_000_000
    return _Pass(snapshot, events, duration, depths[0].prev_id, depths[-1].last_id, span)


def _morph(symbol: str, end: dict[str, dict[str, str]], start: Snapshot, prev_id: int) -> Depth:
    """A diff turning the book ``end`` into the snapshot ``start`` (absolute quantities, 0 deletes)."""
    sb, sa = dict(start.bids), dict(start.asks)
    bids = [(p, "0") for p in end["b"] if p not in sb] + list(start.bids)
    asks = [(p, "0") for p in end["a"] if p not in sa] + list(start.asks)
    return Depth(symbol, prev_id + 1, prev_id + 1, prev_id, bids, asks)


class RecordingTape:
    """Endless replay of one recording pass with consistent ids; play time in ns from the start."""

    def __init__(self, paths: Sequence[str | Path], symbol: str = "BTCUSDT") -> None:
        self.one = load_pass(tuple(str(p) for p in paths), symbol)
        self.symbol = symbol

    def __iter__(self) -> Iterator[tuple[int, MarketEvent]]:
        p = self.one
        yield 0, p.snapshot
        offset, trade_offset, base = 0, 0, 0
        book: dict[str, dict[str, str]] = {"b": dict(p.snapshot.bids), "a": dict(p.snapshot.asks)}
        while True:
            for t, ev in p.events:
                if isinstance(ev, Depth):
                    ev = Depth(
                        ev.symbol, ev.first_id + offset, ev.last_id + offset, ev.prev_id + offset, ev.bids, ev.asks
                    )
                    for side, levels in (("b", ev.bids), ("a", ev.asks)):
                        for px, qty in levels:
                            if float(qty) == 0.0:
                                book[side].pop(px, None)
                            else:
                                book[side][px] = qty
                elif isinstance(ev, Ticker):
                    ev = Ticker(ev.symbol, ev.update_id + offset, ev.bid, ev.bid_qty, ev.ask, ev.ask_qty)
                elif isinstance(ev, Trade):
                    ev = Trade(ev.symbol, ev.trade_id + trade_offset, ev.price, ev.qty, ev.buyer_is_maker)
                yield base + t, ev
            base += p.duration_ns
            morph = _morph(self.symbol, book, p.snapshot, p.last_id + offset)
            book = {"b": dict(p.snapshot.bids), "a": dict(p.snapshot.asks)}
            yield base, morph
            offset = morph.last_id - p.first_prev_id
            trade_offset += p.trade_id_span


class SyntheticFlow:
    """Seeded random order flow: every ``step_ns`` a few levels change, sometimes a trade prints."""

    def __init__(self, symbol: str, tick: float, step_qty: float, *, seed: int = 0, step_ns: int = 50_000_000) -> None:
        self.symbol = symbol
        self.tick = tick
        self.step_qty = step_qty
        self.step_ns = step_ns
        self.rng = random.Random(f"{symbol}:{seed}")
        self.decimals = max(0, len(f"{tick:.10f}".rstrip("0").split(".")[1]))
        self.qdec = max(0, len(f"{step_qty:.10f}".rstrip("0").split(".")[1]))

    def _px(self, ticks: int) -> str:
        return f"{ticks * self.tick:.{self.decimals}f}"

    def _qty(self) -> str:
        return f"{self.rng.randint(1, 400) * self.step_qty:.{self.qdec}f}"

    def __iter__(self) -> Iterator[tuple[int, MarketEvent]]:
        rng = self.rng
        mid = int(rng.uniform(50, 5000) / self.tick)
        levels = 20
        bids = {mid - i: self._qty() for i in range(1, levels + 1)}
        asks = {mid + i: self._qty() for i in range(1, levels + 1)}
        uid, tid, t = 1_000_000, 1, 0
        yield (
            0,
            Snapshot(
                self.symbol,
                uid,
                [(self._px(k), q) for k, q in sorted(bids.items(), reverse=True)],
                [(self._px(k), q) for k, q in sorted(asks.items())],
            ),
        )
        while True:
            t += self.step_ns
            step = rng.choice((-1, 0, 0, 1))
            mid += step
            nb = {mid - i: bids.get(mid - i) or self._qty() for i in range(1, levels + 1)}
            na = {mid + i: asks.get(mid + i) or self._qty() for i in range(1, levels + 1)}
            for _ in range(3):
                k = mid - rng.randint(1, levels)
                nb[k] = self._qty()
                k = mid + rng.randint(1, levels)
                na[k] = self._qty()
            db = [(self._px(k), "0") for k in bids if k not in nb] + [
                (self._px(k), q) for k, q in nb.items() if bids.get(k) != q
            ]
            da = [(self._px(k), "0") for k in asks if k not in na] + [
                (self._px(k), q) for k, q in na.items() if asks.get(k) != q
            ]
            bids, asks = nb, na
            first = uid + 1
            uid += rng.randint(1, 50)
            yield t, Depth(self.symbol, first, uid, first - 1, db, da)
            bb, ba = max(bids), min(asks)
            yield t, Ticker(self.symbol, uid, self._px(bb), bids[bb], self._px(ba), asks[ba])
            if rng.random() < 0.4:
                buyer_maker = rng.random() < 0.5
                px = self._px(bb if buyer_maker else ba)
                yield t, Trade(self.symbol, tid, px, f"{rng.randint(1, 20) * self.step_qty:.{self.qdec}f}", buyer_maker)
                tid += 1
