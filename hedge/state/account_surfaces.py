"""The account's surfaces built from the latest events: NAV, positions, ledger, risk snapshot, KPIs.

Owns: turning the model's latest account values into ``nav_state``, ``positions_state``,
``positions_ledger``, ``risk_snapshot`` and ``kpis`` (PnL and fees are sums over fills, the win
rate counts fills that realized a profit among those that realized any PnL, the maker ratio
counts maker fills, turnover is the sum of |qty| x price).

Must never: do I/O, keep state of its own (the model holds the latest values), or hold a secret.
"""

from __future__ import annotations

from typing import Any

from hedge.events import LedgerPosition, MarkPrice, Nav, Position, RiskSnapshot, TradingState
from hedge.state import schemas as s
from hedge.state.mirror import mirror


def nav_state(nav: Nav | None, peak_nav: float, readings: int) -> s.NavState:
    if nav is None:
        return s.NavState()
    return mirror(s.NavState, nav, peak_nav=peak_nav, nav_ns=nav.recv_ns, readings=readings)


def _mark(p: Position, marks: dict[str, MarkPrice]) -> float:
    """The position's mark, else the feed's latest (Binance's ACCOUNT_UPDATE carries none)."""
    m = marks.get(p.symbol)
    return p.mark_price or (m.mark_price if m is not None else 0.0)


def positions_state(positions: dict[str, Position], marks: dict[str, MarkPrice]) -> s.PositionsState:
    rows = [
        mirror(s.PositionRow, p, mark_price=(mark := _mark(p, marks)), notional=p.qty * (mark or p.entry_price))
        for _, p in sorted(positions.items())
    ]
    return s.PositionsState(
        positions=rows,
        gross_notional=sum(abs(r.notional) for r in rows),
        net_notional=sum(r.notional for r in rows),
    )


def positions_ledger(ledger: dict[str, LedgerPosition]) -> s.PositionsLedger:
    return s.PositionsLedger(
        positions=[mirror(s.LedgerRow, p) for _, p in sorted(ledger.items())]
    )


def risk_snapshot(
    risk: RiskSnapshot | None, trading_state: TradingState, reason: str, changed_ns: int
) -> s.RiskSnapshotState:
    state: dict[str, Any] = {
        "trading_state": trading_state.value,
        "reason": reason,
        "state_changed_ns": changed_ns,
    }
    if risk is None:
        return s.RiskSnapshotState(**state)
    return mirror(s.RiskSnapshotState, risk, **state)


def kpis(k: s.KpisState, nav: Nav | None) -> s.KpisState:
    """``k``'s sums (kept by the model from fills) with the ratios and the NAV's unrealized PnL."""
    unrealized = nav.unrealized_pnl if nav is not None else 0.0
    return s.KpisState(
        realized_pnl=k.realized_pnl,
        unrealized_pnl=unrealized,
        total_pnl=k.realized_pnl - k.fees + unrealized,
        fees=k.fees,
        fills=k.fills,
        maker_fills=k.maker_fills,
        maker_ratio=k.maker_fills / k.fills if k.fills else 0.0,
        closing_fills=k.closing_fills,
        wins=k.wins,
        win_rate=k.wins / k.closing_fills if k.closing_fills else 0.0,
        turnover=k.turnover,
    )
