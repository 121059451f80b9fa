"""Builders shared by the risk tests: a config with one symbol per tier, an allowing context, intents."""

from __future__ import annotations

import msgspec

from hedge.config import Config, CorrelationGroup, RiskConfig, SymbolInfo, SymbolsConfig
from hedge.events import OrderIntent, Side, Tier
from hedge.risk.context import BookRisk, NavHealth, PositionRisk, RiskContext
from tests.kit.config import make_config

NOW_NS = 1_763_000_000_000 * 1_000_000  # a Thursday (weekday 3), 2025-11-13 02:13:20 UTC
NOW_MS = NOW_NS // 1_000_000
NAV = 10_000.0
PX = 100.0  # every book is 100 / 100.01 so notionals are easy to read

SYMBOLS = {
    "BTCUSDT": SymbolInfo(tier=Tier.CORE, group="majors", liquidity="deep"),
    "ETHUSDT": SymbolInfo(tier=Tier.CORE, group="majors", liquidity="deep"),
    "SOLUSDT": SymbolInfo(tier=Tier.SATELLITE),
    "SUSHIUSDT": SymbolInfo(tier=Tier.TACTICAL, group="defi", liquidity="thin"),
    "UNIUSDT": SymbolInfo(tier=Tier.TACTICAL, group="defi"),
    "DOGEUSDT": SymbolInfo(tier=Tier.ALT_EXT),
}


def risk_config(**risk: object) -> Config:
    """The built-in defaults with ``risk`` (validated as a config file's section would be) and SYMBOLS."""
    return make_config(
        risk=msgspec.convert(risk, RiskConfig),
        symbols=SymbolsConfig(
            symbols=SYMBOLS,
            correlation_groups={"majors": CorrelationGroup(cap=0.40), "defi": CorrelationGroup(cap=0.10)},
        ),
    )


def book(px: float = PX, **kw: object) -> BookRisk:
    base: dict[str, object] = {"valid": True, "bid": px, "ask": px, "spread_bps": 1.0, "lag_ms": 5.0}
    base.update(kw)
    return msgspec.convert(base, BookRisk)


def ctx(**kw: object) -> RiskContext:
    """A context in which a small buy of BTCUSDT is allowed without any reduction."""
    base = RiskContext(
        now_ns=NOW_NS,
        nav=NavHealth(value=NAV, age_s=1.0, source="account_update", updated_ms=NOW_MS - 1000),
        day_start_nav=NAV,
        nav_hwm=NAV,
        book=book(),
        user_stream_up=True,
        ack_latency_ms=20.0,
    )
    return msgspec.structs.replace(base, **kw)


def pos(qty: float, mark: float = PX, buy: float = 0.0, sell: float = 0.0) -> PositionRisk:
    return PositionRisk(qty=qty, mark=mark, open_buy=buy, open_sell=sell)


def intent(notional: float = 100.0, side: Side = Side.BUY, symbol: str = "BTCUSDT", **kw: object) -> OrderIntent:
    fields: dict[str, object] = {"e_pi_bps": 5.0}
    fields.update(kw)
    return OrderIntent(
        intent_id="i-1",
        symbol=symbol,
        side=side,
        notional=notional,
        strategy="test",
        reason="test",
        **fields,  # type: ignore[arg-type]
    )
