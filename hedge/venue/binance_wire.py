"""Binance USD-M wire shapes for orders and the user-data stream, decoded into hedge's events.

Owns: the order object of ``POST/GET/DELETE /fapi/v1/order`` and ``openOrders`` (-> ``OrderAck``/
``OrderUpdate``), ``positionRisk`` entries (-> ``Position``), ``userTrades`` entries (-> ``Fill``),
the error body ``{"code":..,"msg":..}``, exchangeInfo ``rateLimits``, and the
user-data stream: ORDER_TRADE_UPDATE (-> ``OrderUpdate`` plus a ``Fill`` per trade),
ACCOUNT_UPDATE (-> ``Balance``, ``Position`` per changed symbol, and ``Nav`` = USDT wallet balance
+ the unrealized PnL of every position seen), listenKeyExpired; anything else is counted and
skipped. Also the account snapshot of ``GET /fapi/v2/account`` (-> ``Nav``, source ``reconcile``).
Combined-stream wrappers (``{"stream":..,"data":..}``) are unwrapped.

Design: typed msgspec decoding with ``strict=False`` (prices arrive as strings); ``E`` may be a
string on real futures payloads (go-binance#510), so it is read leniently.

Must never: raise on a malformed frame (it is counted), or let a Binance field name leave this
module and the adapter.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hedge.events import Balance, Event, Fill, Nav, OrderStatus, OrderType, OrderUpdate, Position, Side
from hedge.venue.base import OrderAck

_STATUS = {
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
    "REJECTED": OrderStatus.REJECTED,
}
_TYPES = {t.value: t for t in OrderType}


def _status(raw: str) -> OrderStatus:
    try:
        return _STATUS[raw]
    except KeyError:
        raise ValueError(f"unknown order status {raw!r}") from None


def _otype(raw: str) -> OrderType:
    return _TYPES.get(raw, OrderType.LIMIT)


# ------------------------------------------------------------------------------ REST


class ErrorBody(msgspec.Struct):
    code: int = 0
    msg: str = ""


def error_body(body: str | bytes | None) -> ErrorBody:
    """The ``{"code","msg"}`` of an error answer; an empty one when the body is not that JSON."""
    if not body:
        return ErrorBody()
    try:
        return msgspec.json.decode(body, type=ErrorBody, strict=False)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ErrorBody(msg=str(body)[:200] if not isinstance(body, bytes) else body[:200].decode("utf-8", "replace"))


class RestOrder(msgspec.Struct, kw_only=True):
    orderId: int
    symbol: str
    status: str
    clientOrderId: str
    side: str
    type: str = "LIMIT"
    origType: str = ""
    price: float = 0.0
    avgPrice: float = 0.0
    origQty: float = 0.0
    executedQty: float = 0.0
    reduceOnly: bool = False
    stopPrice: float = 0.0
    updateTime: int = 0


def rest_order(obj: Any) -> RestOrder:
    return msgspec.convert(obj, RestOrder, strict=False)


def ack_of(o: RestOrder) -> OrderAck:
    return OrderAck(
        client_order_id=o.clientOrderId, symbol=o.symbol, status=_status(o.status), exchange_order_id=o.orderId,
        filled_qty=o.executedQty, avg_price=o.avgPrice, ts_ms=o.updateTime,
    )


def update_of(o: RestOrder, recv_ns: int) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=o.clientOrderId, symbol=o.symbol, status=_status(o.status), side=Side(o.side),
        type=_otype(o.origType or o.type), exchange_order_id=o.orderId, qty=o.origQty, price=o.price,
        filled_qty=o.executedQty, avg_price=o.avgPrice, reduce_only=o.reduceOnly, stop_price=o.stopPrice,
        ts_ms=o.updateTime, recv_ns=recv_ns,
    )


class RestAlgo(msgspec.Struct, kw_only=True):
    """A conditional order of Binance's Algo Service (POST/GET /fapi/v1/algoOrder, openAlgoOrders)."""

    algoId: int
    clientAlgoId: str
    symbol: str
    side: str
    orderType: str = "STOP_MARKET"
    algoStatus: str = "NEW"
    quantity: float = 0.0
    executedQty: float = 0.0
    actualPrice: float = 0.0
    triggerPrice: float = 0.0
    reduceOnly: bool = False
    closePosition: bool = False
    updateTime: int = 0


