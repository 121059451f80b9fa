# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""One symbol's L2 order book, compiled: the same ``OrderBook`` as hedge/feeds/book.py on C data.

Owns: the compiled twin of hedge/feeds/book.py (same names, same queries, bit-identical results:
read that module's docstring for the contract); book.py stays the reference (``HEDGE_PURE=1``).

Design: each side is an open-addressing hash table of C doubles, price -> quantity (linear probing,
backward-shift deletion, at most half full; an empty slot has quantity 0, a stored level never
does), plus a sorted C array of the best ``WINDOW`` keys (``sign * price`` ascending, best last;
bids +price, asks -price) as in book.py: a level near the touch is a binary search and a short
``memmove``, a far one (the rest of the book, all below the array) only a hash store; past the
window the worst half is dropped from the array (still in the table), below ``WINDOW // 16`` (or
when ``top(n)`` wants more) the best far keys are found by one pass over the table and a sort. A
diff's side that comes as compiled ``Levels`` (hedge/feeds/levels.pyx: the codec's parsed levels,
the Parquet reader's views) is applied with a C loop over its doubles, no Python object per level;
any other iterable of (px, qty) pairs takes the generic path (each pair converted to doubles).
Sums (imbalance, touch) add the top ``n`` quantities in book.py's order (from the n-th best to
the best), so the floats are the same. Measured: docs/performance.md (scripts/bench_book.py).

