"""The journal lines the dashboard reads, as small msgspec shapes holding only the fields it shows.

Owns: one Struct per (journal, kind) the panels decode, and the budgets (bytes read, lines kept)
of each journal's tail. Like the state files, journal payloads only ever gain fields, so these
shapes decode newer lines too (unknown fields are ignored); a field the engine has not written
yet takes its default.

Must never: forbid unknown fields, or import an engine stage (the engine's events are its own).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import numpy as np

T = TypeVar("T")

MB = 1024 * 1024


class AlertData(msgspec.Struct, kw_only=True, gc=False):
    severity: str = ""
    title: str = ""
    text: str = ""


class AlertLine(msgspec.Struct, kw_only=True, gc=False):
    ts_ns: int
    data: AlertData


class EventLine(msgspec.Struct, kw_only=True, gc=False):
    """Any events.jsonl line with its payload kept as plain values (rare kinds: shown as they are)."""

    ts_ns: int
    kind: str
    data: dict[str, object] = {}


class FillData(msgspec.Struct, kw_only=True, gc=False):
    symbol: str = ""
    side: str = ""
    qty: float = 0.0
    price: float = 0.0
    fee: float = 0.0
    maker: bool = False
    realized_pnl: float = 0.0


class FillRecord(msgspec.Struct, kw_only=True, gc=False):
    source: str = ""
    fill: FillData = msgspec.field(default_factory=FillData)


class RequestData(msgspec.Struct, kw_only=True, gc=False):
    client_order_id: str = ""
    intent_id: str = ""
    symbol: str = ""
    side: str = ""
    type: str = ""
    qty: float = 0.0
    price: float = 0.0
    tif: str = ""
    reduce_only: bool = False


class RequestLine(msgspec.Struct, kw_only=True, gc=False):
    ts_ns: int
    kind: str
    data: RequestData


class UpdateData(msgspec.Struct, kw_only=True, gc=False):
    client_order_id: str = ""
    symbol: str = ""
    status: str = ""
    side: str = ""
    filled_qty: float = 0.0
    avg_price: float = 0.0
    reason: str = ""


class UpdateLine(msgspec.Struct, kw_only=True, gc=False):
    ts_ns: int
    data: UpdateData


class VetoIntent(msgspec.Struct, kw_only=True, gc=False):
    symbol: str = ""
    side: str = ""
    notional: float = 0.0
    strategy: str = ""


class VetoData(msgspec.Struct, kw_only=True, gc=False):
    intent: VetoIntent = msgspec.field(default_factory=VetoIntent)
    reasons: list[str] = []
    observed: dict[str, float] = {}
    limits: dict[str, float] = {}
    state: str = ""


class VetoLine(msgspec.Struct, kw_only=True, gc=False):
    ts_ns: int
    data: VetoData


class ExecutionData(msgspec.Struct, kw_only=True, gc=False):
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


# ---------------------------------------------------------------- numbers kept instead of lines


class _Nav(msgspec.Struct, gc=False):
    nav: float


class _NavRow(msgspec.Struct, gc=False):
    ts_ns: int
    data: _Nav


class _FillRow(msgspec.Struct, gc=False):
    ts_ns: int
    data: FillRecord


class _TsRow(msgspec.Struct, gc=False):
    ts_ns: int


class _ExecRow(msgspec.Struct, gc=False):
    ts_ns: int
    data: ExecutionData


def _batch(lines: list[bytes], into: type[T]) -> list[T]:
    return msgspec.json.decode(b"[" + b",".join(lines) + b"]", type=list[into])  # type: ignore[valid-type]


def nav_rows(lines: list[bytes]) -> np.ndarray[Any, Any]:
    """(ts_ns, nav) per Nav line."""
    return np.array([(x.ts_ns, x.data.nav) for x in _batch(lines, _NavRow)], dtype=np.float64).reshape(-1, 2)


def fill_rows(lines: list[bytes]) -> np.ndarray[Any, Any]:
    """(ts_ns, fee, realized PnL) per fill."""
    return np.array([(x.ts_ns, x.data.fill.fee, x.data.fill.realized_pnl) for x in _batch(lines, _FillRow)],
                    dtype=np.float64).reshape(-1, 3)


def ts_rows(lines: list[bytes]) -> np.ndarray[Any, Any]:
    """(ts_ns,) per line."""
    return np.array([x.ts_ns for x in _batch(lines, _TsRow)], dtype=np.float64).reshape(-1, 1)


def execution_rows(lines: list[bytes]) -> np.ndarray[Any, Any]:
    """(ts_ns, slippage bps, unfilled fraction, fell back 0/1) per execution report."""
    return np.array([(x.ts_ns, x.data.slippage_bps, 1.0 - x.data.filled_qty / x.data.qty if x.data.qty > 0 else 0.0,
                      float(x.data.fell_back)) for x in _batch(lines, _ExecRow)], dtype=np.float64).reshape(-1, 4)


@dataclasses.dataclass(frozen=True)
class TailSpec:
    budget: int  # bytes of the newest part of the journal read
    keep: dict[str, int]  # kind -> raw lines kept
    extract: dict[str, tuple[Callable[[list[bytes]], np.ndarray[Any, Any]], int]]  # kind -> (rows, most kept)


EVENT_KINDS = ("Alert", "KillSwitch", "PositionDrift", "TradingStateChange")
TAILS: dict[str, TailSpec] = {
    "events": TailSpec(64 * MB, dict.fromkeys(EVENT_KINDS, 200), {"Nav": (nav_rows, 500_000)}),
    "orders_sent": TailSpec(8 * MB, {"request": 500}, {"request": (ts_rows, 200_000)}),
    "order_updates": TailSpec(4 * MB, {"update": 5_000}, {}),
    "fills": TailSpec(16 * MB, {}, {"fill": (fill_rows, 200_000)}),
    "risk_vetoes": TailSpec(2 * MB, {"veto": 500}, {}),
    "orders_success": TailSpec(4 * MB, {}, {"execution": (execution_rows, 50_000)}),
    "orders_failed": TailSpec(4 * MB, {}, {"execution": (execution_rows, 50_000)}),
}
