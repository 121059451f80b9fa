"""Binance JSON shapes of the local exchange's answers: orders, trades, positions, accounts, events.

Owns: turning matching-engine state into the exact field names and string/number conventions of
Binance USD-M (prices and quantities as strings formatted to the symbol's precision, money with
8 decimals, ids and times as ints) for REST answers and the user-data stream.

Must never: change state; everything here is a pure function of its arguments.
"""

from __future__ import annotations

from typing import Any

from hedge.exchange.accounts import Account, AccountPosition
from hedge.exchange.margin import Margin
from hedge.exchange.orders import ExecType, Execution, Order
from hedge.exchange.symbols import SymbolSpec

Json = dict[str, Any]


def money(x: float) -> str:
    return f"{x:.8f}"


def order_json(order: Order, spec: SymbolSpec, *, with_time: bool = False) -> Json:
    out: Json = {
        "orderId": order.order_id,
        "symbol": order.symbol,
        "status": order.status,
        "clientOrderId": order.client_order_id,
        "price": spec.fmt_price(order.price),
        "avgPrice": spec.fmt_price(order.avg_price) if order.filled else "0.00",
        "origQty": spec.fmt_qty(order.quantity),
        "executedQty": spec.fmt_qty(order.filled),
        "cumQty": spec.fmt_qty(order.filled),
        "cumQuote": money(order.cum_quote),
        "timeInForce": order.time_in_force,
        "type": order.type,
        "reduceOnly": order.reduce_only,
        "closePosition": order.close_position,
        "side": order.side,
        "positionSide": "BOTH",
        "stopPrice": spec.fmt_price(order.stop_price) if order.stop_price else "0",
        "workingType": order.working_type,
        "priceProtect": False,
        "origType": order.orig_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "updateTime": order.update_ms,
    }
    if with_time:
        out["time"] = order.time_ms
    return out


def algo_status(order: Order) -> str:
    """Binance's algoStatus: NEW until triggered, then FINISHED once its market order is done."""
    if order.untriggered:
        return "NEW" if order.is_open else order.status  # CANCELED / EXPIRED
    return "TRIGGERED" if order.is_open else "FINISHED"


def algo_json(order: Order, spec: SymbolSpec) -> Json:
    """A conditional order as the Algo Service answers (POST/GET /fapi/v1/algoOrder, openAlgoOrders)."""
    return {
        "algoId": order.order_id,
        "clientAlgoId": order.client_order_id,
        "algoType": "CONDITIONAL",
        "orderType": order.orig_type,
        "symbol": order.symbol,
        "side": order.side,
        "positionSide": "BOTH",
        "timeInForce": "GTC",
        "quantity": spec.fmt_qty(order.quantity),
        "algoStatus": algo_status(order),
        "actualOrderId": "" if order.untriggered else str(order.order_id),
        "actualPrice": spec.fmt_price(order.avg_price) if order.filled else "0",
        "executedQty": spec.fmt_qty(order.filled),
        "triggerPrice": spec.fmt_price(order.stop_price),
        "price": "0",
        "icebergQuantity": None,
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": order.working_type,
        "priceMatch": "NONE",
        "closePosition": order.close_position,
        "priceProtect": False,
        "reduceOnly": order.reduce_only,
        "createTime": order.time_ms,
        "updateTime": order.update_ms,
        "triggerTime": 0 if order.untriggered else order.update_ms,
        "goodTillDate": 0,
    }


def algo_update_event(order: Order, spec: SymbolSpec, now_ms: int) -> Json:
    """ALGO_UPDATE: a conditional order's algo status changed (NEW, CANCELED, EXPIRED, TRIGGERED, FINISHED)."""
    return {
        "e": "ALGO_UPDATE",
        "T": order.update_ms,
        "E": now_ms,
        "o": {
            "caid": order.client_order_id,
            "aid": order.order_id,
            "at": "CONDITIONAL",
            "o": order.orig_type,
            "s": order.symbol,
            "S": order.side,
            "ps": "BOTH",
            "f": "GTC",
            "q": spec.fmt_qty(order.quantity),
            "X": algo_status(order),
            "ai": "" if order.untriggered else str(order.order_id),
            "ap": spec.fmt_price(order.avg_price),
            "aq": spec.fmt_qty(order.filled),
            "act": "0" if order.untriggered else "MARKET",
            "tp": spec.fmt_price(order.stop_price),
            "p": "0",
            "V": "EXPIRE_MAKER",
            "wt": order.working_type,
            "pm": "NONE",
            "cp": order.close_position,
            "pP": False,
            "R": order.reduce_only,
            "tt": 0 if order.untriggered else order.update_ms,
            "gtd": 0,
            "rm": "",
        },
    }


def trade_json(fill: Execution, spec: SymbolSpec) -> Json:
    return {
        "buyer": fill.side == "BUY",
        "commission": money(fill.commission),
        "commissionAsset": "USDT",
        "id": fill.trade_id,
        "maker": fill.maker,
        "orderId": fill.order_id,
        "price": spec.fmt_price(fill.price),
        "qty": spec.fmt_qty(fill.qty),
        "quoteQty": money(fill.qty * fill.price),
        "realizedPnl": money(fill.realized_pnl),
        "side": fill.side,
        "positionSide": "BOTH",
        "symbol": fill.symbol,
        "time": fill.time_ms,
    }


