"""Router health: per-symbol execution quality, turned into ``RouterHealth`` events.

Owns: the counters and samples behind maker fill ratio, fallback rate, reject rate, slippage vs
the arrival mid, and REST ack latency p50/p95 (over the last ``window`` acks).

Must never: block or log per event; it is updated synchronously by the router.
"""

from __future__ import annotations

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
        "rejects",
        "slices",
        "slip_bps_sum",
        "slip_n",
        "symbol",
        "unknown",
    )

    def __init__(self, symbol: str, window: int) -> None:
        self.symbol = symbol
        self.executions = 0
        self.slices = 0
        self.fallbacks = 0
        self.orders = 0
        self.rejects = 0
        self.denied = 0
        self.unknown = 0
        self.filled_qty = 0.0
        self.maker_filled_qty = 0.0
        self.slip_bps_sum = 0.0
        self.slip_n = 0
        self.ack_ms: deque[float] = deque(maxlen=window)

    def event(self, now_ns: int) -> RouterHealth:
        acks = list(self.ack_ms)
        return RouterHealth(
            symbol=self.symbol,
            executions=self.executions,
            orders=self.orders,
            maker_fill_ratio=self.maker_filled_qty / self.filled_qty if self.filled_qty > 0 else 0.0,
            fallback_rate=self.fallbacks / self.slices if self.slices else 0.0,
            reject_rate=self.rejects / self.orders if self.orders else 0.0,
            slippage_bps=self.slip_bps_sum / self.slip_n if self.slip_n else 0.0,
            ack_p50_ms=percentile(acks, 0.50),
            ack_p95_ms=percentile(acks, 0.95),
            denied=self.denied,
            unknown=self.unknown,
            recv_ns=now_ns,
        )


class RouterHealthBook:
    def __init__(self, window: int = 1000) -> None:
        self.window = window
        self.symbols: dict[str, SymbolHealth] = {}

    def __getitem__(self, symbol: str) -> SymbolHealth:
        h = self.symbols.get(symbol)
        if h is None:
            h = self.symbols[symbol] = SymbolHealth(symbol, self.window)
        return h
