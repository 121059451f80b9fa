"""Reconciliation: the ledger brought into agreement with the exchange, which is authoritative.

Owns: fetching the exchange's view (``fetch``: positions of the symbols asked about, open
orders, fills since the ledger's newest one) and comparing it with the ledger (``compare``):
which open orders are hedge's and which are external, which exchange fills the ledger missed,
and which symbols still disagree after those fills are applied.

Rules:
- Fills first: a fill the ledger missed (a crash, a user-stream gap) explains a difference, so
  the exchange's recent fills are applied (once each, by trade id) before anything is compared.
- A symbol's ``Position`` with qty 0 is the exchange's word that it is flat. A symbol the
  exchange did not report at all is *unreported*, never read as flat: the ledger keeps it.
- An open order whose client order id hedge did not send (no tag in the ledger, not of the
  router's id format) is external: it is tagged so its fills are attributed to ``external``.
- What still differs is a ``Mismatch``; the portfolio stage fetches again after
  ``portfolio.reconcile_confirm_s`` (a fill racing the snapshot must not look like drift) and
  only then acts (adopt, force, or flag as drift).

Must never: send, cancel or size an order, or treat a missing answer as a zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import msgspec

from hedge.events import Fill, LedgerPosition, OrderUpdate, Position
from hedge.portfolio.ledger import Ledger
from hedge.venue.base import Venue

# hedge.router.lifecycle.client_order_id: "h<16 hex>-<slice>-<attempt>" (an order of this engine,
# possibly sent by an earlier process whose ledger never saw it).
ENGINE_ORDER_ID = re.compile(r"^h[0-9a-f]{16}-\d+-\d+$")


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The exchange's view at one moment (positions: only the symbols it reported)."""

    positions: dict[str, Position]
    open_orders: list[OrderUpdate]
    fills: list[Fill]


class Mismatch(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    symbol: str
    local_qty: float
    exchange_qty: float
    reported: bool
    exchange_entry: float = 0.0


class Comparison(msgspec.Struct, kw_only=True):
    lines: list[LedgerPosition] = []  # ledger lines changed by replayed fills
    adopted_orders: list[OrderUpdate] = []
    fills_replayed: int = 0
    agreed: list[str] = []
    mismatches: list[Mismatch] = []


async def fetch(venue: Venue, symbols: Sequence[str], since_ms: dict[str, int], asked_ms: int) -> Snapshot:
    """The exchange's positions of ``symbols``, its open orders and its fills since ``since_ms``.

    A position without the exchange's time is stamped ``asked_ms`` (when it was asked for, on the
    engine's clock), so that the risk stage can tell the fills it already includes from later ones.
    """
    positions = {
        p.symbol: p if p.ts_ms else msgspec.structs.replace(p, ts_ms=asked_ms)
        for p in await venue.positions(list(symbols))
    }
    orders = await venue.open_orders()
    fills: list[Fill] = []
    for sym in symbols:
        start = since_ms.get(sym)
        if start is not None:
            fills.extend(await venue.recent_fills(sym, start))
    fills.sort(key=lambda f: (f.ts_ms, f.trade_id))
    return Snapshot(positions=positions, open_orders=orders, fills=fills)


def compare(
    ledger: Ledger, snap: Snapshot, symbols: Sequence[str], tolerance: float,
    *, apply_fill: Callable[[Fill], LedgerPosition | None] | None = None,
) -> Comparison:
    """Apply what the ledger missed from ``snap``, then list where it still disagrees.

    ``apply_fill`` books one fill (default ``ledger.apply_fill``; the stage also feeds its trade list)."""
    out = Comparison()
    book = apply_fill or ledger.apply_fill
    for o in snap.open_orders:
        cid = o.client_order_id
        if not ledger.knows_order(cid) and not ENGINE_ORDER_ID.match(cid) and ledger.tag_external(cid):
            out.adopted_orders.append(o)
        ledger.on_exchange_id(cid, o.exchange_order_id)
    for f in snap.fills:
        line = book(f)
        if line is not None:
            out.fills_replayed += 1
            out.lines.append(line)
    for sym in symbols:
        local = ledger.qty(sym)
        pos = snap.positions.get(sym)
        if pos is None:
            if local != 0.0:
                out.mismatches.append(Mismatch(symbol=sym, local_qty=local, exchange_qty=0.0, reported=False))
            continue
        if abs(local - pos.qty) <= tolerance:
            out.agreed.append(sym)
        else:
            out.mismatches.append(
                Mismatch(symbol=sym, local_qty=local, exchange_qty=pos.qty, reported=True,
                         exchange_entry=pos.entry_price)
            )
    return out
