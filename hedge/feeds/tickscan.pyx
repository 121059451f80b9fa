# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""A bookTicker frame's symbol and event time, compiled: one pass over the frame's bytes in C.

Owns: the compiled twin of hedge/feeds/tickscan.py (same name, same contract: read that module's
docstring for the exact form accepted). The symbol's ``str`` is kept and handed out again while the
next frame's symbol bytes are the same (one symbol per stream: no decode, no allocation for it).

Must never: accept a frame the codec would reject or read differently, or raise.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.long cimport PyLong_FromLongLong
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.string cimport memcmp, memcpy

LEAN = True  # calling ``ticker_stamp`` before the decode pays (the dispatcher asks)

cdef const char* _HEAD = b'{"stream":"'
cdef const char* _DATA = b'","data":{"e":"bookTicker","u":'
cdef Py_ssize_t _DATA_N = 31

cdef char _sym[32]
cdef Py_ssize_t _sym_n = 0
cdef object _sym_str = None


cdef inline Py_ssize_t _lit(const char* s, Py_ssize_t i, Py_ssize_t n, const char* lit, Py_ssize_t k):
    """The position after the literal ``lit`` (``k`` bytes) at ``i``, or -1."""
    if n - i < k or memcmp(s + i, lit, k) != 0:
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


def ticker_stamp(raw):
    """``(symbol, event time ms)`` of a bookTicker frame in Binance's exact form (tickscan.py's
    docstring); None: not decided here (the codec decodes it)."""
    global _sym_n, _sym_str
    if type(raw) is not bytes:
        return None
    cdef const char* s = PyBytes_AS_STRING(raw)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(raw)
    cdef Py_ssize_t i, sym0, sym_n
    cdef long long v = 0, ts = 0
    cdef char c
    i = _lit(s, 0, n, _HEAD, 11)
    if i < 0:
        return None
    while i < n:  # the stream name: printable ASCII, no quote, no backslash
        c = s[i]
        if c == 34:
            break
        if c < 32 or c > 126 or c == 92:
            return None
        i += 1
    i = _lit(s, i, n, _DATA, _DATA_N)
    if i < 0:
        return None
    i = _int(s, i, n, &v)
    if i < 0:
        return None
    i = _lit(s, i, n, b',"s":"', 6)
    if i < 0:
        return None
    sym0 = i
    while i < n and i - sym0 <= 32:
        c = s[i]
        if not (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122):
            break
        i += 1
    sym_n = i - sym0
    if sym_n < 1 or sym_n > 32:
        return None
    i = _lit(s, i, n, b'","b":', 6)
    if i < 0:
        return None
    i = _dec(s, i, n, True)
    if i < 0:
        return None
    i = _lit(s, i, n, b',"B":', 5)
    if i < 0:
        return None
    i = _dec(s, i, n, False)
    if i < 0:
        return None
    i = _lit(s, i, n, b',"a":', 5)
    if i < 0:
        return None
    i = _dec(s, i, n, True)
    if i < 0:
        return None
    i = _lit(s, i, n, b',"A":', 5)
    if i < 0:
        return None
    i = _dec(s, i, n, False)
    if i < 0:
        return None
    i = _lit(s, i, n, b',"T":', 5)
    if i < 0:
        return None
    i = _int(s, i, n, &v)
    if i < 0:
        return None
    i = _lit(s, i, n, b',"E":', 5)
    if i < 0:
        return None
    i = _int(s, i, n, &ts)
    if i < 0 or i + 2 != n or s[i] != 125 or s[i + 1] != 125:
        return None
    if sym_n != _sym_n or memcmp(s + sym0, _sym, sym_n) != 0:
        _sym_str = PyUnicode_DecodeASCII(s + sym0, sym_n, NULL)
        memcpy(_sym, s + sym0, sym_n)
        _sym_n = sym_n
    return (_sym_str, PyLong_FromLongLong(ts))
