# Augmenting declarations of hedge/signals/volatility.py for the compiled build (setup.py HOT_MODULES):
# the .py stays plain Python and the reference (HEDGE_PURE=1). Compiled, EwmaVol is a cdef class with
# C double state (the same IEEE arithmetic as Python floats); event times stay Python ints.
# docs/signals.md, "Cost per tick".
cimport cython

cdef double _INF


cdef class EwmaVol:
    cdef public double halflife_s
    cdef public double _k
    cdef public double _sum
    cdef public double last_px
    cdef public object last_ms
    cdef public object first_ms

    @cython.locals(dt_s=double, r=double)
    cpdef update(self, double px, object ts_ms)


cpdef object classify_regime(double vol_bps, double low_bps, double high_bps)