# NEW until it fires; TRIGGERING/TRIGGERED: its market order is on its way (still live for hedge)
_ALGO_STATUS = {
    "NEW": OrderStatus.NEW, "TRIGGERING": OrderStatus.NEW, "TRIGGERED": OrderStatus.NEW,
    "CANCELED": OrderStatus.CANCELED, "EXPIRED": OrderStatus.EXPIRED, "REJECTED": OrderStatus.EXPIRED,
}


def algo_status(raw: str, executed: float) -> OrderStatus:
    """An algoStatus as hedge's order status: FINISHED is FILLED when it executed, else EXPIRED."""
    if raw == "FINISHED":
        return OrderStatus.FILLED if executed > 0.0 else OrderStatus.EXPIRED
    try:
        return _ALGO_STATUS[raw]
    except KeyError:
        raise ValueError(f"unknown algo status {raw!r}") from None


def rest_algo(obj: Any) -> RestAlgo:
    return msgspec.convert(obj, RestAlgo, strict=False)


def algo_ack_of(a: RestAlgo) -> OrderAck:
    return OrderAck(
        client_order_id=a.clientAlgoId, symbol=a.symbol, status=algo_status(a.algoStatus, a.executedQty),
        exchange_order_id=a.algoId, filled_qty=a.executedQty, avg_price=a.actualPrice, ts_ms=a.updateTime,
    )


def algo_update_of(a: RestAlgo, recv_ns: int) -> OrderUpdate:
    return OrderUpdate(
        client_order_id=a.clientAlgoId, symbol=a.symbol, status=algo_status(a.algoStatus, a.executedQty),
        side=Side(a.side), type=_otype(a.orderType), exchange_order_id=a.algoId, qty=a.quantity,
        filled_qty=a.executedQty, avg_price=a.actualPrice, reduce_only=a.reduceOnly or a.closePosition,
        stop_price=a.triggerPrice, ts_ms=a.updateTime, recv_ns=recv_ns,
    )


class RestPosition(msgspec.Struct, kw_only=True):
    symbol: str
    positionAmt: float
    entryPrice: float = 0.0
    markPrice: float = 0.0
    unRealizedProfit: float = 0.0
    updateTime: int = 0


def position_of(obj: Any, recv_ns: int) -> Position:
    """One ``GET /fapi/v2/positionRisk`` entry (one-way mode: ``positionAmt`` is signed)."""
    p = msgspec.convert(obj, RestPosition, strict=False)
    return Position(
        symbol=p.symbol, qty=p.positionAmt, entry_price=p.entryPrice, unrealized_pnl=p.unRealizedProfit,
        mark_price=p.markPrice, ts_ms=p.updateTime, recv_ns=recv_ns,
    )


class RestTrade(msgspec.Struct, kw_only=True):
    symbol: str
    id: int
    orderId: int
    side: str
    price: float
    qty: float
    commission: float = 0.0
    commissionAsset: str = "USDT"
    realizedPnl: float = 0.0
    maker: bool = False
    time: int = 0


def rest_trade(obj: Any) -> RestTrade:
    return msgspec.convert(obj, RestTrade, strict=False)


def fill_of(t: RestTrade, client_order_id: str, recv_ns: int) -> Fill:
    """One ``GET /fapi/v1/userTrades`` entry (which carries no client order id: the caller's)."""
    return Fill(
        client_order_id=client_order_id, symbol=t.symbol, side=Side(t.side), qty=t.qty, price=t.price,
        fee=t.commission, fee_asset=t.commissionAsset, maker=t.maker, realized_pnl=t.realizedPnl, trade_id=t.id,
        exchange_order_id=t.orderId, ts_ms=t.time, recv_ns=recv_ns,
    )


class RateLimitEntry(msgspec.Struct, kw_only=True):
    rateLimitType: str
    interval: str
    intervalNum: int = 1
    limit: int = 0


class _Info(msgspec.Struct, kw_only=True):
    rateLimits: list[RateLimitEntry] = []


