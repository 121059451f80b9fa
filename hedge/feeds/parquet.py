"""Parquet recordings: hedge's typed columnar tape of market data, its schema, writer and reader.

Owns: the tape's schema — ONE table of events in receive order (the order a replay must keep
exactly), a ``kind`` column and typed nullable columns named after hedge's events, never the wire's:

- every row: ``recv_ns`` (local receive time), ``kind``, ``symbol``, ``ts_ms`` (exchange event
  time), ``transact_ms``;
- ``depth`` (a depth diff): ``first_id``/``final_id``/``prev_final_id`` (Binance U/u/pu) and
  ``bids``/``asks`` as ``list<struct<price: double, qty: double>>``;
- ``snapshot`` (a REST depth snapshot): ``update_id`` (its lastUpdateId), ``bids``/``asks``; an
  empty ``symbol`` when the recording did not name it (the replay places it by the update ids);
- ``trade``: ``trade_id``, ``price``, ``qty``, ``taker_side`` (BUY/SELL), ``aggregated``;
- ``book_ticker``: ``update_id``, ``bid_px``/``bid_qty``/``ask_px``/``ask_qty``;
- ``mark_price``: ``mark_price``, ``index_price``, ``funding_rate``, ``next_funding_ms``, ``settle_price``;
- ``frame`` / ``snapshot_body``: what the codec could not use (unknown types, control replies,
  malformed frames, error bodies), kept as its ``raw`` bytes so a replay counts it exactly as the
  gz source's replay does.

Prices and quantities are the floats the codec decoded (a float64 round-trips exactly), so a Parquet
replay publishes the same events as its source: the same fingerprint, without JSON decoding.
``TapeWriter`` is the writer (a ``Tap``: frames and snapshot bodies in, decoded by the feeds' own
codec); ``iter_parquet`` the reader (row groups -> hedge events, built per kind in bulk);
``probe_parquet`` the check that a file is one. Compression: snappy, else the
best codec this pyarrow has.

Reader design (measured, docs/recordings.md): the cost was building the engine's Python objects,
above all the (price, qty) tuples of the depth diffs, not reading the file. A depth row's sides are
now ``Levels`` views (hedge/feeds/levels.py) over the batch's flattened ``price``/``qty`` struct
children: zero copy, one object per side instead of a tuple and two floats per level, read by the
compiled book with C loops; ``list<struct<price, qty>>`` is kept as the layout since it is exactly
those two float64 buffers (other layouts measured no cheaper to decode), so older tapes read as
they are. The rest of a batch is built kind by kind from whole columns (C-level conversions) with
the GC paused, and handed out by a C iterator. ``iter_tapes`` (``iter_recording`` over tapes only)
checks receive times a batch at a time with numpy, by ``in_time_order``'s rule, instead of a
generator frame per record. When nobody needs the BookTickers (``tickers=False``, which
``ReplaySource`` asks for when the bus has no real subscriber), a bookTicker row (~3/4 of them) is
a ``TickerStamp`` from three columns, and the four BookTicker-only columns are not even decoded.
Measured (``scripts/bench_parquet.py``): the bundled tapes read to events in ~45 ms CPU (Arrow's
decoding ~18 of it), against ~115 ms with level tuples; a full replay ~2x the gz replay.

Must never: change a price, a quantity, an id or the order of rows; hold a partial file under a
final name (``write`` goes through a temporary file and an atomic rename).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from hedge.events import BookTicker, DepthDiff, DepthSnapshot, Level, MarkPrice, Side, Trade
from hedge.feeds.codec import Codec, CodecError, MarketEvent
from hedge.feeds.levels import Levels
from hedge.feeds.recording import (
    TIME_LOOKAHEAD,
    TIME_SLACK_NS,
    ReadStats,
    Record,
    RecordedLine,
    in_time_order,
    iter_recording,
    out_of_order,
    time_confirmed,
)
from hedge.feeds.seen import TickerStamp

BATCH_ROWS = 65_536  # rows decoded at a time on replay
ROW_GROUP_ROWS = 131_072  # rows per row group in a converted file

_LEVELS = pa.list_(pa.struct([("price", pa.float64()), ("qty", pa.float64())]))
SCHEMA = pa.schema([
    ("recv_ns", pa.int64()), ("kind", pa.string()), ("symbol", pa.string()),
    ("ts_ms", pa.int64()), ("transact_ms", pa.int64()),
    ("first_id", pa.int64()), ("final_id", pa.int64()), ("prev_final_id", pa.int64()), ("update_id", pa.int64()),
    ("bids", _LEVELS), ("asks", _LEVELS),
    ("trade_id", pa.int64()), ("price", pa.float64()), ("qty", pa.float64()),
    ("taker_side", pa.string()), ("aggregated", pa.bool_()),
    ("bid_px", pa.float64()), ("bid_qty", pa.float64()), ("ask_px", pa.float64()), ("ask_qty", pa.float64()),
    ("mark_price", pa.float64()), ("index_price", pa.float64()), ("funding_rate", pa.float64()),
    ("next_funding_ms", pa.int64()), ("settle_price", pa.float64()),
    ("raw", pa.binary()),
])
_SCALARS = [f.name for f in SCHEMA if f.name not in ("bids", "asks")]


def best_codec() -> str:
    """snappy, else the best compression codec this pyarrow build has."""
    return next((c for c in ("snappy", "zstd", "lz4", "gzip") if pa.Codec.is_available(c)), "none")


def probe_parquet(path: Path) -> str:
    """Why ``path`` is not a readable tape ("" when it is): its footer and schema."""
    try:
        names = set(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as exc:
        return f"not a readable Parquet file: {exc}"
    missing = sorted({"recv_ns", "kind"} - names)
    return f"a Parquet file, but not a hedge tape (no {', '.join(missing)} column)" if missing else ""


# --------------------------------------------------------------------------- writer


class TapeWriter:
    """Rows of the tape, added in receive order (``write_frame``/``write_snapshot``: the recorder's
    ``Tap``; ``add``: an already decoded event); ``take()`` hands the rows so far over as a table."""

    def __init__(self) -> None:
        self.codec = Codec()
        self.rows = 0  # rows added
        self.pending = 0  # rows not yet taken
        self.frames = 0
        self.snapshots = 0
        self._reset()

    def _reset(self) -> None:
        self._cols: dict[str, list[Any]] = {name: [] for name in _SCALARS}
        self._levels: dict[str, tuple[list[int], list[float], list[float], list[bool]]] = {
            side: ([0], [], [], []) for side in ("bids", "asks")
        }

    def _row(self, recv_ns: int, kind: str, symbol: str, vals: dict[str, Any],
             bids: Sequence[Level] | None = None, asks: Sequence[Level] | None = None) -> None:
        vals["recv_ns"], vals["kind"], vals["symbol"] = recv_ns, kind, symbol
        for name, col in self._cols.items():
            col.append(vals.get(name))
        for side, levels in (("bids", bids), ("asks", asks)):
            offsets, px, qty, valid = self._levels[side]
            if levels is not None:
                for p, q in levels:
                    px.append(p)
                    qty.append(q)
            offsets.append(len(px))
            valid.append(levels is not None)
        self.rows += 1
        self.pending += 1

    def put(self, rec: Record) -> None:
        """A replay record (what ``iter_recording`` yields, with its tickers) as a row."""
        if isinstance(rec, TickerStamp):
            raise TypeError("a TickerStamp holds too little for a tape row: read with tickers=True")
        if not isinstance(rec, RecordedLine):
            self.add(rec)
        elif rec.is_snapshot:
            self.write_snapshot(rec.recv_ns, rec.symbol, rec.raw)
        else:
            self.write_frame(rec.recv_ns, rec.raw)

    def write_frame(self, recv_ns: int, raw: bytes | str) -> None:
        data = raw.encode() if isinstance(raw, str) else raw
        self.frames += 1
        ev = self.codec.decode(data, recv_ns)
        if ev is None:
            self._row(recv_ns, "frame", "", {"raw": data})
        else:
            self.add(ev)

    def write_snapshot(self, recv_ns: int, symbol: str, raw: bytes | str) -> None:
        data = raw.encode() if isinstance(raw, str) else raw
        self.snapshots += 1
        try:
            snap = self.codec.decode_snapshot(data, symbol, recv_ns)
        except CodecError:
            self._row(recv_ns, "snapshot_body", symbol, {"raw": data})
            return
        self.add(snap)

    def add(self, ev: MarketEvent | DepthSnapshot) -> None:
        """One decoded event as a row."""
        base = {"ts_ms": ev.ts_ms}
        if type(ev) is BookTicker:
            self._row(ev.recv_ns, "book_ticker", ev.symbol, {
                **base, "transact_ms": ev.transact_ms, "update_id": ev.update_id, "bid_px": ev.bid_px,
                "bid_qty": ev.bid_qty, "ask_px": ev.ask_px, "ask_qty": ev.ask_qty})
        elif type(ev) is DepthDiff:
            self._row(ev.recv_ns, "depth", ev.symbol, {
                **base, "transact_ms": ev.transact_ms, "first_id": ev.first_id, "final_id": ev.final_id,
                "prev_final_id": ev.prev_final_id}, ev.bids, ev.asks)
        elif type(ev) is Trade:
            self._row(ev.recv_ns, "trade", ev.symbol, {
                **base, "transact_ms": ev.trade_ms, "trade_id": ev.trade_id, "price": ev.price, "qty": ev.qty,
                "taker_side": ev.taker_side.value, "aggregated": ev.aggregated})
        elif type(ev) is MarkPrice:
            self._row(ev.recv_ns, "mark_price", ev.symbol, {
                **base, "mark_price": ev.mark_price, "index_price": ev.index_price, "funding_rate": ev.funding_rate,
                "next_funding_ms": ev.next_funding_ms, "settle_price": ev.settle_price})
        else:
            assert type(ev) is DepthSnapshot
            self._row(ev.recv_ns, "snapshot", ev.symbol, {
                **base, "transact_ms": ev.transact_ms, "update_id": ev.last_update_id}, ev.bids, ev.asks)

    def take(self) -> pa.Table:
        """The rows added since the last ``take`` as one table (and forget them)."""
        arrays = [pa.array(self._cols[f.name], f.type) if f.name in self._cols else self._level_array(f.name)
                  for f in SCHEMA]
        self._reset()
        self.pending = 0
        return pa.Table.from_arrays(arrays, schema=SCHEMA)

    def _level_array(self, side: str) -> pa.Array:
        offsets, px, qty, valid = self._levels[side]
        values = pa.StructArray.from_arrays([pa.array(px, pa.float64()), pa.array(qty, pa.float64())],
                                            names=["price", "qty"])
        mask = pa.array([not v for v in valid], pa.bool_())
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, type=_LEVELS, mask=mask)


@contextlib.contextmanager
def _atomic(path: Path, fsync: bool) -> Iterator[pq.ParquetWriter]:
    """A ParquetWriter on a temporary file renamed to ``path`` once complete (and, with ``fsync``,
    on disk): a reader or a crash never sees a partial file under the final name."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with pq.ParquetWriter(tmp, SCHEMA, compression=best_codec()) as w:
            yield w
        if fsync:
            _fsync(tmp)
        os.replace(tmp, path)
        if fsync:
            _fsync(path.parent)  # the rename itself: without it a crash may bring back the older file
    finally:
        tmp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write(path: str | Path, tables: list[pa.Table], *, fsync: bool = False) -> Path:
    """Write ``tables`` (a row group each, more when one is large) as the tape ``path``, atomically."""
    out = Path(path)
    with _atomic(out, fsync) as w:
        for t in tables:
            if t.num_rows:
                w.write_table(t, row_group_size=ROW_GROUP_ROWS)
    return out


