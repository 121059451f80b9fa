# Augmenting declarations of hedge/feeds/book.py for the compiled build (setup.py HOT_MODULES): the
# .py stays plain Python (and is the reference: HEDGE_PURE=1 runs it); compiled, both classes are
# cdef classes with C-typed fields and locals. docs/market-data.md, "Hot-path design".
cimport cython


cdef class _Side:
    cdef public object sign  # a Python float: sign * px stays one float multiply, no boxing
    cdef public dict qty
    cdef public list keys
    cdef public set far
    cdef public Py_ssize_t high
    cdef public Py_ssize_t low

    @cython.locals(qty=dict, keys=list, cut=Py_ssize_t)
    cpdef load(self, levels)

    @cython.locals(qty=dict, keys=list, far=set, size=Py_ssize_t, n=Py_ssize_t, cut=Py_ssize_t)
    cpdef apply(self, levels)

    @cython.locals(far=set, take=list)
    cpdef fill(self, Py_ssize_t n)

    cpdef best(self)

    @cython.locals(qty=dict, keys=list, out=list)
    cpdef top(self, Py_ssize_t n)

    @cython.locals(qty=dict, keys=list)
    cpdef volume(self, Py_ssize_t n)


cdef class OrderBook:
    cdef readonly _Side _bids
    cdef readonly _Side _asks

    @cython.locals(bs=_Side, as_=_Side, bk=list, ak=list, bqty=dict, aqty=dict)
    cpdef touch(self, Py_ssize_t n)