def rate_limits(info: Any) -> tuple[int, int]:
    """(REQUEST_WEIGHT per minute, ORDERS per 10 s) from exchangeInfo; 0 where absent."""
    rl = msgspec.convert(info, _Info, strict=False).rateLimits
    weight = next((r.limit for r in rl if r.rateLimitType == "REQUEST_WEIGHT" and r.interval == "MINUTE"
                   and r.intervalNum == 1), 0)
    orders = next((r.limit for r in rl if r.rateLimitType == "ORDERS" and r.interval == "SECOND"
                   and r.intervalNum == 10), 0)
    return weight, orders


# ------------------------------------------------------------------------------ user stream


class _O(msgspec.Struct):
    s: str
    c: str
    S: str
    X: str
    x: str = ""
    o: str = "LIMIT"
    ot: str = ""  # the original type: a triggered STOP_MARKET reports o=MARKET, ot=STOP_MARKET
    sp: float = 0.0
    q: float = 0.0
    p: float = 0.0
    ap: float = 0.0
    i: int = 0
    l: float = 0.0  # noqa: E741 - Binance's name
    z: float = 0.0
    L: float = 0.0
    N: str | None = "USDT"
    n: float = 0.0
    T: int = 0
    t: int = 0
    m: bool = False
    R: bool = False
    rp: float = 0.0


class _AlgoO(msgspec.Struct):
    caid: str
    s: str
    S: str
    X: str
    aid: int = 0
    o: str = "STOP_MARKET"
    q: float = 0.0
    ap: float = 0.0
    aq: float = 0.0
    tp: float = 0.0
    R: bool = False
    cp: bool = False


class _AlgoUpdate(msgspec.Struct, tag="ALGO_UPDATE", tag_field="e"):
    o: _AlgoO
    E: int | str = 0


class _OrderTradeUpdate(msgspec.Struct, tag="ORDER_TRADE_UPDATE", tag_field="e"):
    o: _O
    E: int | str = 0
    T: int = 0


class _B(msgspec.Struct):
    a: str
    wb: float
    cw: float = 0.0


class _P(msgspec.Struct):
    s: str
    pa: float
    ep: float = 0.0
    up: float = 0.0


class _A(msgspec.Struct):
    m: str = ""
    B: list[_B] = []
    P: list[_P] = []


class _AccountUpdate(msgspec.Struct, tag="ACCOUNT_UPDATE", tag_field="e"):
    a: _A
    E: int | str = 0
    T: int = 0


class _ListenKeyExpired(msgspec.Struct, tag="listenKeyExpired", tag_field="e"):
    E: int | str = 0
    listenKey: str = ""


class _Combined(msgspec.Struct):
    data: msgspec.Raw
    stream: str = ""


_UserEvent = _OrderTradeUpdate | _AccountUpdate | _AlgoUpdate | _ListenKeyExpired
_user_decoder = msgspec.json.Decoder(_UserEvent, strict=False)
_combined_decoder = msgspec.json.Decoder(_Combined)


def _ms(e: int | str) -> int:
    try:
        return int(e)
    except ValueError:
        return 0


