# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Frames of the two common kinds read without the general decode, compiled: one pass over the bytes in C.

Owns: the compiled twin of hedge/feeds/framescan.py (same name, same contract: read that module's
docstring for the exact forms accepted). The symbol's ``str`` is kept and handed out again while the
next frame's symbol bytes are the same (one symbol per stream: no decode, no allocation for it). A
depthUpdate's sides are found with ``memchr`` and handed to ``hedge.feeds.levels.parse`` (its C
parser, as the codec's) as bytes.

Must never: accept a frame the codec would reject or read differently, or raise.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.long cimport PyLong_FromLongLong
from cpython.unicode cimport PyUnicode_DecodeASCII
from cpython.object cimport PyObject
from libc.string cimport memchr, memcmp, memcpy

cdef extern from "Python.h":
    double PyOS_string_to_double(const char* s, char** endptr, PyObject* overflow_exception) except? -1.0

from hedge.feeds.levels import parse

LEAN = True  # the shortcuts pay before the decode (their callers ask)

cdef const char* _HEAD = b'{"stream":"'
cdef const char* _DATA = b'","data":{"e":"bookTicker","u":'
cdef Py_ssize_t _DATA_N = 31

cdef const char* _DEPTH = b'","data":{"e":"depthUpdate","E":'
cdef Py_ssize_t _DEPTH_N = 32

cdef const char* _TRADE = b'","data":{"e":"trade","E":'
cdef Py_ssize_t _TRADE_N = 26

cdef char _sym[32]
cdef Py_ssize_t _sym_n = 0
cdef object _sym_str = None


cdef inline Py_ssize_t _symbol(const char* s, Py_ssize_t i, Py_ssize_t n):
    """``[0-9A-Za-z]{1,32}`` at ``i``: the position after it, or -1."""
    cdef Py_ssize_t j = i
    cdef char c
    while j < n and j - i <= 32:
        c = s[j]
        if not (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122):
            break
        j += 1
    return j if 1 <= j - i <= 32 else -1


cdef inline object _symbol_str(const char* s, Py_ssize_t sym0, Py_ssize_t sym_n):
    """The symbol's str: the last one again while its bytes repeat."""
    global _sym_n, _sym_str
    if sym_n != _sym_n or memcmp(s + sym0, _sym, sym_n) != 0:
        _sym_str = PyUnicode_DecodeASCII(s + sym0, sym_n, NULL)
        memcpy(_sym, s + sym0, sym_n)
        _sym_n = sym_n
    return _sym_str


cdef inline Py_ssize_t _stream(const char* s, Py_ssize_t n):
    """``{"stream":"`` and a stream name of printable ASCII (no quote, no backslash): the position of
    its closing quote, or -1."""
    cdef Py_ssize_t i = _lit(s, 0, n, _HEAD, 11)
    cdef char c
    if i < 0:
        return -1
    while i < n:
        c = s[i]
        if c == 34:
            return i
        if c < 32 or c > 126 or c == 92:
            return -1
        i += 1
    return -1


cdef inline Py_ssize_t _side(const char* s, Py_ssize_t i, Py_ssize_t n):
    """A side ``[]`` or ``[[...],...,[...]]`` (no ``]`` inside a level) at ``i``: the position after it, or -1."""
    cdef const char* p
    if n - i < 2 or s[i] != 91:
        return -1
    if s[i + 1] == 93:
        return i + 2
    i += 1
    while True:
        if i >= n or s[i] != 91:
            return -1
        p = <const char*> memchr(s + i + 1, 93, n - i - 1)
        if p == NULL:
            return -1
        i = p - s + 1
        if i < n and s[i] == 44:
            i += 1
            continue
        if i < n and s[i] == 93:
            return i + 1
        return -1


cdef inline Py_ssize_t _lit(const char* s, Py_ssize_t i, Py_ssize_t n, const char* lit, Py_ssize_t k):
    """The position after the literal ``lit`` (``k`` bytes) at ``i`` (-1: none, so -1 again), or -1."""
    if i < 0 or n - i < k or memcmp(s + i, lit, k) != 0:
        return -1
    return i + k


