# Augmenting declarations of hedge/signals/stage.py for the compiled build (setup.py HOT_MODULES): the
# .py stays plain Python and the reference (HEDGE_PURE=1). Compiled, SignalStage is a cdef class: the
# per-tick body reads the typed feature state (features.pxd) as C fields, calls the feature engine
# directly (a Python subclass's override, the shadow's SharedFeatures, still runs: cpdef dispatch), and
# compares the scores as C doubles (the same IEEE values and comparisons as the Python floats). Every
# attribute is public: the shadow pipeline sets ``features`` and ``views`` after building the stage.
# docs/signals.md, "Cost per tick".
cimport cython
from hedge.signals.features cimport FeatureEngine, SymbolFeatures


cdef class SignalStage:
    cdef public object bus
    cdef public tuple universe
    cdef public FeatureEngine features
    cdef public object strategies
    cdef public tuple _scorers
    cdef public tuple _thresholds
    cdef public list _latest
    cdef public object scores
    cdef public object round_trips
    cdef public object screener
    cdef public object _every_ms
    cdef public dict _last_pub
    cdef public object _names
    cdef public dict _order_strategy
    cdef public object _order_fifo
    cdef public object intents
    cdef public bint views
    cdef public object factors
    cdef public object conviction
    cdef public object allocator
    cdef public object _clock

    @cython.locals(f=SymbolFeatures, latest=list, k=Py_ssize_t, s=double, a=double, strongest=double,
                   threshold=double)
    cpdef on_book(self, u)

    cpdef on_trade(self, t)

    # a C call from the tick body (no Python method lookup and call per intent); same body as the .py
    cdef _screen(self, Py_ssize_t k, SymbolFeatures f, double s)
