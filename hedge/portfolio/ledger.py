"""The position ledger: what hedge knows about each position that the exchange does not keep.

Owns: one ``Entry`` per symbol with an open position — signed quantity, average entry price,
the strategy and reason that opened it (attributed through the order's client order id ->
intent), whether it is ``external`` (not opened by hedge), its exit levels (``ExitLevels``),
realized PnL and fees, and its exit bookkeeping (attempts issued, the live exit intent) — plus
the order tags (client order id -> intent, strategy, reason) and the trade ids already applied.
``LedgerState`` is the whole of it as one Struct: exactly what ``LedgerStore`` persists.

Design:
- Built from ``Fill`` events. A fill in the position's direction (or from flat) grows it at a
  new average entry price (TP and R re-based, the stop never loosened); an opposite fill shrinks
  it and realizes PnL; a fill through zero closes it and opens the remainder at the fill price.
  A fill that carries only the exchange's order id (some trade histories) is matched to its order
  through the exchange ids learnt from ``OrderUpdate``s.
- Every fill with a trade id is applied once: trade ids already applied are remembered per
  symbol (bounded), so the exchange's recent fills can be replayed after a restart or a
  reconnect without counting anything twice.
- A position's ``key`` names it for its whole life: ``t<trade id>`` of the fill that opened it
  (the same after a restart that rebuilt it from the exchange's fills), else ``x<ms>`` for an
  adopted one. Exit intent ids are built from it (see ``hedge.portfolio.scanner``).
- The exchange is authoritative: ``force`` replaces a quantity the exchange proved different.

Must never: do I/O, publish, or decide that a position is flat without a fill or the
exchange's explicit word for it.
"""

from __future__ import annotations

import msgspec

from hedge.config import ExitParams
from hedge.events import Fill, LedgerPosition, OrderIntent, OrderRequest, Position
from hedge.portfolio.exits import ExitKind, ExitLevels, initial_levels, rebase

EXTERNAL = "external"
_TAGS_KEPT = 4096
_TRADES_KEPT = 1024
_INTENTS_KEPT = 4096
QTY_EPS = 1e-12  # a position this small is flat


class Entry(msgspec.Struct, kw_only=True):
    """One open position as the ledger keeps it (mutable; owned by ``Ledger``)."""

    symbol: str
    qty: float  # signed
    entry_price: float
    levels: ExitLevels
    key: str = ""
    strategy: str = ""
    reason: str = ""
    external: bool = False
    opened_ms: int = 0
    realized_pnl: float = 0.0
    fees: float = 0.0
    exit_attempts: int = 0  # exit intents issued for this position so far
    exit_intent: str = ""  # the live exit attempt's intent id ("" = none)
    exit_ms: int = 0  # wall ms of the live exit attempt's last sign of life
    unconfirmed: bool = False  # the exchange did not report the symbol at the last reconciliation
    stop_attempts: int = 0  # protective-stop intents issued for this position so far
    stop_intent: str = ""  # the latest protective-stop intent id ("" = none yet)
    stop_px: float = 0.0  # the stop level it asked for
    stop_ms: int = 0  # wall ms when it was issued
    stop_live: bool = False  # its order rests at the exchange


