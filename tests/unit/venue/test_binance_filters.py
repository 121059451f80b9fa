"""exchangeInfo -> SymbolFilters, on the bundled real exchangeInfo and on bad input."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from hedge.venue.binance_filters import (
    BUNDLED_EXCHANGE_INFO,
    FilterParseError,
    bundled_filters,
    parse_exchange_info,
    parse_symbol,
)


def test_bundled_exchange_info_is_exact() -> None:
    f = bundled_filters()
    raw = json.loads(BUNDLED_EXCHANGE_INFO.read_text())
    trading = {s["symbol"] for s in raw["symbols"] if s["status"] == "TRADING"}
    assert set(f) == trading and "BTCUSDT" in f
    btc = f["BTCUSDT"]
    assert btc.tick_size == Decimal("0.01") and btc.step_size == Decimal("0.001")
    assert (btc.min_qty, btc.max_qty) == (Decimal("0.001"), Decimal("1000"))
    assert (btc.min_price, btc.max_price) == (Decimal("556.72"), Decimal("1000000"))
    assert btc.min_notional == Decimal("5")
    assert (btc.percent_up, btc.percent_down) == (Decimal("1.1500"), Decimal("0.8500"))
    # every symbol's sizes survive exactly as the strings on the wire
    for s in raw["symbols"]:
        if s["status"] != "TRADING":
            continue
        pf = next(x for x in s["filters"] if x["filterType"] == "PRICE_FILTER")
        assert f[s["symbol"]].tick_size == Decimal(pf["tickSize"])


def test_ccxt_market_info_entry_and_unknown_filters() -> None:
    entry = {
        "symbol": "ETHUSDT", "status": "TRADING",
        "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": "0.01", "minPrice": "39.86", "maxPrice": "306177"},
            {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "10000"},
            {"filterType": "MIN_NOTIONAL", "notional": "20"},
            {"filterType": "POSITION_RISK_CONTROL", "positionControlSide": "NONE"},
            {"filterType": "SOMETHING_NEW", "x": "1"},
        ],
    }
    f = parse_symbol(entry)
    assert f.min_notional == Decimal("20") and f.percent_up == 0 and f.market_step_size == 0


@pytest.mark.parametrize(
    "filters",
    [
        [{"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001"}],  # no PRICE_FILTER
        [{"filterType": "PRICE_FILTER", "tickSize": "0"}, {"filterType": "LOT_SIZE", "stepSize": "0.001"}],
        [{"filterType": "PRICE_FILTER", "tickSize": "abc"}, {"filterType": "LOT_SIZE", "stepSize": "0.001"}],
        [{"filterType": "PRICE_FILTER", "tickSize": "-0.1"}, {"filterType": "LOT_SIZE", "stepSize": "0.001"}],
    ],
)
def test_bad_entries_name_the_symbol(filters: list[dict[str, str]]) -> None:
    with pytest.raises(FilterParseError, match="BADUSDT"):
        parse_symbol({"symbol": "BADUSDT", "filters": filters})


def test_bad_body() -> None:
    with pytest.raises(FilterParseError):
        parse_exchange_info(b"{not json")