cdef inline Py_ssize_t _int(const char* s, Py_ssize_t i, Py_ssize_t n, long long* out):
    """``0|[1-9][0-9]{0,17}`` at ``i`` (its value to ``out``): the position after it, or -1."""
    cdef Py_ssize_t j = i
    cdef long long v = 0
    if i >= n or s[i] < 48 or s[i] > 57:
        return -1
    if s[i] == 48:
        out[0] = 0
        return i + 1
    while j < n and 48 <= s[j] <= 57:
        if j - i == 18:
            return -1
        v = v * 10 + (s[j] - 48)
        j += 1
    out[0] = v
    return j


cdef inline Py_ssize_t _dec(const char* s, Py_ssize_t i, Py_ssize_t n, bint positive):
    """A quoted plain decimal ``"(0|[1-9][0-9]{0,13})(.[0-9]{1,18})?"`` at ``i`` (``positive``: with a
    non-zero digit): the position after its closing quote, or -1."""
    cdef Py_ssize_t j
    cdef bint nonzero = False
    if i >= n or s[i] != 34:
        return -1
    i += 1
    if i >= n or s[i] < 48 or s[i] > 57:
        return -1
    if s[i] == 48:
        j = i + 1
    else:
        j = i
        while j < n and 48 <= s[j] <= 57:
            if j - i == 14:
                return -1
            j += 1
        nonzero = True
    if j < n and s[j] == 46:
        j += 1
        i = j
        while j < n and 48 <= s[j] <= 57:
            if j - i == 18:
                return -1
            if s[j] != 48:
                nonzero = True
            j += 1
        if j == i:
            return -1
    if j >= n or s[j] != 34 or (positive and not nonzero):
        return -1
    return j + 1


cdef inline Py_ssize_t _head(const char* s, Py_ssize_t n, const char* kind, Py_ssize_t kind_n,
                             long long* ts, long long* tt, Py_ssize_t* sym0):
    """A depthUpdate's or trade's start: the stream, ``kind`` (its ``"data":{"e":...,"E":``), the
    event and transaction times and the symbol (its start to ``sym0``): the position after the
    symbol, or -1."""
    cdef Py_ssize_t i = _stream(s, n)
    if (i < 0 or (i := _lit(s, i, n, kind, kind_n)) < 0 or (i := _int(s, i, n, ts)) < 0
            or (i := _lit(s, i, n, b',"T":', 5)) < 0 or (i := _int(s, i, n, tt)) < 0
            or (i := _lit(s, i, n, b',"s":"', 6)) < 0):
        return -1
    sym0[0] = i
    return _symbol(s, i, n)


def ticker_stamp(raw):
    """``(symbol, event time ms)`` of a bookTicker frame in Binance's exact form (framescan.py's
    docstring); None: not decided here (the codec decodes it)."""
    if type(raw) is not bytes:
        return None
    cdef const char* s = PyBytes_AS_STRING(raw)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(raw)
    cdef Py_ssize_t i, sym0, sym1
    cdef long long v = 0, ts = 0
    i = _stream(s, n)
    if i < 0 or (i := _lit(s, i, n, _DATA, _DATA_N)) < 0 or (i := _int(s, i, n, &v)) < 0:
        return None
    sym0 = _lit(s, i, n, b',"s":"', 6)
    if sym0 < 0 or (sym1 := _symbol(s, sym0, n)) < 0:
        return None
    i = sym1
    if ((i := _lit(s, i, n, b'","b":', 6)) < 0 or (i := _dec(s, i, n, True)) < 0
            or (i := _lit(s, i, n, b',"B":', 5)) < 0 or (i := _dec(s, i, n, False)) < 0
            or (i := _lit(s, i, n, b',"a":', 5)) < 0 or (i := _dec(s, i, n, True)) < 0
            or (i := _lit(s, i, n, b',"A":', 5)) < 0 or (i := _dec(s, i, n, False)) < 0
            or (i := _lit(s, i, n, b',"T":', 5)) < 0 or (i := _int(s, i, n, &v)) < 0
            or (i := _lit(s, i, n, b',"E":', 5)) < 0 or (i := _int(s, i, n, &ts)) < 0
            or i + 2 != n or s[i] != 125 or s[i + 1] != 125):
        return None
    return (_symbol_str(s, sym0, sym1 - sym0), PyLong_FromLongLong(ts))