def _side_notionals(acct: Account, symbol: str) -> tuple[float, float]:
    bids = asks = 0.0
    for o in acct.open_orders.values():
        if o.symbol == symbol:
            if o.side == "BUY":
                bids += o.remaining * o.price
            else:
                asks += o.remaining * o.price
    return bids, asks


def liquidation_price(engine: Margin, acct: Account, symbol: str) -> str:
    price = engine.liquidation_price(acct.key, symbol)
    return f"{price:.8f}" if price > 0 else "0"


def _position_prices(engine: Margin, acct: Account, symbol: str, pos: AccountPosition, spec: SymbolSpec,
                     mark: float) -> Json:
    """The amount, prices and PnL that every positionRisk version reports alike."""
    return {
        "positionAmt": spec.fmt_qty(pos.amount),
        "entryPrice": f"{pos.entry_price:.8f}",
        "breakEvenPrice": f"{pos.entry_price:.8f}",
        "markPrice": f"{mark:.8f}",
        "unRealizedProfit": money(engine.unrealized(symbol, pos)),
        "liquidationPrice": liquidation_price(engine, acct, symbol),
    }


def position_v2(engine: Margin, acct: Account, symbol: str, pos: AccountPosition, spec: SymbolSpec) -> Json:
    mark = engine.mark_price(symbol)
    return {
        "symbol": symbol,
        **_position_prices(engine, acct, symbol, pos, spec, mark),
        "leverage": str(pos.leverage),
        "maxNotionalValue": "1000000000",
        "marginType": "cross",
        "isolatedMargin": "0.00000000",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notional": money(pos.amount * mark),
        "isolatedWallet": "0",
        "updateTime": pos.update_ms,
    }


def position_v3(engine: Margin, acct: Account, symbol: str, pos: AccountPosition, spec: SymbolSpec) -> Json:
    mark = engine.mark_price(symbol)
    bids, asks = _side_notionals(acct, symbol)
    pos_im = engine.position_margin(symbol, pos)
    ord_im = sum(engine.order_margin(o) for o in acct.open_orders.values() if o.symbol == symbol)
    return {
        "symbol": symbol,
        "positionSide": "BOTH",
        **_position_prices(engine, acct, symbol, pos, spec, mark),
        "isolatedMargin": "0",
        "notional": money(pos.amount * mark),
        "marginAsset": "USDT",
        "isolatedWallet": "0",
        "initialMargin": money(pos_im + ord_im),
        "maintMargin": money(engine.maint_margin(symbol, pos)),
        "positionInitialMargin": money(pos_im),
        "openOrderInitialMargin": money(ord_im),
        "adl": 0,
        "bidNotional": money(bids),
        "askNotional": money(asks),
        "updateTime": pos.update_ms,
    }


def _totals(engine: Margin, acct: Account) -> Json:
    wallet, upnl, pos_im, ord_im = engine.totals(acct.key)
    maint = engine.margin_health(acct.key)[1]
    avail = engine.available(acct.key)
    return {
        "wallet": wallet,
        "upnl": upnl,
        "pos_im": pos_im,
        "ord_im": ord_im,
        "maint": maint,
        "avail": avail,
    }


def _cross_balance(t: Json, now_ms: int) -> Json:
    """The cross-margin and availability fields that account assets and balances report alike."""
    return {
        "crossWalletBalance": money(t["wallet"]),
        "crossUnPnl": money(t["upnl"]),
        "availableBalance": money(t["avail"]),
        "maxWithdrawAmount": money(max(0.0, t["avail"])),
        "marginAvailable": True,
        "updateTime": now_ms,
    }