Must never: know about synchronisation, the bus or a wire format; give a result book.py would not.
"""

from libc.stdlib cimport malloc, realloc, free, qsort
from libc.string cimport memmove, memcpy, memset
from libc.stdint cimport uint64_t

from hedge.feeds.levels cimport Levels

WINDOW = 1024  # near keys kept sorted at most (a spill leaves half); see book.py's docstring


cdef inline uint64_t _bits(double x) nogil:
    cdef double y = x + 0.0  # -0.0 and 0.0 are one key, as in a dict
    cdef uint64_t u
    memcpy(&u, &y, 8)
    return u


cdef int _cmp(const void* a, const void* b) noexcept nogil:
    cdef double x = (<const double*> a)[0]
    cdef double y = (<const double*> b)[0]
    return (x > y) - (x < y)


cdef class _Side:
    """One side: price -> qty in a C hash table; the best keys sorted in a C array (best last)."""
    cdef double sign
    cdef double* hpx
    cdef double* hqty
    cdef Py_ssize_t cap, mask, count
    cdef int shift
    cdef double* keys
    cdef Py_ssize_t nk, kcap
    cdef Py_ssize_t high, low

    def __cinit__(self, double sign, Py_ssize_t window):
        self.sign = sign
        self.high = max(2, window)
        self.low = max(1, window // 16)
        self._alloc(64)
        self.kcap = self.high + 1
        self.keys = <double*> malloc(self.kcap * sizeof(double))
        if self.keys == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.hpx)
        free(self.hqty)
        free(self.keys)

    cdef int _alloc(self, Py_ssize_t cap) except -1:
        cdef int shift = 64
        cdef Py_ssize_t c = cap
        while c > 1:
            c >>= 1
            shift -= 1
        self.hpx = <double*> malloc(cap * sizeof(double))
        self.hqty = <double*> malloc(cap * sizeof(double))
        if self.hpx == NULL or self.hqty == NULL:
            raise MemoryError()
        memset(self.hqty, 0, cap * sizeof(double))
        self.cap = cap
        self.mask = cap - 1
        self.shift = shift
        self.count = 0
        return 0

    cdef inline Py_ssize_t _home(self, double px) noexcept nogil:
        return <Py_ssize_t> ((_bits(px) * <uint64_t> 0x9E3779B97F4A7C15) >> self.shift)

    cdef inline Py_ssize_t _find(self, double px) noexcept nogil:
        """The slot of ``px``, or -1."""
        cdef Py_ssize_t i = self._home(px)
        while self.hqty[i] != 0.0:
            if self.hpx[i] == px:
                return i
            i = (i + 1) & self.mask
        return -1

    cdef int _grow(self) except -1:
        cdef double* opx = self.hpx
        cdef double* oqty = self.hqty
        cdef Py_ssize_t ocap = self.cap, i
        self._alloc(2 * ocap)
        for i in range(ocap):
            if oqty[i] != 0.0:
                self._put(opx[i], oqty[i])
        free(opx)
        free(oqty)
        return 0

    cdef inline bint _put(self, double px, double q) noexcept nogil:
        """Set ``px``'s quantity (q > 0); True when the level is new. The table has room."""
        cdef Py_ssize_t i = self._home(px)
        while self.hqty[i] != 0.0:
            if self.hpx[i] == px:
                self.hqty[i] = q
                return False
            i = (i + 1) & self.mask
        self.hpx[i] = px
        self.hqty[i] = q
        self.count += 1
        return True

    cdef inline bint _drop(self, double px) noexcept nogil:
        """Remove ``px``; True when it was there (backward-shift deletion keeps probes short)."""
        cdef Py_ssize_t i = self._find(px), j, h
        if i < 0:
            return False
        j = i
        while True:
            j = (j + 1) & self.mask
            if self.hqty[j] == 0.0:
                break
            h = self._home(self.hpx[j])
            if (i <= j and i < h <= j) or (i > j and (i < h or h <= j)):
                continue  # its home is between the hole and it: it stays
            self.hpx[i] = self.hpx[j]
            self.hqty[i] = self.hqty[j]
            i = j
        self.hqty[i] = 0.0
        self.count -= 1
        return True

    cdef inline Py_ssize_t _bisect(self, double k) noexcept nogil:
        """bisect_left of ``k`` in the sorted keys."""
        cdef Py_ssize_t lo = 0, hi = self.nk, mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.keys[mid] < k:
                lo = mid + 1
            else:
                hi = mid
        return lo

    cdef inline int _set(self, double px, double q) except -1:
        cdef double k
        cdef Py_ssize_t at
        if q > 0.0:
            if 2 * (self.count + 1) > self.cap:
                self._grow()
            if self._put(px, q):
                k = self.sign * px
                if self.nk and k > self.keys[0]:
                    if self.nk == self.kcap:
                        self._reserve(self.nk + 1)
                    at = self._bisect(k)
                    memmove(self.keys + at + 1, self.keys + at, (self.nk - at) * sizeof(double))
                    self.keys[at] = k
                    self.nk += 1
        elif self._drop(px):
            k = self.sign * px
            if self.nk and k >= self.keys[0]:
                at = self._bisect(k)
                memmove(self.keys + at, self.keys + at + 1, (self.nk - at - 1) * sizeof(double))
                self.nk -= 1
        return 0

    cdef int _reserve(self, Py_ssize_t n) except -1:
        cdef double* block
        if n > self.kcap:
            block = <double*> realloc(self.keys, n * sizeof(double))
            if block == NULL:
                raise MemoryError()
            self.keys = block
            self.kcap = n
        return 0

    cdef int _apply_all(self, levels) except -1:
        cdef Levels lv
        cdef Py_ssize_t i, s
        if type(levels) is Levels:
            lv = <Levels> levels
            s = lv.stride
            for i in range(lv.n):
                self._set(lv.px[i * s], lv.qty[i * s])
        else:
            for px, q in levels:
                self._set(px, q)
        return 0

    cdef int load(self, levels) except -1:
        free(self.hpx)
        free(self.hqty)
        self.hpx = NULL
        self.hqty = NULL
        self._alloc(64)
        self.nk = 0
        self._apply_all(levels)  # in order: a repeated price's last quantity wins
        self.fill(self.high // 2)
        return 0

    cdef int apply(self, levels) except -1:
        cdef Py_ssize_t cut
        self._apply_all(levels)
        if self.nk > self.high:
            cut = self.nk - self.high // 2
            memmove(self.keys, self.keys + cut, (self.nk - cut) * sizeof(double))
            self.nk -= cut
        elif self.nk < self.low and self.count > self.nk:
            self.fill(self.low)
        return 0

    cdef int fill(self, Py_ssize_t n) except -1:
        """Move the best far keys in front of ``keys`` until it holds ``n`` (or none is far)."""
        cdef Py_ssize_t far = self.count - self.nk, want, i, m = 0
        cdef double k, floor
        cdef double* tmp
        if far <= 0:
            return 0
        want = min(max(n - self.nk, self.high // 2), far)
        tmp = <double*> malloc(far * sizeof(double))
        if tmp == NULL:
            raise MemoryError()
        floor = self.keys[0] if self.nk else 0.0
        for i in range(self.cap):
            if self.hqty[i] != 0.0:
                k = self.sign * self.hpx[i]
                if not self.nk or k < floor:
                    tmp[m] = k
                    m += 1
        qsort(tmp, m, sizeof(double), _cmp)
        self._reserve(self.nk + want)
        memmove(self.keys + want, self.keys, self.nk * sizeof(double))
        memcpy(self.keys, tmp + m - want, want * sizeof(double))
        self.nk += want
        free(tmp)
        return 0

    cdef inline double qty_at(self, double px) noexcept nogil:
        cdef Py_ssize_t i = self._find(px)
        return self.hqty[i] if i >= 0 else 0.0

    cdef object best(self):
        cdef double px
        if not self.nk:
            return None
        px = self.sign * self.keys[self.nk - 1]
        return (px, self.qty_at(px))

    cdef list top(self, Py_ssize_t n):
        cdef Py_ssize_t i, lo
        cdef double px
        if n > self.nk and self.count > self.nk:
            self.fill(n)
        out = []
        if n <= 0:
            return out
        lo = max(self.nk - n, 0)
        for i in range(self.nk - 1, lo - 1, -1):
            px = self.sign * self.keys[i]
            out.append((px, self.qty_at(px)))
        return out

    cdef inline double tail(self, Py_ssize_t lo) noexcept nogil:
        """The quantities of ``keys[lo:]`` added from the worst to the best (book.py's order)."""
        cdef Py_ssize_t i
        cdef double v = 0.0
        for i in range(lo, self.nk):
            v += self.qty_at(self.sign * self.keys[i])
        return v

    cdef double volume(self, Py_ssize_t n) except? -1.0:
        if n > self.nk and self.count > self.nk:
            self.fill(n)
        return self.tail(max(self.nk - n, 0)) if n > 0 else 0.0


cdef class OrderBook:
    """L2 book of one symbol (hedge/feeds/book.py has the contract)."""
    cdef readonly _Side _bids
    cdef readonly _Side _asks

    def __init__(self, Py_ssize_t window=WINDOW):
        self._bids = _Side(1.0, window)
        self._asks = _Side(-1.0, window)

    def apply_snapshot(self, bids, asks):
        """Replace every level (levels with qty 0 are ignored)."""
        self._bids.load(bids)
        self._asks.load(asks)

    def apply(self, bids, asks):
        """Set absolute quantities; qty 0 removes the level (absent levels are fine)."""
        self._bids.apply(bids)
        self._asks.apply(asks)

    def clear(self):
        self.apply_snapshot((), ())

    def best_bid(self):
        return self._bids.best()

    def best_ask(self):
        return self._asks.best()

    def bids(self, Py_ssize_t n):
        """The best ``n`` bids, best (highest) first."""
        return self._bids.top(n)

    def asks(self, Py_ssize_t n):
        """The best ``n`` asks, best (lowest) first."""
        return self._asks.top(n)

    def bid_qty(self, double px):
        """Quantity at bid price ``px`` (0.0 when there is no level)."""
        return self._bids.qty_at(px)

    def ask_qty(self, double px):
        """Quantity at ask price ``px`` (0.0 when there is no level)."""
        return self._asks.qty_at(px)

    def depth(self):
        """Number of (bid, ask) levels."""
        return self._bids.count, self._asks.count

    def is_crossed(self):
        """True when both sides exist and best bid >= best ask."""
        cdef _Side b = self._bids, a = self._asks
        return bool(b.nk and a.nk and b.keys[b.nk - 1] >= -a.keys[a.nk - 1])

    def imbalance(self, Py_ssize_t n):
        """(bid - ask) / (bid + ask) volume over the top ``n`` levels of each side, in [-1, 1]."""
        cdef double b = self._bids.volume(n)
        cdef double a = self._asks.volume(n)
        cdef double tot = b + a
        return (b - a) / tot if tot > 0.0 else 0.0

    def touch(self, Py_ssize_t n):
        """(bid_px, bid_qty, ask_px, ask_qty, top-n imbalance) in one pass; None if a side is empty."""
        cdef _Side bs = self._bids, as_ = self._asks
        cdef double bpx, apx, bv, av, tot
        if n > bs.nk and bs.count > bs.nk:
            bs.fill(n)
        if n > as_.nk and as_.count > as_.nk:
            as_.fill(n)
        if not bs.nk or not as_.nk:
            return None
        bpx = bs.keys[bs.nk - 1]
        apx = -as_.keys[as_.nk - 1]
        # book.py sums ``keys[-n:]``: for n <= 0 that slice is keys[0:] or keys[-n:], kept as is
        bv = bs.tail(max(bs.nk - n, 0) if n > 0 else min(-n, bs.nk))
        av = as_.tail(max(as_.nk - n, 0) if n > 0 else min(-n, as_.nk))
        tot = bv + av
        return (bpx, bs.qty_at(bpx), apx, as_.qty_at(apx), (bv - av) / tot if tot > 0.0 else 0.0)

    def micro_price(self):
        """Size-weighted mid: (bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty); 0 if a side is empty."""
        cdef _Side b = self._bids, a = self._asks
        cdef double bp, bq, ap, aq
        if not b.nk or not a.nk:
            return 0.0
        bp = b.keys[b.nk - 1]
        ap = -a.keys[a.nk - 1]
        bq = b.qty_at(bp)
        aq = a.qty_at(ap)
        return (bp * aq + ap * bq) / (bq + aq)
