"""The state model turns the latest events into each surface's rows, field by field."""

from __future__ import annotations

import msgspec

from hedge.bus import Bus
from hedge.events import (
    LedgerPosition,
    MarkPrice,
    Nav,
    Position,
    RiskSnapshot,
    RouterHealth,
    StrategyScore,
    SymbolScore,
    TradingState,
    TradingStateChange,
)
from hedge.state import schemas as s
from hedge.state.health import HealthMonitor, HealthRules
from hedge.state.mirror import mirror
from hedge.state.surfaces import StateModel
from hedge.state.telemetry import Telemetry


def model() -> tuple[Bus, StateModel]:
    bus, t = Bus(), Telemetry()
    m = StateModel(t, HealthMonitor(t, HealthRules(symbols=("BTCUSDT",))), bus)
    m.attach(bus)
    return bus, m


def body(f: s.StateFile) -> dict[str, object]:
    """A built surface without its stamp (schema version and write time)."""
    out = msgspec.to_builtins(f)
    assert out.pop("schema_version") == type(f).SCHEMA_VERSION and out.pop("updated_ns") == 7
    return out  # type: ignore[no-any-return]


def test_mirror_copies_shared_fields_and_takes_computed_ones_over_them() -> None:
    p = Position(symbol="ETHUSDT", qty=-2.0, entry_price=50.0, unrealized_pnl=1.5, mark_price=49.0, recv_ns=9)
    row = mirror(s.PositionRow, p, notional=-98.0, mark_price=48.0)
    assert row == s.PositionRow(
        symbol="ETHUSDT", qty=-2.0, entry_price=50.0, unrealized_pnl=1.5, mark_price=48.0, notional=-98.0
    )
    # a row field the event lacks keeps its default
    m = MarkPrice(symbol="X", mark_price=1.0, index_price=2.0, funding_rate=0.1, next_funding_ms=3)
    assert mirror(s.FundingRow, m) == s.FundingRow(
        symbol="X", funding_rate=0.1, next_funding_ms=3, mark_price=1.0, annualized=0.0
    )


def test_every_row_surface_carries_its_event_fields() -> None:
    bus, m = model()
    bus.publish(Nav(nav=990.0, wallet_balance=1000.0, unrealized_pnl=-10.0, source="account_update", recv_ns=11))
    bus.publish(Nav(nav=980.0, wallet_balance=1000.0, unrealized_pnl=-20.0, source="reconcile", recv_ns=12))
    bus.publish(Position(symbol="BTCUSDT", qty=0.5, entry_price=100.0, unrealized_pnl=2.0, mark_price=104.0))
    bus.publish(Position(symbol="ETHUSDT", qty=-2.0, entry_price=50.0))  # no mark in it (an ACCOUNT_UPDATE)
    bus.publish(
        LedgerPosition(symbol="BTCUSDT", qty=0.5, entry_price=100.0, strategy="s", tp_price=110.0, sl_price=95.0,
                       trail_price=97.0, realized_pnl=3.0, opened_ms=5)
    )
    bus.publish(
        RouterHealth(symbol="BTCUSDT", executions=4, orders=6, maker_fill_ratio=0.5, fallback_rate=0.25,
                     reject_rate=0.1, slippage_bps=1.5, ack_p50_ms=20.0, ack_p95_ms=40.0, denied=1, unknown=2,
                     liquidity="deep", fill_rate=0.9, twap_executions=1, quality=0.7)
    )
    bus.publish(
        SymbolScore(symbol="BTCUSDT", expectancy_bps=3.0, symbol_score=0.7, hybrid_score=0.8, trades=12,
                    sprt_llr=1.25, enabled=False, recv_ns=13)
    )
    for strategy, trades in (("trend", 4), ("micro_scalper", 8), ("micro_scalper", 9)):  # the latest per strategy
        bus.publish(
            StrategyScore(symbol="BTCUSDT", strategy=strategy, expectancy_bps=1.5, symbol_score=0.4, hybrid_score=0.5,
                          trades=trades, sprt_llr=-0.5, recv_ns=14, budget=trades / 10)
        )
    bus.publish(MarkPrice(symbol="BTCUSDT", mark_price=101.0, index_price=100.0, funding_rate=0.0001,
                          next_funding_ms=99))
    bus.publish(MarkPrice(symbol="ETHUSDT", mark_price=50.0, index_price=0.0, funding_rate=-0.0002,
                          next_funding_ms=98))
    assert body(m.build("nav_state", 7)) == {
        "nav": 980.0, "wallet_balance": 1000.0, "unrealized_pnl": -20.0, "source": "reconcile",
        "peak_nav": 990.0, "nav_ns": 12, "readings": 2,
    }
    assert body(m.build("positions_state", 7)) == {
        "positions": [
            {"symbol": "BTCUSDT", "qty": 0.5, "entry_price": 100.0, "unrealized_pnl": 2.0, "mark_price": 104.0,
             "notional": 52.0},
            {"symbol": "ETHUSDT", "qty": -2.0, "entry_price": 50.0, "unrealized_pnl": 0.0, "mark_price": 50.0,
             "notional": -100.0},  # the position carries no mark: the feed's latest
        ],
        "gross_notional": 152.0,
        "net_notional": -48.0,
    }
    assert body(m.build("positions_ledger", 7)) == {
        "positions": [
            {"symbol": "BTCUSDT", "qty": 0.5, "entry_price": 100.0, "strategy": "s", "tp_price": 110.0,
             "sl_price": 95.0, "trail_price": 97.0, "realized_pnl": 3.0, "opened_ms": 5}
        ]
    }
    router = body(m.build("router_health", 7))
    assert router["symbols"] == [
        {"symbol": "BTCUSDT", "executions": 4, "orders": 6, "maker_fill_ratio": 0.5, "fallback_rate": 0.25,
         "reject_rate": 0.1, "slippage_bps": 1.5, "ack_p50_ms": 20.0, "ack_p95_ms": 40.0, "denied": 1, "unknown": 2,
         "liquidity": "deep", "fill_rate": 0.9, "twap_executions": 1, "quality": 0.7}
    ]
    assert body(m.build("symbol_scores", 7)) == {
        "symbols": [
            {"symbol": "BTCUSDT", "expectancy_bps": 3.0, "symbol_score": 0.7, "hybrid_score": 0.8, "trades": 12,
             "sprt_llr": 1.25, "enabled": False, "updated_ns": 13}
        ],
        "strategies": [
            {"symbol": "BTCUSDT", "strategy": name, "expectancy_bps": 1.5, "symbol_score": 0.4, "hybrid_score": 0.5,
             "trades": trades, "sprt_llr": -0.5, "enabled": True, "updated_ns": 14, "budget": trades / 10}
            for name, trades in (("micro_scalper", 9), ("trend", 4))
        ],
    }
    funding = body(m.build("funding_snapshot", 7))["symbols"]
    assert funding == [
        {"symbol": "BTCUSDT", "funding_rate": 0.0001, "next_funding_ms": 99, "mark_price": 101.0,
         "annualized": 0.0001 * 3 * 365},
        {"symbol": "ETHUSDT", "funding_rate": -0.0002, "next_funding_ms": 98, "mark_price": 50.0,
         "annualized": -0.0002 * 3 * 365},
    ]
    assert body(m.build("basis_snapshot", 7)) == {
        "symbols": [
            {"symbol": "BTCUSDT", "mark_price": 101.0, "index_price": 100.0, "basis_bps": 1.0 / 100.0 * 1e4},
            {"symbol": "ETHUSDT", "mark_price": 50.0, "index_price": 0.0, "basis_bps": 0.0},  # no index: no basis
        ]
    }


