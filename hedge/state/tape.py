"""The order tape: one readable log line per order sent, per fill, and per burst of vetoes.

Owns: ``OrderTape``, a bus subscriber that tells the daemon's terminal what it trades:
- an order:  ``order BTCUSDT BUY 0.001 LIMIT @ 63958.4 GTX (micro_scalper: entry) cid=...``
- a fill:    ``fill BTCUSDT BUY 0.001 @ 63958.4 maker fee 0.0064 USDT; position +0.001; realized +0.00``
- vetoes, summed and said at most once per ``window_s``:
  ``vetoes in the last 60 s: cooloff 12, min_notional 3`` (``run()`` says a burst's tail when
  no veto follows it; a stop says what is left).
Trading state changes are logged by the risk stage's state machine (one WARNING line each).
The daemon attaches it (``hedge.daemon.wiring``); a replay does not (its summary reports).

Design: every handler first asks ``log.isEnabledFor(INFO)`` and does nothing more when it is
off; the intents' reasons are remembered (bounded) only then. The position after a fill is the
ledger's (``LedgerPosition``) before it plus the fill: the bus delivers a fill to every handler
before the ledger line it causes.

Must never: print, decide or publish anything, or log a key or signature (it sees none).
"""

from __future__ import annotations

import asyncio
import logging

from hedge.bus import Bus
from hedge.events import Fill, LedgerPosition, OrderIntent, OrderRequest, OrderType, RiskDecision, Side
from hedge.model.clock import Clock

log = logging.getLogger("hedge.tape")

VETO_WINDOW_S = 60.0
_INTENT_MEMORY = 1024  # the newest intents, remembered for their reason


class OrderTape:
    """See the module docstring. ``run()`` (a service) says a veto burst's tail when no veto follows."""

    name = "order-tape"

    def __init__(self, bus: Bus, clock: Clock, *, window_s: float = VETO_WINDOW_S) -> None:
        self.clock = clock
        self.window_ns = int(window_s * 1e9)
        self._why: dict[str, str] = {}  # intent id -> "strategy: reason"
        self._position: dict[str, float] = {}  # the ledger's, by symbol
        self._vetoes: dict[str, int] = {}
        self._vetoes_since_ns = 0
        bus.subscribe(OrderIntent, self.on_intent)
        bus.subscribe(OrderRequest, self.on_request)
        bus.subscribe(Fill, self.on_fill)
        bus.subscribe(LedgerPosition, self.on_ledger)
        bus.subscribe(RiskDecision, self.on_decision)

    def on_intent(self, ev: OrderIntent) -> None:
        if log.isEnabledFor(logging.INFO):
            why = self._why
            if len(why) >= _INTENT_MEMORY:
                del why[next(iter(why))]
            why[ev.intent_id] = ev.reason if ev.reason.startswith(ev.strategy) else f"{ev.strategy}: {ev.reason}"

    def on_request(self, r: OrderRequest) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        if r.type is OrderType.LIMIT:
            what = f"{r.qty:g} LIMIT @ {r.price:g} {r.tif.value}"
        elif r.stop_price > 0.0:
            what = f"{'all' if r.close_position else f'{r.qty:g}'} {r.type.value} trigger {r.stop_price:g}"
        else:
            what = f"{r.qty:g} {r.type.value}"
        why = self._why.get(r.intent_id, "")  # every order of the intent (repriced, taker fallback) says it
        log.info("order %s %s %s%s%s cid=%s", r.symbol, r.side.value, what, " reduce-only" if r.reduce_only else "",
                 f" ({why})" if why else "", r.client_order_id)

    def on_ledger(self, ev: LedgerPosition) -> None:
        self._position[ev.symbol] = ev.qty

    def on_fill(self, f: Fill) -> None:
        after = self._position.get(f.symbol, 0.0) + (f.qty if f.side is Side.BUY else -f.qty)
        self._position[f.symbol] = after
        if not log.isEnabledFor(logging.INFO):
            return
        kind = "liquidation" if f.liquidation else "maker" if f.maker else "taker"
        log.info("fill %s %s %g @ %g %s fee %.4g %s; position %+g; realized %+.2f cid=%s", f.symbol, f.side.value,
                 f.qty, f.price, kind, f.fee, f.fee_asset, round(after, 12), f.realized_pnl, f.client_order_id)

    def on_decision(self, d: RiskDecision) -> None:
        if d.allow or not log.isEnabledFor(logging.INFO):
            return
        now = self.clock.now_ns()
        vetoes = self._vetoes
        if not vetoes:
            self._vetoes_since_ns = now
        for reason in d.reasons or ("unspecified",):
            vetoes[reason] = vetoes.get(reason, 0) + 1
        self.say_vetoes(now)

    def say_vetoes(self, now_ns: int, *, force: bool = False) -> None:
        """The vetoes counted since the burst began, once it is ``window_s`` old (or now, ``force``)."""
        if not self._vetoes or (not force and now_ns - self._vetoes_since_ns < self.window_ns):
            return
        ranked = sorted(self._vetoes.items(), key=lambda kv: (-kv[1], kv[0]))
        log.info("vetoes in the last %.0f s: %s", (now_ns - self._vetoes_since_ns) * 1e-9,
                 ", ".join(f"{k} {n}" for k, n in ranked))
        self._vetoes = {}

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(self.window_ns * 1e-9 / 4)
                self.say_vetoes(self.clock.now_ns())
        finally:
            self.say_vetoes(self.clock.now_ns(), force=True)
