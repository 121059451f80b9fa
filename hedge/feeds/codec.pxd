# C declarations of hedge/feeds/codec.py for the compiled build (an augmenting .pxd: codec.py is the
# source and the pure reference): ``Codec`` becomes an extension type whose fields are C slots, so
# ``wire`` reads its decoders and counters without instance-dict lookups. docs/market-data.md.

cdef class Codec:
    cdef object _combined
    cdef object _raw
    cdef object _snapshot
    cdef object _any
    cdef public object stats
    cdef public object frame_errors
    cdef object _journal
    cdef object _report_interval_s
    cdef dict _last_report
    cdef dict _unreported
    cdef dict _counts

    cdef object _depth(self, tuple fields, object recv_ns)
    cdef object _trade(self, tuple fields, object agg, object recv_ns)