class UserStreamDecoder:
    """Frames of the user-data stream -> hedge events (keeps what NAV needs between frames)."""

    def __init__(self) -> None:
        self.wallet: float | None = None
        self.upnl: dict[str, float] = {}
        self.frames = 0
        self.skipped = 0  # other event types (TRADE_LITE, MARGIN_CALL ...) and malformed frames
        self.expired = 0

    def decode(self, raw: bytes, recv_ns: int) -> list[Event]:
        """Events of one frame; ``[]`` for a skipped one. A listenKeyExpired raises ``ListenKeyExpired``."""
        self.frames += 1
        try:
            if raw[:10].lstrip().startswith(b'{"stream"'):
                raw = bytes(_combined_decoder.decode(raw).data)
            ev = _user_decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.skipped += 1
            return []
        if isinstance(ev, _OrderTradeUpdate):
            return self._order(ev, recv_ns)
        if isinstance(ev, _AccountUpdate):
            return self._account(ev, recv_ns)
        if isinstance(ev, _AlgoUpdate):
            return self._algo(ev, recv_ns)
        self.expired += 1
        raise ListenKeyExpired(ev.listenKey)

    def _order(self, ev: _OrderTradeUpdate, recv_ns: int) -> list[Event]:
        o = ev.o
        try:
            status = _status(o.X)
        except ValueError:
            self.skipped += 1
            return []
        ts = _ms(ev.E)
        side = Side(o.S)
        out: list[Event] = [OrderUpdate(
            client_order_id=o.c, symbol=o.s, status=status, side=side, type=_otype(o.ot or o.o), exchange_order_id=o.i,
            qty=o.q, price=o.p, filled_qty=o.z, avg_price=o.ap, reduce_only=o.R, stop_price=o.sp, ts_ms=ts,
            recv_ns=recv_ns,
        )]
        if o.x in ("TRADE", "CALCULATED") and o.l > 0.0:  # CALCULATED: a liquidation / ADL execution
            out.append(Fill(
                client_order_id=o.c, symbol=o.s, side=side, qty=o.l, price=o.L, fee=o.n, fee_asset=o.N or "USDT",
                maker=o.m, realized_pnl=o.rp, trade_id=o.t, exchange_order_id=o.i, ts_ms=o.T or ts, recv_ns=recv_ns,
                liquidation=o.c.startswith("autoclose-"),
            ))
        return out

    def _algo(self, ev: _AlgoUpdate, recv_ns: int) -> list[Event]:
        """A conditional order's own life (its fills come as the ORDER_TRADE_UPDATEs of its market order)."""
        o = ev.o
        try:
            status = algo_status(o.X, o.aq)
        except ValueError:
            self.skipped += 1
            return []
        return [OrderUpdate(
            client_order_id=o.caid, symbol=o.s, status=status, side=Side(o.S), type=_otype(o.o),
            exchange_order_id=o.aid, qty=o.q, filled_qty=o.aq, avg_price=o.ap, reduce_only=o.R or o.cp,
            stop_price=o.tp, ts_ms=_ms(ev.E), recv_ns=recv_ns,
        )]

    def _account(self, ev: _AccountUpdate, recv_ns: int) -> list[Event]:
        ts = _ms(ev.E)
        out: list[Event] = []
        for b in ev.a.B:
            out.append(Balance(asset=b.a, wallet_balance=b.wb, cross_wallet_balance=b.cw, ts_ms=ts, recv_ns=recv_ns))
            if b.a == "USDT":
                self.wallet = b.wb
        for p in ev.a.P:
            self.upnl[p.s] = p.up
            out.append(Position(symbol=p.s, qty=p.pa, entry_price=p.ep, unrealized_pnl=p.up, ts_ms=ts,
                                recv_ns=recv_ns))
        if self.wallet is not None:
            upnl = sum(self.upnl.values())
            out.append(Nav(nav=self.wallet + upnl, wallet_balance=self.wallet, unrealized_pnl=upnl,
                           source="account_update", ts_ms=ts, recv_ns=recv_ns))
        return out


class ListenKeyExpired(Exception):
    """The user stream said its listenKey expired: a new key (and connection) is needed."""


class _AccountSnapshot(msgspec.Struct):
    totalWalletBalance: float
    totalUnrealizedProfit: float = 0.0
    updateTime: int = 0


def nav_of_account(r: Any, recv_ns: int) -> Nav:
    """``Nav`` (source ``reconcile``) from a ``GET /fapi/v2/account`` answer; ``ValueError`` if it has no balance."""
    try:
        a = msgspec.convert(r, _AccountSnapshot, strict=False)
    except msgspec.ValidationError as e:
        raise ValueError(f"account snapshot: {e}") from None
    # Binance's top-level updateTime is 0 on /fapi/v2/account: then the answer's arrival stamps it
    ts_ms = a.updateTime if a.updateTime > 0 else recv_ns // 1_000_000
    return Nav(nav=a.totalWalletBalance + a.totalUnrealizedProfit, wallet_balance=a.totalWalletBalance,
               unrealized_pnl=a.totalUnrealizedProfit, source="reconcile", ts_ms=ts_ms, recv_ns=recv_ns)