def convert(src: str | Path, out: str | Path, stats: ReadStats | None = None) -> TapeWriter:
    """Any recording hedge reads (hftbacktest gz, a cryptofeed ``.ws`` file or directory, a tape)
    as the tape ``out``, streamed a row group at a time; returns the writer (its counters)."""
    st = stats if stats is not None else ReadStats()
    w = TapeWriter()
    with _atomic(Path(out), False) as pw:
        for rec in iter_recording([src], st):
            w.put(rec)
            if w.pending >= ROW_GROUP_ROWS:
                pw.write_table(w.take())
        pw.write_table(w.take())
    return w


# --------------------------------------------------------------------------- reader

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
Builder = Callable[["_Rows"], list[Record]]


def iter_parquet(path: str | Path, st: ReadStats, *, tickers: bool = True) -> Iterator[Record]:
    """A tape's rows as replay records, in file order: hedge events (snapshots included) and, for
    the rows the codec could not use, their raw lines. Each batch is built kind by kind (a column
    taken at once, C-level conversions), then put back in row order; the records of a batch are
    handed out by a C iterator (``chain.from_iterable``), not a Python generator: one generator
    frame less to resume per record. ``tickers`` False (nobody subscribes to BookTicker): a
    bookTicker row is a ``TickerStamp``, three columns read instead of nine."""
    return chain.from_iterable(recs for recs, _ in _batches(path, st, tickers))


