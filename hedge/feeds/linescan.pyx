# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Recorded lines in bulk, compiled: ``parse_block`` as a C scan of the block, ``TimeOrder``'s check as a C loop.

Owns: the compiled twin of hedge/feeds/linescan.py (same names, same contract: read that module's
docstring). ``parse_block`` finds each line end with ``memchr``, reads the receive time's digits
(1 to 19 of them: a 64-bit value) and makes the frame's bytes object straight from the block; a
line in any other form goes to ``slow`` whole, as in the reference. ``TimeOrder`` keeps the running
maximum in a C integer while it is a plausible time (0..2**62); everything else (the first record,
one outside the window, huge values) takes the reference's path on Python ints.

Must never: alter a line's bytes, decide a line the shortcut does not fully recognise, or reorder
records.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE, PyBytes_FromStringAndSize
from cpython.list cimport PyList_GET_ITEM
from cpython.long cimport PyLong_FromUnsignedLongLong
from libc.stdint cimport uint64_t
from libc.string cimport memchr, memcmp

cdef extern from "Python.h":
    long long PyLong_AsLongLongAndOverflow(object obj, int* overflow) except? -1

cdef const char* _FRAME = b'{"stream"'
cdef long long _MAX_FAST = 1LL << 62  # a C running maximum above this is kept as a Python int


def count_lines(bytes block not None):
    """The line ends (``\\n``) in ``block``."""
    cdef const char* s = PyBytes_AS_STRING(block)
    cdef const char* end = s + PyBytes_GET_SIZE(block)
    cdef const char* p = s
    cdef Py_ssize_t n = 0
    while p < end:
        p = <const char*> memchr(p, 10, end - p)
        if p == NULL:
            break
        n += 1
        p += 1
    return n


def parse_block(bytes block not None, make, slow):
    """The records of ``block``'s lines, in order: ``make(recv_ns, raw)`` for a plain frame line,
    ``slow(line)`` (None: no record) for any other."""
    cdef const unsigned char* s = <const unsigned char*> PyBytes_AS_STRING(block)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(block)
    cdef Py_ssize_t i = 0, e, j
    cdef const unsigned char* nl
    cdef uint64_t v
    cdef unsigned char c
    cdef list out = []
    while i < n:
        nl = <const unsigned char*> memchr(s + i, 10, n - i)
        e = nl - s if nl != NULL else n
        v = 0
        j = i
        while j < e and j - i < 20:
            c = s[j]
            if c < 48 or c > 57:
                break
            v = v * 10 + (c - 48)
            j += 1
        if (j > i and j - i <= 19 and j < e and s[j] == 32 and e - j - 1 >= 9
                and memcmp(s + j + 1, _FRAME, 9) == 0 and s[e - 1] != 13):
            out.append(make(PyLong_FromUnsignedLongLong(v),
                            PyBytes_FromStringAndSize(<const char*> s + j + 1, e - j - 1)))
        else:
            rec = slow(PyBytes_FromStringAndSize(<const char*> s + i, e - i))
            if rec is not None:
                out.append(rec)
        i = e + 1
    return out


cdef inline bint _fits(object last, long long* out) except -1:
    """``last`` as a C integer when it is one in 0..2**62 (the window's bounds cannot overflow then)."""
    cdef int ovf = 0
    cdef long long v
    if type(last) is not int:
        return False
    v = PyLong_AsLongLongAndOverflow(last, &ovf)
    if ovf or v < 0 or v > _MAX_FAST:
        return False
    out[0] = v
    return True


cdef class TimeOrder:
    """``in_time_order``'s rule, a list of records at a time (see hedge/feeds/linescan.py)."""

    cdef public object slack, lookahead, judge, drop, last
    cdef public list carry

    def __init__(self, slack_ns, lookahead, judge, drop, last=-1):
        self.slack = slack_ns
        self.lookahead = lookahead
        self.judge = judge
        self.drop = drop
        self.last = last
        self.carry = []

    def feed(self, list recs not None):
        """The records of ``recs`` (after those kept back before) that can be judged now, kept ones in order."""
        return self._run(self.carry + recs if self.carry else recs, False)

    def flush(self):
        """The stream has ended: the records kept back, judged on the fewer records left after them."""
        return self._run(self.carry, True)

    cdef list _run(self, list recs, bint final):
        self.carry = []
        cdef Py_ssize_t n = len(recs), end = len(recs), taken = 0, i = 0
        cdef Py_ssize_t lookahead = self.lookahead
        cdef long long slack = self.slack
        cdef long long cl = 0, t
        cdef int ovf
        cdef list out = []
        last = self.last
        cdef bint fast = _fits(last, &cl)
        while i < n:
            rec = <object> PyList_GET_ITEM(recs, i)
            tobj = rec.recv_ns
            if fast and type(tobj) is int:
                t = PyLong_AsLongLongAndOverflow(tobj, &ovf)
                if not ovf and cl - slack <= t <= cl + slack:
                    if t > cl:
                        cl = t
                    i += 1
                    continue
            if fast:
                last = cl
            if last >= 0 and last - slack <= tobj <= last + slack:
                if tobj > last:
                    last = tobj
            elif not final and n - i - 1 < lookahead:
                self.carry = recs[i:]
                end = i
                break
            elif self.judge(tobj, last, recs[i + 1 : i + 1 + lookahead]):
                last = tobj
            else:
                out += recs[taken:i]
                taken = i + 1
                self.drop(rec)
            fast = _fits(last, &cl)
            i += 1
        self.last = cl if fast else last
        if not taken and end == n:
            return recs
        out += recs[taken:end]
        return out
