"""Depth streams of the local exchange: ``<s>@depth@0ms`` per diff, ``@100ms/@250ms/@500ms`` merged.

Owns: turning the market's depth diffs into Binance ``depthUpdate`` frames for every subscribed
update speed. ``@0ms`` gets each diff as it is played; the interval streams (``@depth`` = 250 ms)
get one frame per interval merging the diffs played in it: ``U`` of the first, ``u`` and the
latest quantity per level of the last, ``pu`` of the first — exactly what Binance sends, so the
``pu == previous u`` chain and the snapshot rule ``U <= lastUpdateId <= u`` hold on every stream.
Also owns the depth stream faults: a gap (the diff is never sent; pending merged frames are
flushed first so the next frame's ``pu`` shows the hole) and a duplicate (a frame sent twice).

Must never: change the market book (the matching engine owns it), or wait.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from hedge.exchange.faults import Faults
from hedge.exchange.marketdata import BookDiff, Level
from hedge.exchange.streams import Hub
from hedge.exchange.symbols import SymbolSpec

INTERVAL_STREAMS: tuple[tuple[str, int], ...] = (
    ("@depth@100ms", 100),
    ("@depth", 250),
    ("@depth@250ms", 250),
    ("@depth@500ms", 500),
)
FLUSH_EVERY_S = 0.025


class _Merged:
    __slots__ = ("asks", "bids", "due_ms", "final_id", "first_id", "prev_id", "symbol")

    def __init__(self, d: BookDiff, due_ms: int) -> None:
        self.symbol = d.symbol
        self.first_id, self.final_id, self.prev_id = d.first_id, d.final_id, d.prev_final_id
        self.bids: dict[float, float] = dict(d.bids)
        self.asks: dict[float, float] = dict(d.asks)
        self.due_ms = due_ms

    def add(self, d: BookDiff) -> None:
        self.final_id = d.final_id
        self.bids.update(d.bids)
        self.asks.update(d.asks)


class DepthStreams:
    def __init__(self, hub: Hub, specs: dict[str, SymbolSpec], faults: Faults, clock: Callable[[], int]) -> None:
        self.hub = hub
        self.specs = specs
        self.faults = faults
        self.clock = clock
        self._merged: dict[str, _Merged] = {}  # stream name -> frame being merged

    def _frame(self, symbol: str, first: int, final: int, prev: int, bids: list[Level], asks: list[Level]) -> bytes:
        spec = self.specs[symbol]
        fp, fq = spec.fmt_price, spec.fmt_qty
        now = self.clock()
        return orjson.dumps(
            {
                "e": "depthUpdate",
                "E": now,
                "T": now,
                "s": symbol,
                "U": first,
                "u": final,
                "pu": prev,
                "b": [(fp(p), fq(q)) for p, q in bids],
                "a": [(fp(p), fq(q)) for p, q in asks],
            }
        )

    def _send(self, name: str, data: bytes) -> None:
        for _ in range(2 if self.faults.fire("depth_dup") else 1):
            self.hub.publish(name, data)

    def on_diff(self, d: BookDiff) -> None:
        low = d.symbol.lower()
        listened = self.hub.has(low + "@depth@0ms") or any(
            self.hub.has(low + suffix) or (low + suffix) in self._merged for suffix, _ in INTERVAL_STREAMS
        )
        if not listened:
            return  # nobody listens: no frame to build, and no fault to spend
        if self.faults.fire("depth_gap"):
            self.flush(symbol=d.symbol)
            return
        name = low + "@depth@0ms"
        if self.hub.has(name):
            self._send(name, self._frame(d.symbol, d.first_id, d.final_id, d.prev_final_id, d.bids, d.asks))
        for suffix, interval in INTERVAL_STREAMS:
            name = low + suffix
            merged = self._merged.get(name)
            if merged is not None:
                merged.add(d)
            elif self.hub.has(name):
                self._merged[name] = _Merged(d, self.clock() + interval)

    def flush(self, *, due_only: bool = False, symbol: str | None = None) -> None:
        """Send merged frames: those whose interval ended (``due_only``), or all of ``symbol``'s."""
        now = self.clock()
        for name, m in list(self._merged.items()):
            if (due_only and m.due_ms > now) or (symbol is not None and m.symbol != symbol):
                continue
            del self._merged[name]
            if self.hub.has(name):
                self._send(
                    name,
                    self._frame(
                        m.symbol, m.first_id, m.final_id, m.prev_id, list(m.bids.items()), list(m.asks.items())
                    ),
                )