def iter_tapes(paths: list[Path], st: ReadStats, *, tickers: bool = True) -> Iterator[Record]:
    """Tapes one after the other, as ``iter_recording`` gives them: without the rows whose receive
    time is corrupt, by ``in_time_order``'s rule, applied a batch at a time: the rows within
    ``TIME_SLACK_NS`` of the stream's time (the running maximum; nearly all) pass as a whole slice,
    found by numpy, with no Python frame per record; a row outside it is judged as
    ``in_time_order`` judges it (``time_confirmed`` on the next ``TIME_LOOKAHEAD`` rows). Near a
    batch's end, where those rows are in the next batch, the rest goes through ``in_time_order``."""
    batches = (b for p in paths for b in _batches(p, st, tickers))
    return chain.from_iterable(_checked(batches, st))


def _checked(batches: Iterator[tuple[list[Record], Any]], st: ReadStats) -> Iterator[Iterable[Record]]:
    last = -1  # the stream's time, as in_time_order keeps it
    for recs, recv in batches:
        if len(recs) != len(recv):  # rows dropped (unknown kinds): no row-aligned times
            break
        i, n, taken = 0, len(recs), 0  # taken: rows up to here handed out or dropped
        while True:
            i, last = _plain_until(recv, i, last)
            if i == n:
                break
            if n - i - 1 < TIME_LOOKAHEAD:  # the rows that judge this one are in the next batch
                yield recs[taken:i]
                yield in_time_order(chain(recs[i:], chain.from_iterable(r for r, _ in batches)), st, last=last)
                return
            t = int(recv[i])
            if time_confirmed(t, last, recs[i + 1 : i + 1 + TIME_LOOKAHEAD]):
                last = t
            else:
                yield recs[taken:i]
                taken = i + 1
                out_of_order(recs[i], st)
            i += 1
        yield recs if not taken else recs[taken:]
    else:
        return
    yield in_time_order(chain(recs, chain.from_iterable(r for r, _ in batches)), st, last=last)