def account_json(
    engine: Margin, acct: Account, specs: dict[str, SymbolSpec], version: int, now_ms: int
) -> Json:
    t = _totals(engine, acct)
    asset = {
        "asset": "USDT",
        "walletBalance": money(t["wallet"]),
        "unrealizedProfit": money(t["upnl"]),
        "marginBalance": money(t["wallet"] + t["upnl"]),
        "maintMargin": money(t["maint"]),
        "initialMargin": money(t["pos_im"] + t["ord_im"]),
        "positionInitialMargin": money(t["pos_im"]),
        "openOrderInitialMargin": money(t["ord_im"]),
        **_cross_balance(t, now_ms),
    }
    positions: list[Json] = []
    for symbol, pos in acct.positions.items():
        if version >= 3 and abs(pos.amount) < 1e-12:
            continue
        mark = engine.mark_price(symbol)
        p: Json = {
            "symbol": symbol,
            "positionSide": "BOTH",
            "positionAmt": specs[symbol].fmt_qty(pos.amount),
            "unrealizedProfit": money(engine.unrealized(symbol, pos)),
            "isolatedMargin": "0",
            "notional": money(pos.amount * mark),
            "isolatedWallet": "0",
            "initialMargin": money(engine.position_margin(symbol, pos)),
            "maintMargin": money(engine.maint_margin(symbol, pos)),
            "updateTime": pos.update_ms,
        }
        if version == 2:
            p.update(
                leverage=str(pos.leverage),
                entryPrice=f"{pos.entry_price:.8f}",
                maxNotional="1000000000",
                isolated=False,
                positionInitialMargin=money(engine.position_margin(symbol, pos)),
                openOrderInitialMargin="0",
                bidNotional="0",
                askNotional="0",
            )
        positions.append(p)
    out: Json = {
        "totalInitialMargin": money(t["pos_im"] + t["ord_im"]),
        "totalMaintMargin": money(t["maint"]),
        "totalWalletBalance": money(t["wallet"]),
        "totalUnrealizedProfit": money(t["upnl"]),
        "totalMarginBalance": money(t["wallet"] + t["upnl"]),
        "totalPositionInitialMargin": money(t["pos_im"]),
        "totalOpenOrderInitialMargin": money(t["ord_im"]),
        "totalCrossWalletBalance": money(t["wallet"]),
        "totalCrossUnPnl": money(t["upnl"]),
        "availableBalance": money(t["avail"]),
        "maxWithdrawAmount": money(max(0.0, t["avail"])),
        "assets": [asset],
        "positions": positions,
    }
    if version == 2:
        out.update(feeTier=0, canTrade=True, canDeposit=True, canWithdraw=True, updateTime=0, multiAssetsMargin=False)
    return out


def balance_json(engine: Margin, acct: Account, now_ms: int) -> list[Json]:
    t = _totals(engine, acct)
    return [
        {
            "accountAlias": "hedgeLocal",
            "asset": "USDT",
            "balance": money(t["wallet"]),
            **_cross_balance(t, now_ms),
        }
    ]


def leverage_bracket_json(symbol: str) -> Json:
    caps = [(125, 50_000, 0.004), (100, 500_000, 0.005), (50, 10_000_000, 0.01), (20, 80_000_000, 0.025)]
    brackets: list[Json] = []
    floor, cum = 0, 0.0
    for i, (lev, cap, mmr) in enumerate(caps, start=1):
        if i > 1:
            cum += floor * (mmr - caps[i - 2][2])
        brackets.append(
            {
                "bracket": i,
                "initialLeverage": lev,
                "notionalCap": cap,
                "notionalFloor": floor,
                "maintMarginRatio": mmr,
                "cum": cum,
            }
        )
        floor = cap
    return {"symbol": symbol, "brackets": brackets}


def order_update_event(
    engine: Margin,
    acct: Account,
    order: Order,
    exec_type: ExecType,
    fill: Execution | None,
    spec: SymbolSpec,
    now_ms: int,
) -> Json:
    bids, asks = _side_notionals(acct, order.symbol)
    return {
        "e": "ORDER_TRADE_UPDATE",
        "E": now_ms,
        "T": fill.time_ms if fill else order.update_ms,
        "o": {
            "s": order.symbol,
            "c": order.client_order_id,
            "S": order.side,
            "o": order.type,
            "f": order.time_in_force,
            "q": spec.fmt_qty(order.quantity),
            "p": spec.fmt_price(order.price),
            "ap": spec.fmt_price(order.avg_price),
            "sp": spec.fmt_price(order.stop_price) if order.stop_price else "0",
            "x": exec_type,
            "X": order.status,
            "i": order.order_id,
            "l": spec.fmt_qty(fill.qty) if fill else "0",
            "z": spec.fmt_qty(order.filled),
            "L": spec.fmt_price(fill.price) if fill else "0",
            "N": "USDT",
            "n": money(fill.commission) if fill else "0",
            "T": fill.time_ms if fill else order.update_ms,
            "t": fill.trade_id if fill else 0,
            "b": money(bids),
            "a": money(asks),
            "m": fill.maker if fill else False,
            "R": order.reduce_only,
            "wt": order.working_type,
            "ot": order.orig_type,
            "ps": "BOTH",
            "cp": order.close_position,
            "rp": money(fill.realized_pnl) if fill else "0",
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
        },
    }


def account_update_event(
    engine: Margin, acct: Account, reason: str, symbols: list[str], specs: dict[str, SymbolSpec], now_ms: int
) -> Json:
    positions = []
    for symbol in symbols:
        pos = acct.position(symbol)
        positions.append(
            {
                "s": symbol,
                "pa": specs[symbol].fmt_qty(pos.amount),
                "ep": f"{pos.entry_price:.8f}",
                "bep": f"{pos.entry_price:.8f}",
                "cr": money(pos.realized),
                "up": money(engine.unrealized(symbol, pos)),
                "mt": "cross",
                "iw": "0",
                "ps": "BOTH",
            }
        )
    return {
        "e": "ACCOUNT_UPDATE",
        "E": now_ms,
        "T": now_ms,
        "a": {
            "m": reason,
            "B": [{"a": "USDT", "wb": money(acct.wallet), "cw": money(acct.wallet), "bc": "0"}],
            "P": positions,
        },
    }
