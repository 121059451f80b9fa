"""Protective stops: the router's book of the STOP_MARKET orders that rest at the exchange for each
position (feature ``exchange_stop_orders``), so that a dead process still has its stop-loss.

Owns: which protective stop is live per symbol, the replacement waiting for the old one to be
cancelled, the placing, replacing, adopting and cancelling of those orders (through the
``OrderDesk``), and the rule "never two live protective stops per symbol".

Policy (the portfolio decides the levels and sends approved intents):
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
- Halt: the router's halt leaves protective stops resting (they only ever reduce risk); the kill
  switch's ``CancelAll`` cancels every order of the venue, protective stops included, as the
  operator asked.

Must never: hold two live protective stops for one symbol, or place one without an approval.
"""

from __future__ import annotations

import logging

from hedge.events import OrderIntent, OrderRequest, OrderStatus, OrderType, OrderUpdate, TimeInForce
from hedge.model.clock import Clock
from hedge.router.desk import RESTING, OrderDesk
from hedge.router.filters import Denial, Mode, OrderFilter
from hedge.router.halt import Halt
from hedge.router.lifecycle import LiveOrderExists, OrderRecord, client_order_id

log = logging.getLogger(__name__)

S = OrderStatus


class ProtectiveStops:
    """The protective stops of every symbol (see the module docstring)."""

    def __init__(self, desk: OrderDesk, halt: Halt, *, clock: Clock, stop_on_mark: bool) -> None:
        self.desk = desk
        self.halt = halt
        self.clock = clock
        self.stop_on_mark = stop_on_mark
        self.live: dict[str, str] = {}  # symbol -> client order id of its protective stop (not final)
        self.queued: dict[str, OrderRequest] = {}  # symbol -> replacement waiting for the cancel
        self.cids: set[str] = set()  # every protective stop not yet final

    def owns(self, cid: str) -> bool:
        return cid in self.cids

    def _track(self, symbol: str, cid: str) -> None:
        self.live[symbol] = cid
        self.cids.add(cid)

    def _closed(self, symbol: str, cid: str) -> OrderRequest | None:
        """``cid`` reached a final state; the replacement to place now, if one waits."""
        self.cids.discard(cid)
        if self.live.get(symbol) == cid:
            del self.live[symbol]
        return self.queued.pop(symbol, None)

    def protect(self, intent: OrderIntent, filt: OrderFilter | None) -> None:
        """An approved protective stop: place it, or cancel the live one first."""
        desk = self.desk
        iid = intent.intent_id
        desk.remember(iid)
        if filt is None:
            desk.deny(intent, 0.0, intent.stop_price, Denial(filter="INPUT", reason="no exchange filters"))
            return
        # away from the market: a long's (SELL) stop down, a short's (BUY) stop up
        stop = filt.price_of(filt.round_price(intent.side, intent.stop_price, Mode.TAKER))
        req = OrderRequest(
            client_order_id=client_order_id(iid, 0, 0), intent_id=iid, symbol=intent.symbol, side=intent.side,
            type=OrderType.STOP_MARKET, qty=0.0, stop_price=stop, reduce_only=True, close_position=True,
            stop_on_mark=self.stop_on_mark, recv_ns=desk.now_ns(),
        )
        cid = self.live.get(intent.symbol)
        rec = desk.lifecycle.get(cid) if cid is not None else None
        if rec is None or not rec.live:
            self._send(req)
            return
        self.queued[intent.symbol] = req  # the newest level wins; placed once the old stop is gone
        if rec.status in RESTING:
            desk.cancel(rec, "protective stop moved")
        # else: PENDING/UNKNOWN; cancelled by progress once its state is known

    def _send(self, req: OrderRequest) -> None:
        desk = self.desk
        try:
            rec = desk.lifecycle.open(req, now_s=self.clock.now_s())
        except LiveOrderExists as exc:
            log.error("router: %s", exc)
            return
        self._track(req.symbol, req.client_order_id)
        body = desk.journal_request("request", req)
        desk.health[req.symbol].orders += 1
        desk.bus.publish(req)
        desk.send(rec, req, 0, body)

    def on_flat(self, symbol: str) -> None:
        """The exchange reports ``symbol``'s position flat: its protective stop has nothing to protect."""
        self.queued.pop(symbol, None)
        cid = self.live.get(symbol)
        rec = self.desk.lifecycle.get(cid) if cid is not None else None
        if rec is not None and rec.status in RESTING:
            self.desk.cancel(rec, "position closed")

    def adopt(self, u: OrderUpdate) -> None:
        """A resting engine STOP_MARKET found at the exchange (a previous process's protective stop)."""
        rec = OrderRecord(
            client_order_id=u.client_order_id, intent_id=f"adopted-{u.client_order_id}", symbol=u.symbol,
            side=u.side, type=u.type, tif=TimeInForce.GTC, qty=u.qty, price=0.0, reduce_only=True,
            stop_price=u.stop_price, close_position=u.qty == 0.0, status=u.status,
            exchange_order_id=u.exchange_order_id, reason="adopted from the exchange",
        )
        self.desk.lifecycle.adopt(rec)
        current = self.live.get(u.symbol)
        if current is None:
            self._track(u.symbol, rec.client_order_id)
            log.info("router: adopted protective stop %s on %s @ %g", rec.client_order_id, u.symbol, u.stop_price)
            return
        self.cids.add(rec.client_order_id)  # never two: the extra one is cancelled
        log.warning("router: %s already has protective stop %s; cancelling %s", u.symbol, current,
                    rec.client_order_id)
        self.desk.cancel(rec, "second protective stop")

    def progress(self, rec: OrderRecord) -> None:
        desk = self.desk
        cid = rec.client_order_id
        if rec.live:
            if rec.status in RESTING:
                desk.forget_pending(cid)  # acknowledged: reconciliation finds it at the exchange from now on
                if rec.symbol in self.queued or self.live.get(rec.symbol) != cid:
                    desk.cancel(rec, "protective stop moved")
            return
        desk.closed(rec)
        desk.lifecycle.forget(cid)
        nxt = self._closed(rec.symbol, cid)
        if rec.filled_qty > 0.0:
            self.queued.pop(rec.symbol, None)  # it fired: the position is closed
            log.warning("router: protective stop %s on %s fired (%g @ %g)", cid, rec.symbol, rec.filled_qty,
                        rec.avg_price)
        elif nxt is not None and not self.halt.reason:
            self._send(nxt)
