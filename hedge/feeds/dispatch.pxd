# C declarations of hedge/feeds/dispatch.py for the compiled build (an augmenting .pxd: dispatch.py
# is the source and the pure reference): ``_FrameRoute``, the base of ``FrameDispatcher`` that holds
# its state and the per-frame path, becomes an extension type whose fields are C slots.
# docs/market-data.md, "Hot-path design".

cdef class _FrameRoute:
    cdef public object bus
    cdef public object codec
    cdef public dict books
    cdef public object tickers
    cdef public dict other_symbols
    cdef public object other_overflow
    cdef public object _request
    cdef public object _levels
    cdef public object _wire
    cdef public object _publish
    cdef public object _publish_needed
    cdef public object _saw_ticker
    cdef public object _count_ticker
    cdef public object _closed
