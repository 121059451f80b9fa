# C declarations of hedge/feeds/sync.py for the compiled build (an augmenting .pxd: sync.py is the
# source and the pure reference): ``BookSync`` becomes an extension type whose fields are C slots,
# so the per-diff path reads its state without instance-dict lookups. docs/market-data.md.

cdef class BookSync:
    cdef public object symbol
    cdef public object book
    cdef public object state
    cdef public object last_u
    cdef public object stats
    cdef object _publish
    cdef object _request
    cdef object _levels
    cdef object _buffer
    cdef object _max_buffer
    cdef object _loaded_id
    cdef object _requested
