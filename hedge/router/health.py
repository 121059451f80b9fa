"""Router health: per-symbol and overall execution quality, turned into ``RouterHealth`` events.

Owns: the counters and samples behind maker fill ratio, fallback rate, reject rate, post-only
rejects, slippage vs the arrival mid, REST ack latency p50/p95 (over the last ``window`` acks per
symbol), and the gauges of open and unknown orders (given by the router when it publishes).

Must never: block or log per event; it is updated synchronously by the router.
"""

from __future__ import annotations

import time
from collections import deque

from hedge.events import RouterHealth


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; 0.0 for no samples."""
    if not samples:
        return 0.0
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


class SymbolHealth:
    __slots__ = (
        "ack_ms",
        "denied",
        "executions",
        "fallbacks",
        "filled_qty",
        "maker_filled_qty",
        "orders",
        "post_only_rejects",
        "rejects",
        "slices",
        "slip_bps_sum",
        "slip_n",
    )

    def __init__(self, window: int) -> None:
        self.executions = 0
        self.slices = 0
        self.fallbacks = 0
        self.orders = 0
        self.rejects = 0
        self.post_only_rejects = 0
        self.denied = 0
        self.filled_qty = 0.0
        self.maker_filled_qty = 0.0
        self.slip_bps_sum = 0.0
        self.slip_n = 0
        self.ack_ms: deque[float] = deque(maxlen=window)


class RouterHealthBook:
    def __init__(self, window: int = 1000) -> None:
        self.window = window
        self.symbols: dict[str, SymbolHealth] = {}

    def __getitem__(self, symbol: str) -> SymbolHealth:
        h = self.symbols.get(symbol)
        if h is None:
            h = self.symbols[symbol] = SymbolHealth(self.window)
        return h

    def event(self, symbol: str, *, open_orders: int, unknown_orders: int) -> RouterHealth:
        """``symbol``'s figures, or (``symbol`` "") every symbol's together. The gauges are the caller's."""
        hs = [self[symbol]] if symbol else list(self.symbols.values())
        filled = sum(h.filled_qty for h in hs)
        slices = sum(h.slices for h in hs)
        orders = sum(h.orders for h in hs)
        slip_n = sum(h.slip_n for h in hs)
        acks = [a for h in hs for a in h.ack_ms]
        return RouterHealth(
            open_orders=open_orders,
            unknown_orders=unknown_orders,
            post_only_rejects=sum(h.post_only_rejects for h in hs),
            taker_fallbacks=sum(h.fallbacks for h in hs),
            avg_slippage_bps=sum(h.slip_bps_sum for h in hs) / slip_n if slip_n else 0.0,
            symbol=symbol,
            executions=sum(h.executions for h in hs),
            orders=orders,
            maker_fill_ratio=sum(h.maker_filled_qty for h in hs) / filled if filled > 0 else 0.0,
            fallback_rate=sum(h.fallbacks for h in hs) / slices if slices else 0.0,
            reject_rate=sum(h.rejects for h in hs) / orders if orders else 0.0,
            ack_p50_ms=percentile(acks, 0.50),
            ack_p95_ms=percentile(acks, 0.95),
            denied=sum(h.denied for h in hs),
            recv_ns=time.time_ns(),
        )
