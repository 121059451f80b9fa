"""What the router's end-to-end tests feed it in place of the feeds and the risk stage: a top of book
and an approved intent, both stamped now."""

from __future__ import annotations

import time

from hedge.events import BookUpdate, OrderIntent, RiskDecision, Side


def top_of_book(symbol: str, bid: float, ask: float, *, mid: float = 0.0, bid_qty: float = 1.0,
                ask_qty: float = 1.0) -> BookUpdate:
    """A valid book at ``bid``/``ask`` (``mid`` defaults to their middle)."""
    mid = mid or (bid + ask) / 2
    return BookUpdate(symbol=symbol, update_id=1, valid=True, bid_px=bid, bid_qty=bid_qty, ask_px=ask,
                      ask_qty=ask_qty, mid=mid, micro=mid, imbalance=0.0, spread_bps=abs(ask - bid) / mid * 1e4,
                      recv_ns=time.time_ns())


def approval(symbol: str, intent_id: str, side: Side, notional: float, *, strategy: str, urgent: bool) -> RiskDecision:
    """The risk stage's allow (max_qty 1.0) of a fresh intent."""
    intent = OrderIntent(intent_id=intent_id, symbol=symbol, side=side, notional=notional, strategy=strategy,
                         reason="test", urgent=urgent, recv_ns=time.time_ns())
    return RiskDecision(intent=intent, allow=True, max_qty=1.0)
