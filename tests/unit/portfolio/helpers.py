"""Builders shared by the portfolio tests."""

from __future__ import annotations

import itertools

from hedge.events import BookUpdate, Fill, OrderIntent, OrderRequest, OrderType, Side

_trade_ids = itertools.count(1000)


def fill(symbol: str = "BTCUSDT", side: Side = Side.BUY, qty: float = 0.01, price: float = 100.0, *,
         cid: str = "h0000000000000001-0-0", trade_id: int | None = None, ts_ms: int = 1_000, fee: float = 0.0) -> Fill:
    return Fill(client_order_id=cid, symbol=symbol, side=side, qty=qty, price=price, fee=fee,
                trade_id=next(_trade_ids) if trade_id is None else trade_id, ts_ms=ts_ms)


def intent(iid: str = "micro_scalper-BTCUSDT-7", symbol: str = "BTCUSDT", side: Side = Side.BUY) -> OrderIntent:
    return OrderIntent(intent_id=iid, symbol=symbol, side=side, notional=100.0, strategy=iid.partition("-")[0],
                       reason="score=+0.9")


def request(cid: str, iid: str, symbol: str = "BTCUSDT", side: Side = Side.BUY, *, reduce_only: bool = False,
            qty: float = 0.01) -> OrderRequest:
    return OrderRequest(client_order_id=cid, intent_id=iid, symbol=symbol, side=side, type=OrderType.LIMIT,
                        qty=qty, price=100.0, reduce_only=reduce_only)


def book(px: float, symbol: str = "BTCUSDT", *, spread: float = 0.0, update_id: int = 1, ts_ms: int = 0) -> BookUpdate:
    bid, ask = px - spread / 2, px + spread / 2
    return BookUpdate(symbol=symbol, update_id=update_id, valid=True, bid_px=bid, bid_qty=5.0, ask_px=ask,
                      ask_qty=5.0, mid=px, micro=px, imbalance=0.0, spread_bps=spread / px * 1e4, ts_ms=ts_ms)
