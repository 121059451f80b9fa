# C declarations of hedge/feeds/levels.pyx (the compiled Levels; levels.py is the pure reference):
# the compiled book (book.pyx) cimports them to read a side's doubles with C loops.
# docs/market-data.md, "Hot-path design".

cdef class Levels:
    cdef const double* px   # price of level i: px[i * stride]
    cdef const double* qty  # quantity of level i: qty[i * stride]
    cdef Py_ssize_t n
    cdef Py_ssize_t stride
    cdef double* own        # the block this object allocated (parsed levels), freed with it; or NULL
    cdef object base        # what keeps external buffers alive (views), or None
