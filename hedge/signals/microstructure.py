"""Pure microstructure formulas on one book's top levels: imbalance, micro-price, spread, basis.

Owns: the arithmetic, each formula in one place, so that the feature engine, the test drivers
and the benchmarks agree to the last bit. Inputs are plain floats (no events, no state).

Must never: allocate per call beyond its result, or know where the numbers came from.
"""

from __future__ import annotations

from collections.abc import Sequence

from hedge.events import Level


def imbalance(bid_qty: float, ask_qty: float) -> float:
    """(bid - ask) / (bid + ask), in [-1, 1]; 0 when both sides are empty."""
    total = bid_qty + ask_qty
    if total <= 0.0:
        return 0.0
    x = (bid_qty - ask_qty) / total
    return 1.0 if x > 1.0 else -1.0 if x < -1.0 else x


def topn_imbalance(bids: Sequence[Level], asks: Sequence[Level], n: int) -> float:
    """Volume imbalance of the best ``n`` levels of each side (levels best-first)."""
    bid_vol = 0.0
    for _, q in bids[:n]:
        bid_vol += q
    ask_vol = 0.0
    for _, q in asks[:n]:
        ask_vol += q
    return imbalance(bid_vol, ask_vol)


def micro_price(bid_px: float, bid_qty: float, ask_px: float, ask_qty: float) -> float:
    """Size-weighted mid: ``(bid * ask_qty + ask * bid_qty) / (bid_qty + ask_qty)``, within [bid, ask].

    A heavy bid pulls the price toward the ask (buyers queue, the next trade is likelier up).
    With both sizes zero it is the plain mid.
    """
    total = bid_qty + ask_qty
    if total <= 0.0:
        return 0.5 * (bid_px + ask_px)
    m = (bid_px * ask_qty + ask_px * bid_qty) / total
    return bid_px if m < bid_px else ask_px if m > ask_px else m


def spread_bps(bid_px: float, ask_px: float) -> float:
    """Quoted spread relative to the mid, in basis points (0 for a non-positive mid)."""
    mid = 0.5 * (bid_px + ask_px)
    if mid <= 0.0:
        return 0.0
    return (ask_px - bid_px) / mid * 1e4


def basis_bps(mark: float, index: float) -> float:
    """Premium of the perpetual's mark over the spot index, in basis points (0 without an index)."""
    if index <= 0.0:
        return 0.0
    return (mark - index) / index * 1e4
