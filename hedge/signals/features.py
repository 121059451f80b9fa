"""Per-symbol microstructure features, updated in place on every BookUpdate, Trade and MarkPrice.

Owns: one mutable ``SymbolFeatures`` per symbol (book top, imbalance, micro-price, spread, trade
flow, absorption, realized volatility and its regime, funding and basis) and the ``Features``
snapshot event built from it.

Design: the hot path mutates a ``__slots__`` object and allocates nothing per book tick; a
frozen ``Features`` event is built only when someone asks (the stage publishes it at most every
``signals.publish_every_ms`` per symbol). A trade only enters the flow window; the flow
imbalance and absorption are refreshed on the next book tick, where strategies read them (the
mid they are measured against moves only then). The top-N book imbalance arrives computed by
the book (``BookUpdate.imbalance``, N = ``feeds.imbalance_levels`` = ``signals.imbalance_levels``).
All times are exchange event times, so replays are deterministic.

Compiled (setup.py HOT_MODULES), ``features.pxd`` declares ``SymbolFeatures`` and ``FeatureEngine``
as cdef classes (prices and figures C doubles, times, ids and the regime Python objects) and the
volatility and flow state typed too (their ``.pxd``): the per-tick writes are C stores and the calls
C calls. Untyped, this module ran ~20% slower compiled than pure (3.11 specializes ``__slots__``
reads, Cython's generic attribute access does not); typed, the stage's features are ~1.8x faster
than before (docs/signals.md "Cost per tick"). Pure-Python readers of a typed state pay a little
more per field read (a float boxed), so the strategies' scorers are typed as well.

Must never: use an invalid book (``valid`` False, or a mid that is not a positive finite number)
to move features, or read the wall clock.
"""

from __future__ import annotations

from hedge.config import SignalParams
from hedge.events import BookUpdate, Features, MarkPrice, Side, Trade, VolRegime
from hedge.signals.flow import TradeFlow
from hedge.signals.microstructure import basis_bps
from hedge.signals.volatility import EwmaVol, classify_regime

_INF = float("inf")
_NORMAL = VolRegime.NORMAL  # enum members read once (compiled: a module global, not a class attribute lookup)
_BUY = Side.BUY


class SymbolFeatures:
    """The live feature state of one symbol (read by strategies; written only by FeatureEngine)."""

    __slots__ = (
        "absorption",
        "ask_px",
        "basis_bps",
        "bid_px",
        "book_imbalance",
        "flow",
        "flow_imbalance",
        "funding_rate",
        "micro",
        "mid",
        "recv_ns",
        "regime",
        "spread_bps",
        "symbol",
        "ts_ms",
        "update_id",
        "valid",
        "vol",
        "vol_bps",
    )

    def __init__(self, symbol: str, params: SignalParams) -> None:
        self.symbol = symbol
        self.flow = TradeFlow(
            int(params.flow_window_s * 1000), params.absorption_min_flow, params.absorption_max_move_bps
        )
        self.vol = EwmaVol(params.vol_halflife_s)
        self.valid = False
        self.update_id = 0
        self.ts_ms = 0
        self.recv_ns = 0
        self.bid_px = 0.0
        self.ask_px = 0.0
        self.mid = 0.0
        self.micro = 0.0
        self.spread_bps = 0.0
        self.book_imbalance = 0.0
        self.flow_imbalance = 0.0
        self.absorption = 0.0
        self.vol_bps = 0.0
        self.regime = VolRegime.NORMAL
        self.funding_rate = 0.0
        self.basis_bps = 0.0

    def snapshot(self) -> Features:
        return Features(
            ts_ms=self.ts_ms,
            recv_ns=self.recv_ns,
            symbol=self.symbol,
            mid=self.mid,
            micro=self.micro,
            spread_bps=self.spread_bps,
            book_imbalance=self.book_imbalance,
            flow_imbalance=self.flow_imbalance,
            absorption=self.absorption,
            realized_vol_bps=self.vol_bps,
            regime=self.regime,
            funding_rate=self.funding_rate,
            basis_bps=self.basis_bps,
        )


class FeatureEngine:
    """All symbols' feature states; plain method calls, one per event."""

    def __init__(self, params: SignalParams) -> None:
        self.params = params
        self._low = params.vol_low_bps
        self._high = params.vol_high_bps
        self.states: dict[str, SymbolFeatures] = {}

    def state(self, symbol: str) -> SymbolFeatures:
        st = self.states.get(symbol)
        if st is None:
            st = self.states[symbol] = SymbolFeatures(symbol, self.params)
        return st

    def on_book(self, u: BookUpdate) -> SymbolFeatures:
        st = self.states.get(u.symbol) or self.state(u.symbol)
        st.update_id = u.update_id
        st.recv_ns = u.recv_ns
        mid = u.mid
        if not u.valid or not 0.0 < mid < _INF:  # also refuses NaN
            st.valid = False
            return st
        ts = u.ts_ms
        st.valid = True
        st.ts_ms = ts
        st.bid_px = bid = u.bid_px  # each event field read once (compiled: a generic attribute lookup each)
        st.ask_px = ask = u.ask_px
        st.mid = mid
        # Out-of-range (or NaN) book figures fall back to neutral values: no strategy sees them.
        micro = u.micro
        st.micro = micro if bid <= micro <= ask else mid
        spread = u.spread_bps
        st.spread_bps = spread if 0.0 <= spread < _INF else _INF
        imb = u.imbalance
        st.book_imbalance = imb if -1.0 <= imb <= 1.0 else 0.0
        vol = st.vol
        vol.update(mid, ts)
        st.vol_bps = v = vol.vol_bps
        st.regime = classify_regime(v, self._low, self._high) if vol.warm else _NORMAL
        flow = st.flow
        flow.expire(ts)
        st.flow_imbalance = flow.imbalance
        st.absorption = flow.absorption(mid)
        return st

    def on_trade(self, t: Trade) -> SymbolFeatures:
        st = self.states.get(t.symbol) or self.state(t.symbol)
        ts = t.trade_ms or t.ts_ms
        st.flow.add(ts, t.qty, t.taker_side is _BUY, st.mid)
        return st

    def on_mark(self, m: MarkPrice) -> SymbolFeatures:
        st = self.states.get(m.symbol) or self.state(m.symbol)
        st.funding_rate = m.funding_rate
        st.basis_bps = basis_bps(m.mark_price, m.index_price)
        return st
