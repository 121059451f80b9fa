# Augmenting declarations of hedge/bus.py for the compiled build (setup.py HOT_MODULES): the .py stays
# plain Python and the reference (HEDGE_PURE=1). Compiled, the route and the bus are cdef classes: the
# per-event dispatch (``publish``: the route's lookup, count, handler tuple and flags; ``publish_needed``,
# asked for every bookTicker) reads C fields instead of generic attribute lookups. The handlers, events
# and inboxes stay Python objects: what runs and in which order is the .py's. docs/replay.md.
cimport cython


cdef class _Route:
    cdef public object name
    cdef public Py_ssize_t count
    cdef public tuple handlers
    cdef public tuple inboxes
    cdef public dict keyed_handlers
    cdef public dict keyed_inboxes
    cdef public tuple blocking
    cdef public dict by_symbol
    cdef public bint rest
    cdef public bint needed
    cdef public tuple urgent
    cdef public tuple observers


cdef class _Deferred:
    cdef public object event
    cdef public _Route route
    cdef public list published


cdef class Bus:
    cdef public list _subs
    cdef public dict _routes
    cdef public list _stages
    cdef public object _pending
    cdef public bint _dispatching
    cdef public bint _lanes
    cdef public object _urgent
    cdef public object _capture
    cdef public bint _running
    cdef public dict _folded
    cdef public dict handler_errors
    cdef public dict _last_error_log
    cdef public object _timed
    cdef public object _time_every
    cdef public object _time_left
    cdef public object _observe
    cdef public bint timing
    cdef dict __dict__

    @cython.locals(route=_Route, routes=dict, handlers=tuple, timed=bint, lanes=bint)
    cpdef publish(self, event)

    @cython.locals(route=_Route)
    cpdef _queue(self, event)

    @cython.locals(item=_Deferred)
    cpdef _run_urgent(self)

    @cython.locals(route=_Route, slot=Py_ssize_t)
    cpdef _deliver_deferred(self, _Deferred item)

    @cython.locals(route=_Route)
    cpdef bint publish_needed(self, etype)

    @cython.locals(route=_Route)
    cpdef bint wants(self, etype)