def depth_fields(raw):
    """``(E, T, s, U, u, pu, bids, asks)`` of a depthUpdate frame in Binance's exact form
    (framescan.py's docstring); None: not decided here (the codec decodes it)."""
    if type(raw) is not bytes:
        return None
    cdef const char* s = PyBytes_AS_STRING(raw)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(raw)
    cdef Py_ssize_t i, sym0 = 0, sym1, b0, b1, a0, a1
    cdef long long ts = 0, tt = 0, first = 0, final = 0, prev = 0
    sym1 = _head(s, n, _DEPTH, _DEPTH_N, &ts, &tt, &sym0)
    if ((i := _lit(s, sym1, n, b'","U":', 6)) < 0 or (i := _int(s, i, n, &first)) < 0
            or (i := _lit(s, i, n, b',"u":', 5)) < 0 or (i := _int(s, i, n, &final)) < 0
            or (i := _lit(s, i, n, b',"pu":', 6)) < 0 or (i := _int(s, i, n, &prev)) < 0
            or (b0 := _lit(s, i, n, b',"b":', 5)) < 0 or (b1 := _side(s, b0, n)) < 0
            or (a0 := _lit(s, b1, n, b',"a":', 5)) < 0 or (a1 := _side(s, a0, n)) < 0
            or a1 + 2 != n or s[a1] != 125 or s[a1 + 1] != 125):
        return None
    bids = parse(PyBytes_FromStringAndSize(s + b0, b1 - b0))
    if bids is None:
        return None
    asks = parse(PyBytes_FromStringAndSize(s + a0, a1 - a0))
    if asks is None:
        return None
    return (PyLong_FromLongLong(ts), PyLong_FromLongLong(tt), _symbol_str(s, sym0, sym1 - sym0),
            PyLong_FromLongLong(first), PyLong_FromLongLong(final), PyLong_FromLongLong(prev), bids, asks)


cdef inline double _float(const char* s, Py_ssize_t i, Py_ssize_t j) except? -1.0:
    """The correctly rounded double of the plain decimal ``s[i:j]`` (at most 33 characters: ``_dec``)."""
    cdef char buf[40]
    memcpy(buf, s + i, j - i)
    buf[j - i] = 0
    return PyOS_string_to_double(buf, NULL, NULL)


def trade_fields(raw):
    """``(E, T, s, t, p, q, m)`` of a trade frame in Binance's exact form (framescan.py's docstring);
    None: not decided here (the codec decodes it)."""
    if type(raw) is not bytes:
        return None
    cdef const char* s = PyBytes_AS_STRING(raw)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(raw)
    cdef Py_ssize_t i, sym0 = 0, sym1, p0, p1, q0, q1
    cdef long long ts = 0, tt = 0, tid = 0
    cdef bint maker
    sym1 = _head(s, n, _TRADE, _TRADE_N, &ts, &tt, &sym0)
    if ((i := _lit(s, sym1, n, b'","t":', 6)) < 0 or (i := _int(s, i, n, &tid)) < 0
            or (p0 := _lit(s, i, n, b',"p":', 5)) < 0 or (p1 := _dec(s, p0, n, True)) < 0
            or (q0 := _lit(s, p1, n, b',"q":', 5)) < 0 or (q1 := _dec(s, q0, n, False)) < 0
            or (i := _lit(s, q1, n, b',"X":"', 6)) < 0):
        return None
    while i < n and (65 <= s[i] <= 90 or s[i] == 95) and i - q1 - 6 < 32:
        i += 1
    if (i := _lit(s, i, n, b'","m":', 6)) < 0:
        return None
    if n - i == 6 and memcmp(s + i, b"true}}", 6) == 0:
        maker = True
    elif n - i == 7 and memcmp(s + i, b"false}}", 7) == 0:
        maker = False
    else:
        return None
    return (PyLong_FromLongLong(ts), PyLong_FromLongLong(tt), _symbol_str(s, sym0, sym1 - sym0),
            PyLong_FromLongLong(tid), _float(s, p0 + 1, p1 - 1), _float(s, q0 + 1, q1 - 1), maker)


def undecided(raw):
    """A shortcut that decides nothing (the pure build's, ``LEAN`` False)."""
    return None
