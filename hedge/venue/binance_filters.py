"""Binance exchangeInfo -> ``SymbolFilters``: the one place that knows the filters' wire names.

Owns: decoding ``GET /fapi/v1/exchangeInfo`` (or ccxt's ``market['info']``, the same per-symbol
entry) into hedge's exact ``SymbolFilters``: PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE,
MIN_NOTIONAL and PERCENT_PRICE. Filters hedge does not act on (MAX_NUM_ORDERS,
POSITION_RISK_CONTROL, ...) are ignored; unknown filter types are ignored too, so a new Binance
filter never breaks start-up.

Design: numbers are strings on the wire and are kept exact as ``Decimal`` (never via float);
``pricePrecision``/``quantityPrecision`` are not used ("do not use as tickSize/stepSize").

Must never: accept a symbol without a usable PRICE_FILTER and LOT_SIZE (it raises
``FilterParseError``, naming the symbol and what is missing).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import msgspec

from hedge.model.instrument import ZERO, SymbolFilters


class FilterParseError(ValueError):
    pass


class _Filter(msgspec.Struct, kw_only=True):
    filterType: str
    tickSize: str = "0"
    minPrice: str = "0"
    maxPrice: str = "0"
    stepSize: str = "0"
    minQty: str = "0"
    maxQty: str = "0"
    notional: str = "0"
    multiplierUp: str = "0"
    multiplierDown: str = "0"


class _Symbol(msgspec.Struct, kw_only=True):
    symbol: str
    status: str = "TRADING"
    contractType: str = ""
    filters: list[_Filter] = []


class _ExchangeInfo(msgspec.Struct, kw_only=True):
    symbols: list[_Symbol] = []


def _dec(symbol: str, field: str, raw: str) -> Decimal:
    try:
        d = Decimal(raw)
    except InvalidOperation:
        raise FilterParseError(f"{symbol}: {field} {raw!r} is not a number") from None
    if not d.is_finite() or d < 0:
        raise FilterParseError(f"{symbol}: {field} {raw!r} is not a finite non-negative number")
    return d


def _parse(s: _Symbol) -> SymbolFilters:
    by_type = {f.filterType: f for f in s.filters}
    price, lot = by_type.get("PRICE_FILTER"), by_type.get("LOT_SIZE")
    if price is None or lot is None:
        raise FilterParseError(f"{s.symbol}: PRICE_FILTER and LOT_SIZE are required")
    tick, step = _dec(s.symbol, "tickSize", price.tickSize), _dec(s.symbol, "stepSize", lot.stepSize)
    if tick <= 0 or step <= 0:
        raise FilterParseError(f"{s.symbol}: tickSize {tick} and stepSize {step} must be > 0")
    market = by_type.get("MARKET_LOT_SIZE")
    notional = by_type.get("MIN_NOTIONAL")
    pct = by_type.get("PERCENT_PRICE")
    return SymbolFilters(
        symbol=s.symbol,
        tick_size=tick,
        step_size=step,
        min_qty=_dec(s.symbol, "minQty", lot.minQty),
        max_qty=_dec(s.symbol, "maxQty", lot.maxQty),
        min_price=_dec(s.symbol, "minPrice", price.minPrice),
        max_price=_dec(s.symbol, "maxPrice", price.maxPrice),
        market_step_size=_dec(s.symbol, "MARKET_LOT_SIZE.stepSize", market.stepSize) if market else ZERO,
        market_min_qty=_dec(s.symbol, "MARKET_LOT_SIZE.minQty", market.minQty) if market else ZERO,
        market_max_qty=_dec(s.symbol, "MARKET_LOT_SIZE.maxQty", market.maxQty) if market else ZERO,
        min_notional=_dec(s.symbol, "notional", notional.notional) if notional else ZERO,
        percent_up=_dec(s.symbol, "multiplierUp", pct.multiplierUp) if pct else ZERO,
        percent_down=_dec(s.symbol, "multiplierDown", pct.multiplierDown) if pct else ZERO,
    )


def parse_symbol(entry: dict[str, Any]) -> SymbolFilters:
    """One ``symbols[]`` entry of exchangeInfo (ccxt: ``market['info']``)."""
    try:
        s = msgspec.convert(entry, _Symbol)
    except msgspec.ValidationError as exc:
        raise FilterParseError(f"bad exchangeInfo symbol entry: {exc}") from None
    return _parse(s)


def parse_exchange_info(raw: bytes, *, trading_only: bool = True) -> dict[str, SymbolFilters]:
    """Every symbol's filters from a raw exchangeInfo body (non-TRADING symbols skipped by default)."""
    try:
        info = msgspec.json.decode(raw, type=_ExchangeInfo)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise FilterParseError(f"bad exchangeInfo: {exc}") from None
    return {s.symbol: _parse(s) for s in info.symbols if not trading_only or s.status == "TRADING"}


BUNDLED_EXCHANGE_INFO = (
    Path(__file__).resolve().parent.parent / "data/binance-usdm/cryptofeed/exchangeInfo_2021-07-21.json"
)


def bundled_filters() -> dict[str, SymbolFilters]:
    """The filters of the bundled real exchangeInfo (2021-07-21): for dry runs without a venue, and tests."""
    return parse_exchange_info(BUNDLED_EXCHANGE_INFO.read_bytes())
