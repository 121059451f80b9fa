# Augmenting declarations of hedge/signals/strategies/micro_scalper.py for the compiled build (setup.py
# HOT_MODULES): the .py stays plain Python and the reference (HEDGE_PURE=1). Compiled, the score reads
# the typed feature state (features.pxd) and its weights as C doubles: the same IEEE arithmetic, in the
# same order, as the Python floats. docs/signals.md, "Cost per tick".
cimport cython
from hedge.signals.features cimport SymbolFeatures


cdef class MicroScalper:
    cdef public object params
    cdef public double _max_spread
    cdef public double _w_book
    cdef public double _w_micro
    cdef public double _w_flow
    cdef public double _w_absorption

    @cython.locals(half=double, tilt=double)
    cpdef double score(self, SymbolFeatures f)
