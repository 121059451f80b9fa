# Augmenting declarations of hedge/signals/features.py for the compiled build (setup.py HOT_MODULES):
# the .py stays plain Python and the reference (HEDGE_PURE=1). Compiled, the feature state and the
# engine are cdef classes: the per-tick writes are C stores, the calls into the volatility and flow
# state C calls (their .pxd). Prices and figures are C doubles (the same IEEE values as the Python
# floats); times, ids and the regime stay Python objects. docs/signals.md, "Cost per tick".
cimport cython
from hedge.signals.flow cimport TradeFlow
from hedge.signals.volatility cimport EwmaVol, classify_regime

cdef double _INF  # compared with C doubles: no float boxed per comparison


cdef class SymbolFeatures:
    cdef public double absorption
    cdef public double ask_px
    cdef public double basis_bps
    cdef public double bid_px
    cdef public double book_imbalance
    cdef public TradeFlow flow
    cdef public double flow_imbalance
    cdef public double funding_rate
    cdef public double micro
    cdef public double mid
    cdef public object recv_ns
    cdef public object regime
    cdef public double spread_bps
    cdef public object symbol
    cdef public object ts_ms
    cdef public object update_id
    cdef public bint valid
    cdef public EwmaVol vol
    cdef public double vol_bps


cdef class FeatureEngine:
    cdef public object params
    cdef public double _low
    cdef public double _high
    cdef public dict states

    @cython.locals(st=SymbolFeatures, mid=double, bid=double, ask=double, micro=double, spread=double, imb=double,
                   v=double, vol=EwmaVol, flow=TradeFlow)
    cpdef SymbolFeatures on_book(self, u)

    @cython.locals(st=SymbolFeatures)
    cpdef SymbolFeatures on_trade(self, t)
