"""positionRisk and userTrades entries (Binance's documented shapes, strings for numbers) decoded
into hedge's ``Position`` and ``Fill``."""

from __future__ import annotations

import pytest

from hedge.events import Side
from hedge.venue.binance_wire import fill_of, position_of, rest_trade

POSITION_V2 = {  # GET /fapi/v2/positionRisk?symbol=BTCUSDT (one-way mode)
    "symbol": "BTCUSDT", "positionAmt": "-0.012", "entryPrice": "63944.10000000", "breakEvenPrice": "63944.1",
    "markPrice": "63900.00000000", "unRealizedProfit": "0.52920000", "liquidationPrice": "0", "leverage": "20",
    "maxNotionalValue": "1000000000", "marginType": "cross", "isolatedMargin": "0.00000000",
    "isAutoAddMargin": "false", "positionSide": "BOTH", "notional": "-766.80000000", "isolatedWallet": "0",
    "updateTime": 1721347022504,
}
FLAT = {**POSITION_V2, "positionAmt": "0.000", "entryPrice": "0.0", "unRealizedProfit": "0.00000000", "updateTime": 0}
TRADE = {  # GET /fapi/v1/userTrades
    "buyer": False, "commission": "-0.07819375", "commissionAsset": "USDT", "id": 698759, "maker": False,
    "orderId": 25851813, "price": "7819.01", "qty": "0.002", "quoteQty": "15.63802", "realizedPnl": "-0.91539999",
    "side": "SELL", "positionSide": "BOTH", "symbol": "BTCUSDT", "time": 1569514978020,
}


def test_position_risk_entry() -> None:
    p = position_of(POSITION_V2, 1)
    assert (p.symbol, p.qty, p.entry_price, p.mark_price) == ("BTCUSDT", -0.012, 63944.1, 63900.0)
    assert p.unrealized_pnl == pytest.approx(0.5292) and p.ts_ms == 1721347022504
    flat = position_of(FLAT, 1)
    assert flat.qty == 0.0 and flat.ts_ms == 0  # the proof of flatness reconciliation relies on


def test_user_trade_entry_with_the_client_order_id_given_by_the_caller() -> None:
    f = fill_of(rest_trade(TRADE), "h0123456789abcdef-0-1", 1)
    assert (f.client_order_id, f.symbol, f.side, f.qty, f.price) == ("h0123456789abcdef-0-1", "BTCUSDT", Side.SELL,
                                                                     0.002, 7819.01)
    assert (f.trade_id, f.exchange_order_id, f.ts_ms, f.maker) == (698759, 25851813, 1569514978020, False)
    assert f.fee == pytest.approx(-0.07819375) and f.realized_pnl == pytest.approx(-0.91539999)
