# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Depth levels as data, compiled: ``Levels`` over a C pointer and stride, and a C ``parse`` of JSON sides.

Owns: the compiled twin of hedge/feeds/levels.py (same names, same contract: read that module's
docstring). ``parse`` reads ``[["px","qty"],...]`` with decimal strings (Binance's form) straight
into a block of doubles — Python's own correctly rounded, locale-independent
``PyOS_string_to_double``, the same float msgspec gives for the same string — and range-checks them
as the codec's msgspec types do; any other shape (unquoted numbers, escapes, odd whitespace in a
string, over-long numbers) is handed to the reference decoder (msgspec), so what is accepted and
what is rejected stays the reference's by construction.

Must never: build a Python object per parsed level, accept what the reference rejects, or write to
a buffer it views.
"""

from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_FORMAT, PyBUF_C_CONTIGUOUS
from cpython.bytes cimport PyBytes_Check, PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy

from collections.abc import Sequence
from typing import Annotated

import msgspec

from cpython.object cimport PyObject

cdef extern from "Python.h":
    double PyOS_string_to_double(const char* s, char** endptr, PyObject* overflow_exception) except? -1.0

_Px = Annotated[float, msgspec.Meta(gt=0.0, lt=1e15)]
_Qty = Annotated[float, msgspec.Meta(ge=0.0, lt=1e15)]
_SIDE = msgspec.json.Decoder(list[tuple[_Px, _Qty]], strict=False)


cdef class _Buf:
    """One acquired float64 buffer (released with this object)."""
    cdef Py_buffer view
    cdef bint held
    cdef const double* data
    cdef Py_ssize_t n

    def __dealloc__(self):
        if self.held:
            PyBuffer_Release(&self.view)


cdef _Buf _floats(object obj):
    cdef _Buf b = _Buf.__new__(_Buf)
    try:
        PyObject_GetBuffer(obj, &b.view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
    except BufferError as e:
        raise ValueError(f"Levels: a 1-D C-contiguous buffer is needed ({e})") from None
    b.held = True
    fmt = (b.view.format or b"B").decode()
    if b.view.ndim != 1:
        raise ValueError("Levels: a 1-D C-contiguous buffer is needed")
    if fmt in ("B", "b", "c"):
        if b.view.len % 8:
            raise ValueError("Levels: a byte buffer's length must be a multiple of 8")
    elif fmt not in ("d", "@d", "<d", "=d") or b.view.itemsize != 8:
        raise ValueError(f"Levels: float64 buffers are needed, not format {fmt!r}")
    b.data = <const double*> b.view.buf
    b.n = b.view.len // 8
    return b


cdef Levels _view(_Buf p, _Buf q, Py_ssize_t start, Py_ssize_t stop):
    cdef Levels lv = Levels.__new__(Levels)
    lv.px = p.data + start
    lv.qty = q.data + start
    lv.n = stop - start
    lv.stride = 1
    lv.base = (p, q)
    return lv


cdef Levels _owned(Py_ssize_t n):
    """A Levels with its own block of ``n`` interleaved pairs (filled by the caller)."""
    cdef Levels lv = Levels.__new__(Levels)
    cdef double* block = <double*> malloc(max(n, 1) * 2 * sizeof(double))
    if block == NULL:
        raise MemoryError()
    lv.own = block
    lv.px = block
    lv.qty = block + 1
    lv.n = n
    lv.stride = 2
    return lv


cdef class Levels:
    """Immutable (price, qty) pairs over float64 storage (hedge/feeds/levels.py has the contract)."""

    def __init__(self, px, qty, Py_ssize_t start=0, stop=None):
        cdef _Buf p = _floats(px)
        cdef _Buf q = _floats(qty)
        if p.n != q.n:
            raise ValueError(f"Levels: {p.n} prices but {q.n} quantities")
        cdef Py_ssize_t end = p.n if stop is None else stop
        if not 0 <= start <= end <= p.n:
            raise ValueError(f"Levels: start {start}, stop {stop} outside 0..{p.n}")
        self.px = p.data + start
        self.qty = q.data + start
        self.n = end - start
        self.stride = 1
        self.base = (p, q)

    def __dealloc__(self):
        if self.own != NULL:
            free(self.own)

    @classmethod
    def of(cls, pairs):
        """A copy of ``pairs``."""
        flat = list(pairs)
        cdef Levels lv = _owned(len(flat))
        cdef Py_ssize_t i = 0
        for p, q in flat:
            lv.own[2 * i] = p
            lv.own[2 * i + 1] = q
            i += 1
        return lv

    @classmethod
    def split(cls, px, qty, starts, ends):
        """One view per (start, end): the rows of a list column."""
        cdef _Buf p = _floats(px)
        cdef _Buf q = _floats(qty)
        if p.n != q.n:
            raise ValueError(f"Levels: {p.n} prices but {q.n} quantities")
        cdef Py_ssize_t s, e
        out = []
        for s_, e_ in zip(starts, ends, strict=True):
            s = s_
            e = e_
            if not 0 <= s <= e <= p.n:
                raise ValueError(f"Levels: start {s}, stop {e} outside 0..{p.n}")
            out.append(_view(p, q, s, e))
        return out

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        cdef Py_ssize_t k, start, stop, step
        cdef Levels lv
        if isinstance(i, slice):
            start, stop, step = i.indices(self.n)
            if step != 1:
                raise ValueError("Levels: slices with a step are not supported")
            lv = Levels.__new__(Levels)
            lv.px = self.px + start * self.stride
            lv.qty = self.qty + start * self.stride
            lv.n = max(start, stop) - start
            lv.stride = self.stride
            lv.base = self  # keeps this block (or these buffers) alive
            return lv
        k = i
        if k < 0:
            k += self.n
        if not 0 <= k < self.n:
            raise IndexError("Levels index out of range")
        return (self.px[k * self.stride], self.qty[k * self.stride])

    def __iter__(self):
        cdef Py_ssize_t k
        for k in range(self.n):
            yield (self.px[k * self.stride], self.qty[k * self.stride])

    def __reversed__(self):
        cdef Py_ssize_t k
        for k in range(self.n - 1, -1, -1):
            yield (self.px[k * self.stride], self.qty[k * self.stride])

    def __contains__(self, item):
        return any(lv == item for lv in self)

    def index(self, value, start=0, stop=None):
        return list(self).index(value, start, self.n if stop is None else stop)

    def count(self, value):
        return list(self).count(value)

    def __eq__(self, other):
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(other) == self.n and all(a == tuple(b) for a, b in zip(self, other))

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None

    def __repr__(self):
        return f"Levels({list(self)!r})"

    def __reduce__(self):
        return (_from_pairs, (list(self),))

    def prices(self):
        cdef Py_ssize_t k
        return [self.px[k * self.stride] for k in range(self.n)]

    def quantities(self):
        cdef Py_ssize_t k
        return [self.qty[k * self.stride] for k in range(self.n)]


Sequence.register(Levels)


def _from_pairs(pairs):
    return Levels.of(pairs)


EMPTY = _owned(0)

# ---------------------------------------------------------------------------------------- parse

cdef double* _scratch = NULL  # interleaved pairs of the side being parsed (grows, never shrinks)
cdef Py_ssize_t _scratch_cap = 0

DEF _NUM_MAX = 63  # longest number string parsed here; longer ones go the reference's way


cdef inline bint _ws(char c) nogil:
    return c == c' ' or c == c'\t' or c == c'\n' or c == c'\r'


cdef double[23] _TEN = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
                        1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]


cdef inline Py_ssize_t _number(const char* s, Py_ssize_t i, Py_ssize_t end, double* out) except -2:
    """A quoted JSON-grammar decimal at ``s[i]`` (the opening quote) -> ``out``; the index after the
    closing quote, or -1 when it is not one (the reference decides).

    Up to 15 significant digits and a decimal exponent within +-22 (every Binance price and quantity):
    Clinger's fast path, one exact integer and one exact power of ten, so one IEEE multiply or divide
    rounds correctly — the same double any correct parser gives. Anything longer:
    ``PyOS_string_to_double`` (correctly rounded, locale-independent, slower)."""
    cdef char buf[_NUM_MAX + 1]
    cdef Py_ssize_t j, k, digits
    cdef char* stop = NULL
    cdef unsigned long long m = 0
    cdef int nd = 0, scale = 0, ex = 0, exsign = 1
    cdef bint neg = False, isint = True
    cdef double v
    if i >= end or s[i] != c'"':
        return -1
    j = i + 1
    k = j
    if k < end and s[k] == c'-':
        neg = True
        k += 1
    if k >= end or not (c'0' <= s[k] <= c'9'):
        return -1
    if s[k] == c'0':
        k += 1
    else:
        while k < end and c'0' <= s[k] <= c'9':
            if nd < 19:
                m = m * 10 + <unsigned long long> (s[k] - c'0')
            nd += 1
            k += 1
    if k < end and s[k] == c'.':
        isint = False
        k += 1
        digits = k
        while k < end and c'0' <= s[k] <= c'9':
            if m or s[k] != c'0':
                if nd < 19:
                    m = m * 10 + <unsigned long long> (s[k] - c'0')
                nd += 1
            if nd < 19:
                scale -= 1
            k += 1
        if k == digits:
            return -1
    if k < end and (s[k] == c'e' or s[k] == c'E'):
        isint = False
        k += 1
        if k < end and (s[k] == c'+' or s[k] == c'-'):
            exsign = -1 if s[k] == c'-' else 1
            k += 1
        digits = k
        while k < end and c'0' <= s[k] <= c'9':
            if ex < 100000:
                ex = ex * 10 + (s[k] - c'0')
            k += 1
        if k == digits:
            return -1
    if k >= end or s[k] != c'"' or k - j > _NUM_MAX:
        return -1
    scale += exsign * ex
    if nd <= 15 and -22 <= scale <= 22:
        v = <double> m
        v = v * _TEN[scale] if scale >= 0 else v / _TEN[-scale]
        out[0] = -v if neg and not (isint and m == 0) else v  # "-0" is msgspec's integer 0: +0.0
        return k + 1
    memcpy(buf, s + j, k - j)
    buf[k - j] = 0
    out[0] = PyOS_string_to_double(buf, &stop, NULL)  # inf on overflow (rejected by the range check)
    if stop != buf + (k - j):
        return -1
    if isint and out[0] == 0.0:
        out[0] = 0.0
    return k + 1


cdef object _reference(raw):
    """The reference's answer (msgspec, the codec's types) as Levels, or None."""
    try:
        pairs = _SIDE.decode(raw)
    except (msgspec.DecodeError, UnicodeError):
        return None
    return Levels.of(pairs)


cdef bint _grow(Py_ssize_t need) except False:
    global _scratch, _scratch_cap
    cdef Py_ssize_t cap = max(need, 2 * _scratch_cap, 256)
    cdef double* block = <double*> realloc(_scratch, cap * sizeof(double))
    if block == NULL:
        raise MemoryError()
    _scratch = block
    _scratch_cap = cap
    return True


def parse(raw):
    """One JSON side ``[["px","qty"],...]`` -> Levels, or None when the codec rejects it."""
    cdef Py_buffer view
    cdef const char* s
    cdef Py_ssize_t end, i, n = 0
    cdef double px, qty
    cdef Levels lv
    if PyBytes_Check(raw):
        s = PyBytes_AS_STRING(raw)
        end = PyBytes_GET_SIZE(raw)
        held = False
    else:
        PyObject_GetBuffer(raw, &view, 0)
        s = <const char*> view.buf
        end = view.len
        held = True
    try:
        i = 0
        while i < end and _ws(s[i]):
            i += 1
        if i >= end or s[i] != c'[':
            return _reference(raw)
        i += 1
        while i < end and _ws(s[i]):
            i += 1
        if i < end and s[i] == c']':
            i += 1
        else:
            while True:
                if i >= end or s[i] != c'[':
                    return _reference(raw)
                i += 1
                i = _number(s, i, end, &px)
                if i < 0 or i >= end or s[i] != c',':
                    return _reference(raw)
                i = _number(s, i + 1, end, &qty)
                if i < 0 or i >= end or s[i] != c']':
                    return _reference(raw)
                if not (px > 0.0 and px < 1e15 and qty >= 0.0 and qty < 1e15):
                    return None  # the reference's range check (NaN fails it too)
                if 2 * n + 2 > _scratch_cap:
                    _grow(2 * n + 2)
                _scratch[2 * n] = px
                _scratch[2 * n + 1] = qty
                n += 1
                i += 1
                if i < end and s[i] == c',':
                    i += 1
                    continue
                if i < end and s[i] == c']':
                    i += 1
                    break
                return _reference(raw)
        while i < end and _ws(s[i]):
            i += 1
        if i != end:
            return _reference(raw)
        lv = _owned(n)
        if n:
            memcpy(lv.own, _scratch, 2 * n * sizeof(double))
        return lv
    finally:
        if held:
            PyBuffer_Release(&view)
