"""The journal lines the dashboard reads, as small msgspec shapes holding only the fields it shows.

Owns: one Struct per (journal, kind) the panels decode, and the budgets (bytes read, lines kept)
of each journal's tail. Like the state files, journal payloads only ever gain fields, so these
shapes decode newer lines too (unknown fields are ignored); a field the engine has not written
yet takes its default.

Must never: forbid unknown fields, or import an engine stage (the engine's events are its own).
"""

from __future__ import annotations

import msgspec

MB = 1024 * 1024


class NavData(msgspec.Struct, kw_only=True):
    nav: float
    wallet_balance: float = 0.0
    unrealized_pnl: float = 0.0


class NavLine(msgspec.Struct, kw_only=True):
    ts_ns: int
    data: NavData


class AlertData(msgspec.Struct, kw_only=True):
    severity: str = ""
    title: str = ""
    text: str = ""


class AlertLine(msgspec.Struct, kw_only=True):
    ts_ns: int
    data: AlertData


class EventLine(msgspec.Struct, kw_only=True):
    """Any events.jsonl line with its payload kept as plain values (rare kinds: shown as they are)."""

    ts_ns: int
    kind: str
    data: dict[str, object] = {}


class FillData(msgspec.Struct, kw_only=True):
    symbol: str = ""
    side: str = ""
    qty: float = 0.0
    price: float = 0.0
    fee: float = 0.0
    maker: bool = False
    realized_pnl: float = 0.0


class FillRecord(msgspec.Struct, kw_only=True):
    source: str = ""
    fill: FillData = msgspec.field(default_factory=FillData)


class FillLine(msgspec.Struct, kw_only=True):
    ts_ns: int
    data: FillRecord


class RequestData(msgspec.Struct, kw_only=True):
    client_order_id: str = ""
    intent_id: str = ""
    symbol: str = ""
    side: str = ""
    type: str = ""
    qty: float = 0.0
    price: float = 0.0
    tif: str = ""
    reduce_only: bool = False


class RequestLine(msgspec.Struct, kw_only=True):
    ts_ns: int
    kind: str
    data: RequestData


class UpdateData(msgspec.Struct, kw_only=True):
    client_order_id: str = ""
    symbol: str = ""
    status: str = ""
    side: str = ""
    filled_qty: float = 0.0
    avg_price: float = 0.0
    reason: str = ""


class UpdateLine(msgspec.Struct, kw_only=True):
    ts_ns: int
    data: UpdateData


class VetoIntent(msgspec.Struct, kw_only=True):
    symbol: str = ""
    side: str = ""
    notional: float = 0.0
    strategy: str = ""


class VetoData(msgspec.Struct, kw_only=True):
    intent: VetoIntent = msgspec.field(default_factory=VetoIntent)
    reasons: list[str] = []
    observed: dict[str, float] = {}
    limits: dict[str, float] = {}
    state: str = ""


class VetoLine(msgspec.Struct, kw_only=True):
    ts_ns: int
    data: VetoData


class ExecutionData(msgspec.Struct, kw_only=True):
    symbol: str = ""
    side: str = ""
    outcome: str = ""
    qty: float = 0.0
    filled_qty: float = 0.0
    avg_price: float = 0.0
    arrival_mid: float = 0.0
    slippage_bps: float = 0.0
    maker_qty: float = 0.0
    fell_back: bool = False


class ExecutionLine(msgspec.Struct, kw_only=True):
    ts_ns: int
    data: ExecutionData


# journal -> (bytes of the newest part read, lines kept by kind)
EVENT_KINDS = ("Alert", "KillSwitch", "PositionDrift", "TradingStateChange")
TAILS: dict[str, tuple[int, dict[str, int]]] = {
    "events": (64 * MB, {"Nav": 250_000, **dict.fromkeys(EVENT_KINDS, 200)}),
    "orders_sent": (8 * MB, {"request": 50_000, "resend": 1_000}),
    "order_updates": (8 * MB, {"update": 50_000}),
    "fills": (16 * MB, {"fill": 100_000}),
    "risk_vetoes": (4 * MB, {"veto": 2_000}),
    "orders_success": (4 * MB, {"execution": 10_000}),
    "orders_failed": (4 * MB, {"execution": 10_000}),
}