def _plain_until(recv: np.ndarray[Any, Any], i: int, last: int) -> tuple[int, int]:
    """The first row from ``i`` on whose time is not within ``TIME_SLACK_NS`` of the stream's (the
    running maximum, starting at ``last``; -1: none yet, so row ``i`` is judged), and that time."""
    if last < 0 or i == len(recv):
        return i, last
    seg = recv[i:]
    running = np.maximum.accumulate(np.concatenate(([last], seg)))
    prev = running[:-1]
    off = np.flatnonzero((seg < prev - TIME_SLACK_NS) | (seg > prev + TIME_SLACK_NS))
    j = int(off[0]) if off.size else len(seg)
    return i + j, int(running[j])


def _batches(path: Path | str, st: ReadStats, tickers: bool) -> Iterator[tuple[list[Record], Any]]:
    """Each batch's records in row order, with the batch's receive times (numpy int64)."""
    pf = pq.ParquetFile(path, read_dictionary=["kind", "symbol"])
    builders = _BUILDERS if tickers else _LEAN_BUILDERS
    columns = None if tickers else _LEAN_COLUMNS
    for b in pf.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        yield _batch(b, st, builders), _values(b.column("recv_ns"))


def _batch(batch: pa.RecordBatch, st: ReadStats, builders: dict[str, Builder]) -> list[Record]:
    st.lines += batch.num_rows
    with _no_gc():
        return _build(batch, st, builders)


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic GC paused while a batch's events are built: hundreds of thousands of level tuples,
    none in a cycle, would otherwise trigger collection after collection (measured: up to 2x)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _build(batch: pa.RecordBatch, st: ReadStats, builders: dict[str, Builder]) -> list[Record]:
    """The records of ``batch`` in row order: each kind's built at once, then interleaved back."""
    kinds: pa.DictionaryArray = batch.column("kind")
    codes = _values(kinds.indices)
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


def _values(arr: pa.Array) -> np.ndarray[Any, Any]:
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
            return words[_values(arr.indices)[self.rows]].tolist()  # type: ignore[no-any-return]
        if pa.types.is_boolean(arr.type):
            return np.asarray(arr.to_numpy(zero_copy_only=False))[self.rows].tolist()  # type: ignore[no-any-return]
        if pa.types.is_primitive(arr.type):
            return _values(arr)[self.rows].tolist()  # type: ignore[no-any-return]
        return arr.take(pa.array(self.rows)).to_pylist()  # type: ignore[no-any-return]  # strings, bytes

    def levels(self, name: str) -> list[Levels]:
        """Each row's levels as a ``Levels`` view over the batch's flattened price and quantity
        columns (the list column's struct children, zero copy): no Python object per level; the
        compiled book reads the doubles where Arrow decoded them."""
        arr: pa.ListArray = self.batch.column(name)
        offsets = _values(arr.offsets)
        values = arr.values
        return Levels.split(_values(values.field("price")), _values(values.field("qty")),
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
# what the lean builders read: a BookTicker's own columns are not even decoded
_LEAN_COLUMNS = [n for n in SCHEMA.names if n not in ("bid_px", "bid_qty", "ask_px", "ask_qty")]
