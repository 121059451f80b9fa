"""A small scalper written with plain ccxt that asks hedge's pre-trade gate before every order.

Owns: its own loop (read the book, ask ``/pretrade/check``, send a market order of at most the
gate's ``max_qty``, report the fills to ``/posttrade/log``), alternating buys and sells so every
second order closes the first one's position and realises a PnL.

Must never: send an order the gate did not allow, or send more than the gate's ``max_qty``.

Run it against the local exchange and a gate on it:

    hedge exchange --port 8100 &
    hedge gate --venue local &            # runtime.local_exchange.port = 8100 in configs/runtime.yaml
    python examples/ccxt_runner.py --exchange http://127.0.0.1:8100 --gate http://127.0.0.1:8000 --orders 10

The last line printed is one JSON object: orders asked, allowed, filled, vetoed, realised PnL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from typing import Any

import aiohttp
import ccxt.async_support as ccxt

# The local exchange's built-in test key pair (hedge/exchange/auth.py); a real venue takes its own.
LOCAL_KEY = "hedgeLocalTestApiKey000000000000000000000000000000000000000000001"
LOCAL_SECRET = "hedgeLocalTestSecret00000000000000000000000000000000000000000001"
API_PATHS = {"fapiPublic": "/fapi/v1", "fapiPublicV2": "/fapi/v2", "fapiPublicV3": "/fapi/v3",
             "fapiPrivate": "/fapi/v1", "fapiPrivateV2": "/fapi/v2", "fapiPrivateV3": "/fapi/v3"}


def exchange_client(base_url: str, key: str, secret: str) -> Any:
    """Plain ccxt binanceusdm with its USD-M REST URLs pointed at ``base_url``."""
    ex = ccxt.binanceusdm({"apiKey": key, "secret": secret, "options": {"fetchCurrencies": False}})
    for name, path in API_PATHS.items():
        ex.urls["api"][name] = base_url + path
    return ex


class Gate:
    def __init__(self, http: aiohttp.ClientSession, url: str, token: str | None) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(self.url + path, json=body, headers=self.headers) as r:
            answer: dict[str, Any] = await r.json()
            if r.status != 200:
                raise RuntimeError(f"gate {path}: {r.status} {answer}")
            return answer


async def run(exchange_url: str, gate_url: str, *, symbol: str = "BTCUSDT", orders: int = 10, qty: float = 0.002,
              key: str = LOCAL_KEY, secret: str = LOCAL_SECRET, token: str | None = None) -> dict[str, Any]:
    """Trade ``orders`` times through the gate; the summary of what happened."""
    ex = exchange_client(exchange_url, key, secret)
    run_id = uuid.uuid4().hex[:8]
    stats: dict[str, Any] = {"asked": 0, "allowed": 0, "vetoed": 0, "filled": 0, "pnl": 0.0, "reasons": {}}
    try:
        await ex.load_markets()
        market = ex.market(symbol)
        async with aiohttp.ClientSession() as http:
            gate = Gate(http, gate_url, token)
            for i in range(orders):
                side = "BUY" if i % 2 == 0 else "SELL"
                book = await ex.fetch_order_book(market["symbol"], 5)
                bid, ask = book["bids"][0][0], book["asks"][0][0]
                lag_ms = max(0.0, time.time() * 1000 - book["timestamp"]) if book.get("timestamp") else 0.0
                decision = await gate.post("/pretrade/check", {
                    "idempotency_key": f"{run_id}-{i}", "symbol": symbol, "side": side, "quantity": qty,
                    "price": ask if side == "BUY" else bid, "order_type": "MARKET", "bid": bid, "ask": ask,
                    "latency_ms": lag_ms, "e_pi_bps": 2.0, "p_tp": 0.55, "reduce_only": side == "SELL",
                })
                stats["asked"] += 1
                amount = float(ex.amount_to_precision(market["symbol"], min(qty, decision["max_qty"]))) \
                    if decision["allow"] else 0.0
                if amount <= 0.0:
                    stats["vetoed"] += 1
                    for r in decision["reasons"]:
                        stats["reasons"][r["name"]] = stats["reasons"].get(r["name"], 0) + 1
                    await gate.post("/posttrade/log", {"order_id": f"{run_id}-{i}", "symbol": symbol, "side": side,
                                                       "status": "denied", "decision_id": decision["decision_id"],
                                                       "reason": ",".join(r["name"] for r in decision["reasons"])})
                    continue
                stats["allowed"] += 1
                params = {"reduceOnly": True} if side == "SELL" else {}
                try:
                    order = await ex.create_order(market["symbol"], "market", side.lower(), amount, None, params)
                except ccxt.BaseError as e:
                    await gate.post("/posttrade/log", {"order_id": f"{run_id}-{i}", "symbol": symbol, "side": side,
                                                       "status": "failed", "decision_id": decision["decision_id"],
                                                       "reason": str(e)[:500]})
                    continue
                trades = await ex.fetch_my_trades(market["symbol"], params={"orderId": order["id"]})
                fills = [{"qty": float(t["amount"]), "price": float(t["price"]),
                          "fee": float((t.get("fee") or {}).get("cost") or 0.0),
                          "realized_pnl": float(t["info"].get("realizedPnl", 0.0)), "trade_id": int(t["id"])}
                         for t in trades]
                pnl = sum(f["realized_pnl"] for f in fills)
                stats["filled"] += 1
                stats["pnl"] += pnl
                closing = side == "SELL"
                await gate.post("/posttrade/log", {
                    "order_id": str(order["id"]), "symbol": symbol, "side": side, "status": "filled",
                    "decision_id": decision["decision_id"], "fills": fills, "realized_pnl": pnl,
                    "outcome": ("win" if pnl > 0 else "loss") if closing else "open",
                })
    finally:
        await ex.close()
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description="A plain-ccxt scalper that asks hedge's gate before every order.")
    ap.add_argument("--exchange", default="http://127.0.0.1:8100", help="the venue's REST base URL")
    ap.add_argument("--gate", default="http://127.0.0.1:8000")
    ap.add_argument("--symbol", default="BTCUSDT")
    ap.add_argument("--orders", type=int, default=10)
    ap.add_argument("--qty", type=float, default=0.002)
    args = ap.parse_args()
    stats = asyncio.run(run(args.exchange, args.gate, symbol=args.symbol, orders=args.orders, qty=args.qty,
                            token=os.environ.get("HEDGE_GATE_TOKEN")))
    print(json.dumps(stats))  # noqa: T201 - a script: its summary is its output


if __name__ == "__main__":
    main()
