"""A Parquet tape's batch of rows -> hedge's replay records, in row order (the reader's inner loop).

Owns: ``build`` — one decoded Arrow ``RecordBatch`` of a tape (hedge/feeds/parquet.py owns the schema,
the file and the batching) into the events its rows stand for, in row order; ``values`` — a
fixed-width Arrow array as a numpy view.

Design: this ``.py`` is plain Python and the reference (``HEDGE_PURE=1``): each kind's rows are
built at once from whole columns (numpy fancy indexing and ``tolist``, the ``symbol`` dictionary
picked by index in C), then put back in row order by one ``argsort``. The compiled build (setup.py
HOT_MODULES) compiles ``taperows.pyx`` instead: ONE C loop over the rows in order, reading the
columns' C buffers, making each field's Python int/float only for the row that uses it and calling
the event types through vectorcall — no per-kind lists, no interleaving, no numpy temporaries.
Both give equal records (tests/unit/feeds/test_parquet_tape.py, hypothesis).

Must never: change a value, an id or the order of rows, or build an event from a column that does
not apply to its row's kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

from hedge.events import BookTicker, DepthDiff, DepthSnapshot, MarkPrice, Side, Trade
from hedge.feeds.levels import Levels
from hedge.feeds.recording import ReadStats, Record, RecordedLine
from hedge.feeds.seen import TickerStamp

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
Builder = Callable[["_Rows"], list[Record]]


def build(batch: pa.RecordBatch, st: ReadStats, tickers: bool) -> list[Record]:
    """The records of ``batch`` in row order (see the module docstring); ``tickers`` False: a
    bookTicker row is a ``TickerStamp``. A row of an unknown kind is dropped, counted in ``st``."""
    builders = _BUILDERS if tickers else _LEAN_BUILDERS
    kinds: pa.DictionaryArray = batch.column("kind")
    codes = values(kinds.indices)
    built: list[Record] = []
    where: list[np.ndarray[Any, Any]] = []
    for code, kind in enumerate(kinds.dictionary.to_pylist()):
        rows = (codes == code).nonzero()[0]
        if not rows.size:
            continue
        build = builders.get(kind)
        if build is None:
            st.lines -= rows.size
            for _ in range(rows.size):
                st.bad("unknown_tape_kind", str(kind).encode())
            continue
        built += build(_Rows(batch, rows))
        where.append(rows)
    if len(where) < 2:  # one kind: already in row order
        return built
    # the built records sorted by the row each came from (C-level: argsort, then map)
    return list(map(built.__getitem__, np.argsort(np.concatenate(where), kind="stable").tolist()))


def values(arr: pa.Array) -> np.ndarray[Any, Any]:
    """A fixed-width array's values as numpy, without a copy (a null's slot holds what was written: 0)."""
    dtype = arr.type.to_pandas_dtype()
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=arr.offset + len(arr))[arr.offset :]


class _Rows:
    """The rows of one kind in a batch: their columns as Python lists."""

    def __init__(self, batch: pa.RecordBatch, rows: np.ndarray[Any, Any]) -> None:
        self.batch = batch
        self.rows = rows

    def col(self, name: str) -> list[Any]:
        arr = self.batch.column(name)
        if isinstance(arr, pa.DictionaryArray):  # symbols: the few distinct strings, picked in C
            words = np.array(arr.dictionary.to_pylist() or [None], dtype=object)
            return words[values(arr.indices)[self.rows]].tolist()  # type: ignore[no-any-return]
        if pa.types.is_boolean(arr.type):
            return np.asarray(arr.to_numpy(zero_copy_only=False))[self.rows].tolist()  # type: ignore[no-any-return]
        if pa.types.is_primitive(arr.type):
            return values(arr)[self.rows].tolist()  # type: ignore[no-any-return]
        return arr.take(pa.array(self.rows)).to_pylist()  # type: ignore[no-any-return]  # strings, bytes

    def levels(self, name: str) -> list[Levels]:
        """Each row's levels as a ``Levels`` view over the batch's flattened price and quantity
        columns (the list column's struct children, zero copy): no Python object per level; the
        compiled book reads the doubles where Arrow decoded them."""
        arr: pa.ListArray = self.batch.column(name)
        offsets = values(arr.offsets)
        flat = arr.values
        return Levels.split(values(flat.field("price")), values(flat.field("qty")),
                            offsets[self.rows].tolist(), offsets[self.rows + 1].tolist())


def _depth(b: _Rows) -> list[Record]:
    cols = (b.col(n) for n in ("recv_ns", "symbol", "ts_ms", "transact_ms", "first_id", "final_id", "prev_final_id"))
    return [DepthDiff(recv_ns=r, symbol=s, ts_ms=t, transact_ms=tt, first_id=fi, final_id=u, prev_final_id=pu,
                      bids=bi, asks=a)
            for r, s, t, tt, fi, u, pu, bi, a in zip(*cols, b.levels("bids"), b.levels("asks"), strict=True)]


def _snapshot(b: _Rows) -> list[Record]:
    cols = (b.col(n) for n in ("recv_ns", "symbol", "ts_ms", "transact_ms", "update_id"))
    return [DepthSnapshot(recv_ns=r, symbol=s, ts_ms=t, transact_ms=tt, last_update_id=u, bids=bi, asks=a)
            for r, s, t, tt, u, bi, a in zip(*cols, b.levels("bids"), b.levels("asks"), strict=True)]


def _trade(b: _Rows) -> list[Record]:
    names = ("recv_ns", "symbol", "ts_ms", "transact_ms", "trade_id", "price", "qty", "taker_side", "aggregated")
    sides = _SIDES
    return [Trade(recv_ns=r, symbol=s, ts_ms=t, trade_ms=tt, trade_id=i, price=p, qty=q, taker_side=sides[sd],
                  aggregated=ag)
            for r, s, t, tt, i, p, q, sd, ag in zip(*(b.col(n) for n in names), strict=True)]


def _ticker(b: _Rows) -> list[Record]:
    names = ("recv_ns", "symbol", "ts_ms", "transact_ms", "update_id", "bid_px", "bid_qty", "ask_px", "ask_qty")
    return [BookTicker(recv_ns=r, symbol=s, ts_ms=t, transact_ms=tt, update_id=u, bid_px=bp, bid_qty=bq,
                       ask_px=ap, ask_qty=aq)
            for r, s, t, tt, u, bp, bq, ap, aq in zip(*(b.col(n) for n in names), strict=True)]


def _stamp(b: _Rows) -> list[Record]:
    return [TickerStamp(r, s, t) for r, s, t in zip(b.col("recv_ns"), b.col("symbol"), b.col("ts_ms"), strict=True)]


def _mark(b: _Rows) -> list[Record]:
    names = ("recv_ns", "symbol", "ts_ms", "mark_price", "index_price", "funding_rate", "next_funding_ms",
             "settle_price")
    return [MarkPrice(recv_ns=r, symbol=s, ts_ms=t, mark_price=m, index_price=i, funding_rate=f, next_funding_ms=nf,
                      settle_price=sp)
            for r, s, t, m, i, f, nf, sp in zip(*(b.col(n) for n in names), strict=True)]


def _raw(snapshot: bool) -> Builder:
    def build(b: _Rows) -> list[Record]:
        return [RecordedLine(r, raw, snapshot, s)
                for r, raw, s in zip(b.col("recv_ns"), b.col("raw"), b.col("symbol"), strict=True)]
    return build




_BUILDERS: dict[str, Builder] = {
    "depth": _depth, "snapshot": _snapshot, "trade": _trade, "book_ticker": _ticker, "mark_price": _mark,
    "frame": _raw(False), "snapshot_body": _raw(True),
}
_LEAN_BUILDERS: dict[str, Builder] = {**_BUILDERS, "book_ticker": _stamp}
