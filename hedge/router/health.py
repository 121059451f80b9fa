"""Router health: per-symbol execution quality, turned into ``RouterHealth`` events.

Owns: the counters and samples behind maker fill ratio, fallback rate, reject rate, slippage vs
the arrival mid, fill rate, TWAP use and REST ack latency p50/p95 (over the last ``window`` acks),
the symbol's liquidity bucket, and ``quality``: one 0..1 score of them all.

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


QUALITY_WEIGHTS = {"fill_rate": 0.3, "cost": 0.3, "maker_share": 0.15, "no_fallback": 0.15, "no_reject": 0.1}


def quality(*, fill_rate: float, maker_share: float, fallback_rate: float, reject_rate: float, slippage_bps: float,
            budget_bps: float) -> float:
    """0..1: the weighted mean of the fill rate, the cost score (1 at or below the arrival mid, 0 at
    the slippage budget or beyond), the maker share, 1 - fallback rate and 1 - reject rate."""
    cost = min(1.0, max(0.0, 1.0 - max(0.0, slippage_bps) / budget_bps)) if budget_bps > 0 else 1.0
    w = QUALITY_WEIGHTS
    return (w["fill_rate"] * fill_rate + w["cost"] * cost + w["maker_share"] * maker_share
            + w["no_fallback"] * (1.0 - fallback_rate) + w["no_reject"] * (1.0 - reject_rate))


class SymbolHealth:
    __slots__ = (
        "ack_ms",
        "budget_bps",
        "denied",
        "executions",
        "fallbacks",
        "filled_qty",
        "liquidity",
        "maker_filled_qty",
        "orders",
        "rejects",
        "slices",
        "slip_bps_sum",
        "slip_n",
        "symbol",
        "twap_executions",
        "unknown",
        "wanted_qty",
    )

    def __init__(self, symbol: str, window: int, budget_bps: float = 0.0) -> None:
        self.symbol = symbol
        self.liquidity = ""
        self.budget_bps = budget_bps
        self.twap_executions = 0
        self.wanted_qty = 0.0  # of the finished executions
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
        maker = self.maker_filled_qty / self.filled_qty if self.filled_qty > 0 else 0.0
        fallback = self.fallbacks / self.slices if self.slices else 0.0
        reject = self.rejects / self.orders if self.orders else 0.0
        slip = self.slip_bps_sum / self.slip_n if self.slip_n else 0.0
        fill_rate = min(1.0, self.filled_qty / self.wanted_qty) if self.wanted_qty > 0 else 0.0
        return RouterHealth(
            symbol=self.symbol,
            executions=self.executions,
            orders=self.orders,
            maker_fill_ratio=maker,
            fallback_rate=fallback,
            reject_rate=reject,
            slippage_bps=slip,
            ack_p50_ms=percentile(acks, 0.50),
            ack_p95_ms=percentile(acks, 0.95),
            denied=self.denied,
            unknown=self.unknown,
            liquidity=self.liquidity,
            fill_rate=fill_rate,
            twap_executions=self.twap_executions,
            quality=quality(fill_rate=fill_rate, maker_share=maker, fallback_rate=fallback, reject_rate=reject,
                            slippage_bps=slip, budget_bps=self.budget_bps) if self.executions else 0.0,
            recv_ns=now_ns,
        )


class RouterHealthBook:
    def __init__(self, window: int = 1000, budget_bps: float = 0.0) -> None:
        self.window = window
        self.budget_bps = budget_bps  # router.slippage_budget_bps: the cost score's zero
        self.symbols: dict[str, SymbolHealth] = {}

    def __getitem__(self, symbol: str) -> SymbolHealth:
        h = self.symbols.get(symbol)
        if h is None:
            h = self.symbols[symbol] = SymbolHealth(symbol, self.window, self.budget_bps)
        return h
