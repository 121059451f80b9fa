# C declarations of hedge/feeds/seen.py for the compiled build (an augmenting .pxd: seen.py is the
# source and the pure reference): ``TickerSeen``'s fields are C slots (``saw`` runs per bookTicker).
# docs/market-data.md.

cdef class TickerSeen:
    cdef public dict by_type
    cdef public dict by_symbol
    cdef public object lag
    cdef public object now
