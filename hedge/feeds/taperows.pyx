# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""A Parquet tape's batch of rows -> hedge's replay records, compiled: one C loop over the rows in order.

Owns: the compiled twin of hedge/feeds/taperows.py (same names, same contract: read that module's
docstring). ``build`` reads each column's C buffer (a numpy view of Arrow's values, no copy for the
int64/float64 columns), walks the rows once in order and, per row, makes only the Python ints and
floats its kind's event holds, calling the event type through vectorcall with a constant tuple of
keyword names (no keyword dict per event); depth sides are the reference's ``Levels`` views.

Must never: change a value, an id or the order of rows, or build an event from a column that does
not apply to its row's kind.
"""

from cpython.object cimport PyObject
from cpython.long cimport PyLong_FromLongLong
from cpython.float cimport PyFloat_FromDouble
from libc.stdint cimport int64_t, int32_t, uint8_t

import numpy as np
import pyarrow as pa

from hedge.events import BookTicker, DepthDiff, DepthSnapshot, MarkPrice, Side, Trade
from hedge.feeds.levels import Levels
from hedge.feeds.recording import RecordedLine
from hedge.feeds.seen import TickerStamp

cdef extern from "Python.h":
    object PyObject_Vectorcall(object callable, PyObject** args, size_t nargsf, PyObject* kwnames)

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}

cdef enum:  # kinds, as the loop knows them
    K_DEPTH, K_SNAPSHOT, K_TRADE, K_TICKER, K_MARK, K_FRAME, K_BODY
_KINDS = {"depth": K_DEPTH, "snapshot": K_SNAPSHOT, "trade": K_TRADE, "book_ticker": K_TICKER,
          "mark_price": K_MARK, "frame": K_FRAME, "snapshot_body": K_BODY}

# the columns each kind's rows are built from (the reference's builders read them by name: a tape
# without one raises KeyError there, so it must here too, never read as zeros or a NULL buffer)
_NEEDS = {
    K_DEPTH: ("recv_ns", "symbol", "ts_ms", "transact_ms", "first_id", "final_id", "prev_final_id", "bids", "asks"),
    K_SNAPSHOT: ("recv_ns", "symbol", "ts_ms", "transact_ms", "update_id", "bids", "asks"),
    K_TRADE: ("recv_ns", "symbol", "ts_ms", "transact_ms", "trade_id", "price", "qty", "taker_side", "aggregated"),
    K_TICKER: ("recv_ns", "symbol", "ts_ms", "transact_ms", "update_id", "bid_px", "bid_qty", "ask_px", "ask_qty"),
    K_MARK: ("recv_ns", "symbol", "ts_ms", "mark_price", "index_price", "funding_rate", "next_funding_ms",
             "settle_price"),
    K_FRAME: ("recv_ns", "raw", "symbol"),
    K_BODY: ("recv_ns", "raw", "symbol"),
}
_STAMP_NEEDS = ("recv_ns", "symbol", "ts_ms")


# keyword names in each type's field order (msgspec matches them fastest so; a name out of order only
# costs time). recv_ns, symbol and ts_ms are every event's a0, a1, a2 below.
cdef tuple _DEPTH_KW = ("ts_ms", "recv_ns", "symbol", "first_id", "final_id", "prev_final_id", "transact_ms",
                        "bids", "asks")
cdef tuple _SNAP_KW = ("ts_ms", "recv_ns", "symbol", "last_update_id", "transact_ms", "bids", "asks")
cdef tuple _TRADE_KW = ("ts_ms", "recv_ns", "symbol", "trade_id", "price", "qty", "taker_side", "trade_ms",
                        "aggregated")
cdef tuple _TICKER_KW = ("ts_ms", "recv_ns", "symbol", "update_id", "bid_px", "bid_qty", "ask_px", "ask_qty",
                         "transact_ms")
cdef tuple _MARK_KW = ("ts_ms", "recv_ns", "symbol", "mark_price", "index_price", "funding_rate",
                       "next_funding_ms", "settle_price")


def values(arr):
    """A fixed-width array's values as numpy, without a copy (a null's slot holds what was written: 0)."""
    dtype = arr.type.to_pandas_dtype()
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=arr.offset + len(arr))[arr.offset:]


cdef class _Cols:
    """The columns of one batch as C buffers (the numpy arrays kept alive here)."""
    cdef object keep
    cdef const int64_t* recv
    cdef const int64_t* ts
    cdef const int64_t* transact
    cdef const int64_t* first
    cdef const int64_t* final
    cdef const int64_t* prev
    cdef const int64_t* upd
    cdef const int64_t* tid
    cdef const int64_t* nfund
    cdef const double* price
    cdef const double* qty
    cdef const double* bpx
    cdef const double* bqty
    cdef const double* apx
    cdef const double* aqty
    cdef const double* mark
    cdef const double* index
    cdef const double* rate
    cdef const double* settle
    cdef const uint8_t* agg
    cdef const int32_t* side


cdef const int64_t* _i64(_Cols c, object batch, str name, object names):
    if name not in names:
        return NULL
    cdef const int64_t[::1] mv = np.ascontiguousarray(values(batch.column(name)), dtype=np.int64)
    c.keep.append(mv)
    return &mv[0] if mv.shape[0] else NULL


cdef const double* _f64(_Cols c, object batch, str name, object names):
    if name not in names:
        return NULL
    cdef const double[::1] mv = np.ascontiguousarray(values(batch.column(name)), dtype=np.float64)
    c.keep.append(mv)
    return &mv[0] if mv.shape[0] else NULL


cdef const int32_t* _codes(_Cols c, object arr):
    cdef const int32_t[::1] mv = np.ascontiguousarray(values(arr.indices), dtype=np.int32)
    c.keep.append(mv)
    return &mv[0] if mv.shape[0] else NULL


def build(batch, st, bint tickers):
    """The records of ``batch`` in row order; ``tickers`` False: a bookTicker row is a ``TickerStamp``.
    A row of an unknown kind is dropped, counted in ``st``."""
    cdef Py_ssize_t n = batch.num_rows
    if n == 0:
        return []
    kinds = batch.column("kind")
    kind_codes = np.ascontiguousarray(values(kinds.indices), dtype=np.int32)
    words = kinds.dictionary.to_pylist()
    cdef int kid_of[256]
    if len(words) > 256:
        raise ValueError(f"a tape batch with {len(words)} kinds")
    cdef Py_ssize_t w
    lv_codes, raw_codes = [], []
    for w, word in enumerate(words):
        k = _KINDS.get(word, -1)
        kid_of[w] = k
        if k == -1:  # as the reference: counted in dictionary order
            count = int((kind_codes == w).sum())
            if count:
                st.lines -= count
                for _ in range(count):
                    st.bad("unknown_tape_kind", str(word).encode())
        elif k == K_DEPTH or k == K_SNAPSHOT:
            lv_codes.append(w)
        elif k == K_FRAME or k == K_BODY:
            raw_codes.append(w)
    cdef const int32_t[::1] kc = kind_codes
    names = set(batch.schema.names)
    for w in np.unique(kind_codes).tolist():
        k = kid_of[w]
        if k >= 0:
            for name in (_STAMP_NEEDS if k == K_TICKER and not tickers else _NEEDS[k]):
                if name not in names:
                    raise KeyError(f'Field "{name}" does not exist in schema')
    cdef _Cols c = _Cols.__new__(_Cols)
    c.keep = []
    c.recv = _i64(c, batch, "recv_ns", names)
    c.ts = _i64(c, batch, "ts_ms", names)
    c.transact = _i64(c, batch, "transact_ms", names)
    c.first = _i64(c, batch, "first_id", names)
    c.final = _i64(c, batch, "final_id", names)
    c.prev = _i64(c, batch, "prev_final_id", names)
    c.upd = _i64(c, batch, "update_id", names)
    c.tid = _i64(c, batch, "trade_id", names)
    c.nfund = _i64(c, batch, "next_funding_ms", names)
    c.price = _f64(c, batch, "price", names)
    c.qty = _f64(c, batch, "qty", names)
    c.bpx = _f64(c, batch, "bid_px", names)
    c.bqty = _f64(c, batch, "bid_qty", names)
    c.apx = _f64(c, batch, "ask_px", names)
    c.aqty = _f64(c, batch, "ask_qty", names)
    c.mark = _f64(c, batch, "mark_price", names)
    c.index = _f64(c, batch, "index_price", names)
    c.rate = _f64(c, batch, "funding_rate", names)
    c.settle = _f64(c, batch, "settle_price", names)
    sym = batch.column("symbol")
    cdef list sym_words = sym.dictionary.to_pylist() or [None]
    cdef const int32_t* sc = _codes(c, sym)
    cdef list side_words = [None]
    cdef const uint8_t[::1] agg
    if "taker_side" in names and "aggregated" in names:
        ts_arr = batch.column("taker_side")
        if isinstance(ts_arr, pa.DictionaryArray):
            side_words = [_SIDES.get(s, s) for s in ts_arr.dictionary.to_pylist()] or [None]
            c.side = _codes(c, ts_arr)
        else:  # not read as a dictionary: encode it here
            enc = ts_arr.dictionary_encode()
            side_words = [_SIDES.get(s, s) for s in enc.dictionary.to_pylist()] or [None]
            c.side = _codes(c, enc)
        agg = np.ascontiguousarray(batch.column("aggregated").fill_null(False).to_numpy(zero_copy_only=False),
                                   dtype=np.uint8)
        c.keep.append(agg)
        c.agg = &agg[0]
    # the depth sides and raw bytes of the rows that have them, in row order
    cdef list bids = [], asks = [], raws = []
    if lv_codes:
        rows = np.flatnonzero(np.isin(kind_codes, lv_codes))
        bids = _levels(batch.column("bids"), rows)
        asks = _levels(batch.column("asks"), rows)
    if raw_codes:
        raws = batch.column("raw").take(pa.array(np.flatnonzero(np.isin(kind_codes, raw_codes)))).to_pylist()
    return _loop(c, &kc[0], kid_of, n, sym_words, sc, side_words, bids, asks, raws, tickers)


cdef list _levels(object arr, object rows):
    offsets = values(arr.offsets)
    flat = arr.values
    return Levels.split(values(flat.field("price")), values(flat.field("qty")),
                        offsets[rows].tolist(), offsets[rows + 1].tolist())


# NULL (a column absent) is never read for a present kind (build() checks _NEEDS first): the guard
# only keeps a future slip from reading through a NULL buffer
cdef inline object _int(const int64_t* col, Py_ssize_t i):
    return PyLong_FromLongLong(col[i] if col != NULL else 0)


cdef inline object _float(const double* col, Py_ssize_t i):
    return PyFloat_FromDouble(col[i] if col != NULL else 0.0)


cdef list _loop(_Cols c, const int32_t* kc, int* kid_of, Py_ssize_t n, list sym_words, const int32_t* sc,
                list side_words, list bids, list asks, list raws, bint tickers):
    cdef list out = []
    cdef Py_ssize_t i, lv = 0, rw = 0
    cdef int k
    cdef PyObject* args[9]
    cdef object a0, a1, a2, a3, a4, a5, a6, a7, a8, ev
    depth_t, snap_t, trade_t, ticker_t, mark_t, stamp_t = DepthDiff, DepthSnapshot, Trade, BookTicker, MarkPrice, \
        TickerStamp
    for i in range(n):
        k = kid_of[kc[i]]
        if k < 0:
            continue
        a0 = PyLong_FromLongLong(c.recv[i])
        a1 = sym_words[sc[i]]
        a2 = _int(c.ts, i)
        if k == K_TICKER and not tickers:
            args[0] = <PyObject*>a0; args[1] = <PyObject*>a1; args[2] = <PyObject*>a2
            ev = PyObject_Vectorcall(stamp_t, args, 3, NULL)
        elif k == K_FRAME or k == K_BODY:  # what the codec could not use, as its raw line
            ev = RecordedLine(a0, raws[rw], k == K_BODY, a1)
            rw += 1
        else:
            args[0] = <PyObject*>a2; args[1] = <PyObject*>a0; args[2] = <PyObject*>a1
            if k == K_TICKER:
                a3 = _int(c.upd, i)
                a4 = _float(c.bpx, i)
                a5 = _float(c.bqty, i)
                a6 = _float(c.apx, i)
                a7 = _float(c.aqty, i)
                a8 = _int(c.transact, i)
                _set(args, a3, a4, a5, a6, a7, a8)
                ev = PyObject_Vectorcall(ticker_t, args, 0, <PyObject*>_TICKER_KW)
            elif k == K_DEPTH:
                a3 = _int(c.first, i)
                a4 = _int(c.final, i)
                a5 = _int(c.prev, i)
                a6 = _int(c.transact, i)
                a7 = bids[lv]
                a8 = asks[lv]
                lv += 1
                _set(args, a3, a4, a5, a6, a7, a8)
                ev = PyObject_Vectorcall(depth_t, args, 0, <PyObject*>_DEPTH_KW)
            elif k == K_TRADE:  # taker_side and aggregated are there: build() checked _NEEDS
                a3 = _int(c.tid, i)
                a4 = _float(c.price, i)
                a5 = _float(c.qty, i)
                a6 = side_words[c.side[i]]
                if not isinstance(a6, Side):  # not BUY/SELL: as the reference's lookup
                    raise KeyError(a6)
                a7 = _int(c.transact, i)
                a8 = c.agg[i] != 0
                _set(args, a3, a4, a5, a6, a7, a8)
                ev = PyObject_Vectorcall(trade_t, args, 0, <PyObject*>_TRADE_KW)
            elif k == K_SNAPSHOT:
                a3 = _int(c.upd, i)
                a4 = _int(c.transact, i)
                a5 = bids[lv]
                a6 = asks[lv]
                lv += 1
                _set(args, a3, a4, a5, a6, None, None)
                ev = PyObject_Vectorcall(snap_t, args, 0, <PyObject*>_SNAP_KW)
            else:  # K_MARK
                a3 = _float(c.mark, i)
                a4 = _float(c.index, i)
                a5 = _float(c.rate, i)
                a6 = _int(c.nfund, i)
                a7 = _float(c.settle, i)
                _set(args, a3, a4, a5, a6, a7, None)
                ev = PyObject_Vectorcall(mark_t, args, 0, <PyObject*>_MARK_KW)
        out.append(ev)
    return out


cdef inline void _set(PyObject** args, object a3, object a4, object a5, object a6, object a7, object a8):
    """args[3:9] (the callers keep the objects alive through the call; the kwnames say how many count)."""
    args[3] = <PyObject*>a3; args[4] = <PyObject*>a4; args[5] = <PyObject*>a5
    args[6] = <PyObject*>a6; args[7] = <PyObject*>a7; args[8] = <PyObject*>a8
