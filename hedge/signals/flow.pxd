# Augmenting declarations of hedge/signals/flow.py for the compiled build (setup.py HOT_MODULES): the
# .py stays plain Python and the reference (HEDGE_PURE=1). Compiled, TradeFlow is a cdef class with C
# double volumes (the same IEEE arithmetic as Python floats); times stay Python ints.
# docs/signals.md, "Cost per tick".
cimport cython

cdef double _INF  # compared with C doubles: no float boxed per trade


cdef class TradeFlow:
    cdef public object window_ms
    cdef public double min_flow
    cdef public double max_move_bps
    cdef public object _trades
    cdef public double buy_vol
    cdef public double sell_vol
    cdef public double imbalance

    cpdef add(self, object ts_ms, double qty, bint is_buy, double mid)

    @cython.locals(q=double)
    cpdef expire(self, object now_ms)

    @cython.locals(total=double, x=double)
    cpdef _refresh(self)

    @cython.locals(f=double, ref=double, move=double, keep=double)
    cpdef double absorption(self, double mid)