def test_risk_snapshot_takes_the_state_from_the_model_and_the_figures_from_the_event() -> None:
    bus, m = model()
    assert body(m.build("risk_snapshot", 7)) == {
        "nav": 0.0, "peak_nav": 0.0, "drawdown": 0.0, "daily_drawdown": 0.0, "gross_exposure": 0.0,
        "net_exposure": 0.0, "var": 0.0, "cvar": 0.0, "open_orders": 0, "trading_state": "ACTIVE",
        "reason": "", "state_changed_ns": 0, "cooloff_until_ms": 0, "cooloff_reason": "",
    }
    bus.publish(TradingStateChange(previous=TradingState.ACTIVE, state=TradingState.REDUCING, reason="dd",
                                   recv_ns=21))
    bus.publish(
        RiskSnapshot(nav=900.0, peak_nav=1000.0, drawdown=0.1, daily_drawdown=0.05, gross_exposure=1.5,
                     net_exposure=-0.5, var=0.02, cvar=0.03, open_orders=4, state=TradingState.REDUCING,
                     reason="the event's own", cooloff_until_ms=5_000, cooloff_reason="3 consecutive losses", recv_ns=22)
    )
    assert body(m.build("risk_snapshot", 7)) == {
        "nav": 900.0, "peak_nav": 1000.0, "drawdown": 0.1, "daily_drawdown": 0.05, "gross_exposure": 1.5,
        "net_exposure": -0.5, "var": 0.02, "cvar": 0.03, "open_orders": 4, "trading_state": "REDUCING",
        "reason": "dd", "state_changed_ns": 21, "cooloff_until_ms": 5_000, "cooloff_reason": "3 consecutive losses",
    }


def test_a_flat_position_or_ledger_entry_leaves_its_surface() -> None:
    bus, m = model()
    dirty: list[str] = []
    m.on_dirty = dirty.append
    bus.publish(Position(symbol="BTCUSDT", qty=1.0, entry_price=100.0))
    bus.publish(LedgerPosition(symbol="BTCUSDT", qty=1.0, entry_price=100.0))
    bus.publish(Position(symbol="ETHUSDT", qty=0.0, entry_price=0.0))  # flat and unknown: nothing to forget
    assert set(m.positions) == {"BTCUSDT"} and set(m.ledger) == {"BTCUSDT"}
    bus.publish(Position(symbol="BTCUSDT", qty=0.0, entry_price=0.0))
    assert m.positions == {} and set(m.ledger) == {"BTCUSDT"}  # the ledger keeps its own view
    bus.publish(LedgerPosition(symbol="BTCUSDT", qty=0.0, entry_price=0.0))
    assert m.ledger == {} and body(m.build("positions_ledger", 7)) == {"positions": []}
    assert dirty == ["positions_state", "positions_ledger", "positions_state", "positions_state", "positions_ledger"]
