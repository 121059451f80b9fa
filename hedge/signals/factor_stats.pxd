# Augmenting declarations of hedge/signals/factor_stats.py for the compiled build (setup.py HOT_MODULES):
# the .py stays plain Python and the reference (HEDGE_PURE=1). Compiled, the window loops run on C
# doubles (the same IEEE arithmetic as Python floats; the sums that use math.fsum still do) and
# FactorStats is a cdef class. docs/signals.md, "Cost per tick".
cimport cython


@cython.locals(n=Py_ssize_t, mx=double, my=double, sxx=double, syy=double, sxy=double, x=double, y=double,
               dx=double, dy=double)
cpdef double pearson(xs, ys)

cpdef double _sign(double x)


cdef class FactorStats:
    cdef public bint magnitude
    cdef public object _x
    cdef public object _y
    cdef public object _pnl
    cdef public object _block
    cdef public object _block_n
    cdef public object _ics
    cdef public object samples
    cdef public double ic
    cdef public double hit_rate
    cdef public double mean_pnl_bps
    cdef public double pnl_bps
    cdef public double attributed_bps
    cdef public object attributed_trips

    @cython.locals(pnl=double)
    cpdef add(self, x, double r)

    @cython.locals(ref=double, x=double, y=double, sx=double, sy=double)
    cpdef _refresh(self)
