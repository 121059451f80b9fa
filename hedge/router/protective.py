"""Protective stops: the router's book of the STOP_MARKET orders that rest at the exchange for each
position (feature ``exchange_stop_orders``), so that a dead process still has its stop-loss.

Owns: which protective stop is live per symbol, the replacement waiting for the old one to be
cancelled, and the rule "never two live protective stops per symbol".

Policy (the router applies it; the portfolio decides the levels and sends approved intents):
- An approved intent with ``stop_price > 0`` becomes ONE ``STOP_MARKET`` with
  ``closePosition=true`` (no quantity: it closes whatever the position is when it fires and can
  never open or flip one; risk does not count it as working quantity, so it never blocks the
  scanner's own exits). The stop is rounded to the tick away from the market (a long's stop
  down, a short's up: never tighter than asked, so never an instant -2021 from rounding).
- Replacing: the live stop is cancelled first; the new one is placed only once the cancel is
  confirmed (CANCELED or proven absent). If the old one filled meanwhile (it fired), the
  replacement is dropped: the position is closed. So two protective stops are never live at once;
  the short gap between cancel and placement is the price of that rule.
- A ``Position`` of 0 (the exchange's word) cancels the symbol's protective stop.
- A live engine STOP_MARKET the router does not know (found by reconciliation after a restart)
  is adopted as the symbol's protective stop; a second one is cancelled.
- Halt: ``Router.halt`` leaves protective stops resting (they only ever reduce risk); the kill
  switch's ``CancelAll`` cancels every order of the venue, protective stops included, as the
  operator asked.

Must never: hold two live protective stops for one symbol, or place one without an approval.
"""

from __future__ import annotations

from hedge.events import OrderRequest


class ProtectiveStops:
    """Per-symbol state of the protective stops (owned and driven by the router)."""

    def __init__(self) -> None:
        self.live: dict[str, str] = {}  # symbol -> client order id of its protective stop (not final)
        self.queued: dict[str, OrderRequest] = {}  # symbol -> replacement waiting for the cancel
        self.cids: set[str] = set()  # every protective stop not yet final
        self.placed = 0
        self.replaced = 0
        self.cancelled = 0

    def owns(self, cid: str) -> bool:
        return cid in self.cids

    def track(self, symbol: str, cid: str) -> None:
        self.live[symbol] = cid
        self.cids.add(cid)

    def closed(self, symbol: str, cid: str) -> OrderRequest | None:
        """``cid`` reached a final state; the replacement to place now, if one waits."""
        self.cids.discard(cid)
        if self.live.get(symbol) == cid:
            del self.live[symbol]
        return self.queued.pop(symbol, None)
