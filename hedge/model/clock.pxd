# Augmenting declarations of hedge/model/clock.py for the compiled build (setup.py HOT_MODULES): the .py
# stays plain Python and the reference (HEDGE_PURE=1). Compiled, EventClock is a cdef class: ``step``
# (the replay driver's call for every recorded line) and ``now_ns`` (every stamp in event time) are C
# methods on C fields. Times stay Python ints, as in the .py. docs/replay.md, "Downstream of the book".
cimport cython


cdef class EventClock:
    cdef public object _ns
    cdef public list _heap
    cdef public object _seq
    cdef dict __dict__

    cpdef object now_ns(self)

    @cython.locals(heap=list)
    cpdef bint step(self, object ns)
