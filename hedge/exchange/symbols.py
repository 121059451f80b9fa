"""Tradable symbols of the local exchange and their filters, from a real ``exchangeInfo`` answer.

Owns: loading the bundled exchangeInfo (2021-07-21), applying the late-2025 BTCUSDT filters
(tick 0.10, step 0.001, qty 0.001..1000, MIN_NOTIONAL 100, PERCENT_PRICE 1.05/0.95), inventing a
plausible entry for a synthetic symbol the file does not list, and turning the filters into a
typed ``SymbolSpec`` the matching engine enforces, with the symbol's maintenance margin rate (one
bracket: ``MAINT_MARGIN_RATE``, maintenance amount 0; the file's ``maintMarginPercent`` is a field
Binance says to ignore) and liquidation clearance fee rate (the entry's ``liquidationFee`` when
present, else ``DEFAULT_LIQUIDATION_FEE``).

Must never: touch the network, or hold any state that changes after start.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from decimal import Decimal
from importlib import resources
from typing import Any

import msgspec
import orjson

EXCHANGE_INFO_FILE = "exchangeInfo_2021-07-21.json"

# Late-2025 filters for BTCUSDT (protocol reference section 4, data of 2025-12-24).
BTCUSDT_2025_FILTERS: list[dict[str, Any]] = [
    {"minPrice": "261.10", "maxPrice": "809484", "filterType": "PRICE_FILTER", "tickSize": "0.10"},
    {"stepSize": "0.001", "filterType": "LOT_SIZE", "maxQty": "1000", "minQty": "0.001"},
    {"stepSize": "0.001", "filterType": "MARKET_LOT_SIZE", "maxQty": "120", "minQty": "0.001"},
    {"limit": 200, "filterType": "MAX_NUM_ORDERS"},
    {"notional": "100", "filterType": "MIN_NOTIONAL"},
    {"multiplierDown": "0.9500", "multiplierUp": "1.0500", "multiplierDecimal": "4", "filterType": "PERCENT_PRICE"},
]
MAINT_MARGIN_RATE = 0.004  # Binance BTCUSDT's first bracket (notional up to 50k); one bracket here
DEFAULT_LIQUIDATION_FEE = 0.0125  # Binance BTCUSDT's liquidationFee (2025)
RATE_LIMITS: list[dict[str, Any]] = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
]


class SymbolSpec(msgspec.Struct, frozen=True, kw_only=True):
    """The filters of one symbol as numbers (strings kept where the wire echoes them)."""

    symbol: str
    tick: float
    step: float
    min_price: float
    max_price: float
    min_qty: float
    max_qty: float
    market_min_qty: float
    market_max_qty: float
    max_num_orders: int
    min_notional: float
    min_notional_text: str
    mult_up: float
    mult_down: float
    price_decimals: int  # decimals of tickSize: prices are formatted and checked with these
    qty_decimals: int  # decimals of stepSize
    price_precision: int  # pricePrecision: more decimals than this -> -1111
    qty_precision: int  # quantityPrecision
    maint_margin_rate: float = MAINT_MARGIN_RATE  # one bracket, maintenance amount 0
    liquidation_fee: float = DEFAULT_LIQUIDATION_FEE  # clearance fee rate of a liquidation's notional

    def fmt_price(self, px: float) -> str:
        return f"{px:.{self.price_decimals}f}"

    def fmt_qty(self, qty: float) -> str:
        return f"{qty:.{self.qty_decimals}f}"


def _decimals(text: str) -> int:
    exp = Decimal(text).normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def spec_from_entry(entry: dict[str, Any]) -> SymbolSpec:
    f = {x["filterType"]: x for x in entry["filters"]}
    price, lot = f["PRICE_FILTER"], f["LOT_SIZE"]
    mlot = f.get("MARKET_LOT_SIZE", lot)
    pct = f.get("PERCENT_PRICE", {"multiplierUp": "1.15", "multiplierDown": "0.85"})
    notional = f.get("MIN_NOTIONAL", {"notional": "5"})["notional"]
    return SymbolSpec(
        symbol=entry["symbol"],
        tick=float(price["tickSize"]),
        step=float(lot["stepSize"]),
        min_price=float(price["minPrice"]),
        max_price=float(price["maxPrice"]),
        min_qty=float(lot["minQty"]),
        max_qty=float(lot["maxQty"]),
        market_min_qty=float(mlot["minQty"]),
        market_max_qty=float(mlot["maxQty"]),
        max_num_orders=int(f.get("MAX_NUM_ORDERS", {"limit": 200})["limit"]),
        min_notional=float(notional),
        min_notional_text=str(Decimal(notional).normalize()),
        mult_up=float(pct["multiplierUp"]),
        mult_down=float(pct["multiplierDown"]),
        price_decimals=_decimals(price["tickSize"]),
        qty_decimals=_decimals(lot["stepSize"]),
        price_precision=int(entry.get("pricePrecision", 8)),
        qty_precision=int(entry.get("quantityPrecision", 8)),
        liquidation_fee=float(entry.get("liquidationFee", DEFAULT_LIQUIDATION_FEE)),
    )


def synthetic_entry(symbol: str, template: dict[str, Any]) -> dict[str, Any]:
    """An exchangeInfo entry for a symbol the recorded file does not list (USDT-margined perpetual)."""
    entry = copy.deepcopy(template)
    base = symbol[:-4] if symbol.endswith("USDT") else symbol
    entry.update(symbol=symbol, pair=symbol, baseAsset=base, quoteAsset="USDT", marginAsset="USDT")
    entry["filters"] = [
        {"minPrice": "0.0100", "maxPrice": "1000000", "filterType": "PRICE_FILTER", "tickSize": "0.0100"},
        {"stepSize": "0.01", "filterType": "LOT_SIZE", "maxQty": "1000000", "minQty": "0.01"},
        {"stepSize": "0.01", "filterType": "MARKET_LOT_SIZE", "maxQty": "100000", "minQty": "0.01"},
        {"limit": 200, "filterType": "MAX_NUM_ORDERS"},
        {"notional": "5", "filterType": "MIN_NOTIONAL"},
        {"multiplierDown": "0.9000", "multiplierUp": "1.1000", "multiplierDecimal": "4", "filterType": "PERCENT_PRICE"},
    ]
    entry["pricePrecision"], entry["quantityPrecision"] = 4, 2
    return entry


class ExchangeInfo:
    """The exchangeInfo document served on REST and the specs derived from it."""

    def __init__(self, extra_symbols: list[str] | None = None, *, only: Collection[str] | None = None) -> None:
        """``extra_symbols``: synthetic entries for symbols the bundled document lacks; ``only``: the specs
        of these symbols alone (replay's simulated venue trades its universe: the other ~120 specs, and
        the filters the router would build from them, cost a few ms a run for nothing)."""
        raw = resources.files("hedge").joinpath("data", "binance-usdm", "cryptofeed", EXCHANGE_INFO_FILE).read_bytes()
        doc: dict[str, Any] = orjson.loads(raw)
        doc["rateLimits"] = RATE_LIMITS
        by_name = {s["symbol"]: s for s in doc["symbols"]}
        btc = by_name["BTCUSDT"]
        btc["filters"] = copy.deepcopy(BTCUSDT_2025_FILTERS)
        btc["pricePrecision"], btc["quantityPrecision"] = 2, 3
        for sym in extra_symbols or []:
            if sym not in by_name:
                entry = synthetic_entry(sym, btc)
                doc["symbols"].append(entry)
                by_name[sym] = entry
        self.doc = doc
        self.specs: dict[str, SymbolSpec] = {
            s["symbol"]: spec_from_entry(s) for s in doc["symbols"]
            if s.get("status") == "TRADING" and (only is None or s["symbol"] in only)
        }

    def body(self, server_time_ms: int) -> bytes:
        return orjson.dumps({**self.doc, "serverTime": server_time_ms})
