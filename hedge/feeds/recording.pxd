# C declarations of hedge/feeds/recording.py for the compiled build (an augmenting .pxd: recording.py
# is the source and the pure reference): ``_RecordRoute``, the base of ``ReplaySource`` that holds
# ``handle`` (every line), becomes an extension type whose fields are C slots, its counters C integers.
# docs/market-data.md, "Hot-path design".

cdef class _RecordRoute:
    cdef public object dispatcher
    cdef public object stats
    cdef public list _pending
    cdef public Py_ssize_t _seen
    cdef public object _first_ns
    cdef public object _last_ns