class OrderTag(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Who an order belongs to: the intent (and strategy) behind it, or ``external``."""

    intent_id: str = ""
    strategy: str = ""
    reason: str = ""
    external: bool = False
    tp_bps: float = 0.0  # the trade's take-profit/stop distances decided with the intent (0 = unknown)
    sl_bps: float = 0.0


class LedgerState(msgspec.Struct, kw_only=True):
    """Everything the ledger persists (logs/state/portfolio_ledger.json)."""

    version: int = 1
    saved_ns: int = 0
    entries: dict[str, Entry] = {}
    tags: dict[str, OrderTag] = {}  # client order id -> tag, newest last
    order_ids: dict[int, str] = {}  # exchange order id -> client order id (fills may carry only the former)
    trades: dict[str, list[int]] = {}  # symbol -> trade ids applied, newest last
    last_fill_ms: dict[str, int] = {}  # symbol -> exchange time of the newest fill applied
    reconciled_ms: int = 0  # when the last successful reconciliation fetched the exchange's view


class Ledger:
    def __init__(self, params: ExitParams, state: LedgerState | None = None) -> None:
        self.params = params
        self.state = state if state is not None else LedgerState()
        self.entries = self.state.entries  # symbol -> Entry (the scanner reads it per tick)
        self._intents: dict[str, OrderTag] = {}
        self._trade_sets = {sym: set(ids) for sym, ids in self.state.trades.items()}

    # ------------------------------------------------------------------ attribution

    def on_intent(self, intent: OrderIntent) -> None:
        """Remember what an intent is for, so its orders' fills can be attributed."""
        self._intents[intent.intent_id] = OrderTag(
            intent_id=intent.intent_id, strategy=intent.strategy, reason=intent.reason,
            tp_bps=intent.tp_bps, sl_bps=intent.sl_bps,
        )
        if len(self._intents) > _INTENTS_KEPT:
            del self._intents[next(iter(self._intents))]

    def on_order(self, req: OrderRequest) -> bool:
        """Tag an order this engine sends; False when it was already tagged."""
        if req.client_order_id in self.state.tags:
            return False
        tag = self._intents.get(req.intent_id) or OrderTag(
            intent_id=req.intent_id, strategy=req.intent_id.partition("-")[0]
        )
        self._tag(req.client_order_id, tag)
        return True

    def tag_external(self, cid: str) -> bool:
        """Tag an order found at the exchange that hedge did not send; False when already known."""
        if cid in self.state.tags:
            return False
        self._tag(cid, OrderTag(strategy=EXTERNAL, external=True))
        return True

    def knows_order(self, cid: str) -> bool:
        return cid in self.state.tags

    def on_exchange_id(self, cid: str, exchange_order_id: int) -> bool:
        """Remember a tagged order's exchange id; True when it was new."""
        ids = self.state.order_ids
        if not exchange_order_id or cid not in self.state.tags or exchange_order_id in ids:
            return False
        ids[exchange_order_id] = cid
        if len(ids) > _TAGS_KEPT:
            del ids[next(iter(ids))]
        return True

    def _tag(self, cid: str, tag: OrderTag) -> None:
        tags = self.state.tags
        tags[cid] = tag
        if len(tags) > _TAGS_KEPT:
            del tags[next(iter(tags))]

    # ------------------------------------------------------------------ fills

    def seen(self, fill: Fill) -> bool:
        """True when this fill (by trade id) was applied already."""
        ids = self._trade_sets.get(fill.symbol)
        return fill.trade_id != 0 and ids is not None and fill.trade_id in ids

    def apply_fill(self, fill: Fill) -> LedgerPosition | None:
        """Apply one fill; the symbol's new ledger line, or None when it was a duplicate or empty."""
        if fill.qty <= 0.0 or fill.price <= 0.0 or self.seen(fill):
            return None
        sym = fill.symbol
        if fill.trade_id:
            self._remember_trade(sym, fill.trade_id)
        last = self.state.last_fill_ms
        if fill.ts_ms > last.get(sym, 0):
            last[sym] = fill.ts_ms
        cid = fill.client_order_id or self.state.order_ids.get(fill.exchange_order_id, "")
        tag = self.state.tags.get(cid)
        signed = fill.qty * fill.side.sign
        e = self.entries.get(sym)
        if e is None:
            self._open(fill, signed, tag)
            return self.event(sym)
        e.fees += fill.fee
        if e.qty * signed > 0.0:  # grows
            new_qty = e.qty + signed
            e.entry_price = (e.entry_price * abs(e.qty) + fill.price * fill.qty) / abs(new_qty)
            e.qty = new_qty
            rebase(e.levels, e.entry_price, self.params)
            return self.event(sym)
        closed = min(fill.qty, abs(e.qty))
        e.realized_pnl += (fill.price - e.entry_price) * closed * (1.0 if e.qty > 0.0 else -1.0)
        rest = e.qty + signed
        if abs(rest) <= QTY_EPS:
            del self.entries[sym]
            return self._closed(e, fill.ts_ms)
        if rest * e.qty > 0.0:
            e.qty = rest
            return self.event(sym)
        del self.entries[sym]  # through zero: the remainder opens a new position at the fill price
        self._open(msgspec.structs.replace(fill, qty=abs(rest), fee=0.0), rest, tag)
        return self.event(sym)

    def _open(self, fill: Fill, signed: float, tag: OrderTag | None) -> None:
        external = tag is None or tag.external
        sign = 1 if signed > 0.0 else -1
        self.entries[fill.symbol] = Entry(
            symbol=fill.symbol,
            qty=signed,
            entry_price=fill.price,
            levels=initial_levels(sign, fill.price, self.params, *((tag.tp_bps, tag.sl_bps) if tag else (0.0, 0.0))),
            key=f"t{fill.trade_id}" if fill.trade_id else f"x{fill.ts_ms}",
            strategy=EXTERNAL if tag is None else tag.strategy,
            reason="" if tag is None else tag.reason,
            external=external,
            opened_ms=fill.ts_ms,
            fees=fill.fee,
        )

    def _closed(self, e: Entry, ts_ms: int) -> LedgerPosition:
        return LedgerPosition(
            symbol=e.symbol, qty=0.0, entry_price=e.entry_price, strategy=e.strategy,
            realized_pnl=e.realized_pnl, opened_ms=e.opened_ms, ts_ms=ts_ms,
        )

    def _remember_trade(self, sym: str, trade_id: int) -> None:
        ids = self.state.trades.setdefault(sym, [])
        ids.append(trade_id)
        s = self._trade_sets.setdefault(sym, set())
        s.add(trade_id)
        if len(ids) > _TRADES_KEPT:
            s.discard(ids.pop(0))

    # ------------------------------------------------------------------ the exchange's word

    def adopt(self, pos: Position, now_ms: int) -> LedgerPosition:
        """An exchange position the ledger did not know: tagged external, default exit levels."""
        sign = 1 if pos.qty > 0.0 else -1
        self.entries[pos.symbol] = Entry(
            symbol=pos.symbol,
            qty=pos.qty,
            entry_price=pos.entry_price,
            levels=initial_levels(sign, pos.entry_price, self.params),
            key=f"x{now_ms}",
            strategy=EXTERNAL,
            reason="adopted from the exchange",
            external=True,
            opened_ms=now_ms,
        )
        return self.event(pos.symbol)

    def force(self, pos: Position, now_ms: int) -> LedgerPosition:
        """The exchange proved the ledger wrong: take its quantity (0 closes the entry)."""
        e = self.entries.get(pos.symbol)
        if pos.qty == 0.0:
            if e is None:
                return LedgerPosition(symbol=pos.symbol, qty=0.0, entry_price=0.0)
            del self.entries[pos.symbol]
            return self._closed(e, now_ms)
        if e is None or e.qty * pos.qty < 0.0:
            return self.adopt(pos, now_ms)
        e.qty = pos.qty
        e.unconfirmed = False
        if pos.entry_price > 0.0 and pos.entry_price != e.entry_price:
            e.entry_price = pos.entry_price
            rebase(e.levels, pos.entry_price, self.params)
        return self.event(pos.symbol)

    # ------------------------------------------------------------------ views

    def qty(self, symbol: str) -> float:
        e = self.entries.get(symbol)
        return e.qty if e is not None else 0.0

    def event(self, symbol: str) -> LedgerPosition:
        e = self.entries[symbol]
        lv = e.levels
        return LedgerPosition(
            symbol=symbol,
            qty=e.qty,
            entry_price=e.entry_price,
            strategy=e.strategy,
            tp_price=lv.tp,
            sl_price=lv.stop,
            trail_price=lv.stop if lv.stop_kind is ExitKind.TRAILING else 0.0,
            realized_pnl=e.realized_pnl,
            opened_ms=e.opened_ms,
        )

    def missing_levels(self) -> list[str]:
        """Symbols whose position has no take-profit or no stop (the consistency check)."""
        return sorted(s for s, e in self.entries.items() if e.levels.tp <= 0.0 or e.levels.stop <= 0.0)
