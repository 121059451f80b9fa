"""The leaderboard sums each strategy's closed trades per symbol and ranks them by net PnL."""

from __future__ import annotations

import csv
from pathlib import Path

import msgspec

from hedge.bus import Bus
from hedge.events import ClosedTrade, Fill, Side
from hedge.state.health import HealthMonitor, HealthRules
from hedge.state.surfaces import StateModel
from hedge.state.telemetry import Telemetry


def trade(strategy: str, symbol: str, net: float, closed_ms: int, entry: float = 100.0, qty: float = 1.0) -> ClosedTrade:
    return ClosedTrade(
        symbol=symbol, side="long", key="t1", strategy=strategy, entry_reason="signal", exit_reason="take_profit",
        opened_ms=closed_ms - 10, closed_ms=closed_ms, qty=qty, max_qty=qty, entry_price=entry, exit_price=entry,
        gross_pnl=net, fees=0.0, net_pnl=net, risk=0.0, r_multiple=None, mfe_bps=0.0, mae_bps=0.0, fills=2,
    )


def fill(symbol: str, maker: bool) -> Fill:
    return Fill(client_order_id="c", symbol=symbol, side=Side.BUY, qty=1.0, price=100.0, fee=0.0, maker=maker)


def test_rows_are_ranked_by_net_pnl_with_hand_computed_figures() -> None:
    bus, t = Bus(), Telemetry()
    m = StateModel(t, HealthMonitor(t, HealthRules(symbols=("BTCUSDT",))), bus)
    m.attach(bus)
    dirty: list[str] = []
    m.on_dirty = dirty.append
    # trend on BTCUSDT: +3, -5, +1 (fills: maker, taker | maker, maker | taker, taker)
    for maker_a, maker_b, net, ts in ((True, False, 3.0, 100), (True, True, -5.0, 200), (False, False, 1.0, 300)):
        bus.publish(fill("BTCUSDT", maker_a))
        bus.publish(fill("BTCUSDT", maker_b))
        bus.publish(trade("trend", "BTCUSDT", net, ts))
    # micro_scalper on ETHUSDT: +2 on a 50 USDT notional; one maker fill
    bus.publish(fill("ETHUSDT", True))
    bus.publish(trade("micro_scalper", "ETHUSDT", 2.0, 400, entry=50.0))
    assert "leaderboard_state" in dirty
    out = msgspec.to_builtins(m.build("leaderboard_state", 7))
    assert out["schema_version"] == 1 and out["updated_ns"] == 7
    assert out["trades"] == 4 and out["pnl"] == -1.0 + 2.0
    assert out["rows"] == [
        {"rank": 1, "strategy": "micro_scalper", "symbol": "ETHUSDT", "pnl": 2.0, "trades": 1, "wins": 1,
         "win_rate": 1.0, "expectancy": 2.0, "expectancy_bps": 400.0, "fills": 1, "maker_fills": 1,
         "maker_share": 1.0, "max_drawdown": 0.0, "last_closed_ms": 400},
        {"rank": 2, "strategy": "trend", "symbol": "BTCUSDT", "pnl": -1.0, "trades": 3, "wins": 2,
         "win_rate": 2 / 3, "expectancy": -1.0 / 3, "expectancy_bps": (300.0 - 500.0 + 100.0) / 3, "fills": 6,
         "maker_fills": 3, "maker_share": 0.5, "max_drawdown": 5.0, "last_closed_ms": 300},
    ]


def test_an_empty_leaderboard_has_no_rows() -> None:
    bus, t = Bus(), Telemetry()
    m = StateModel(t, HealthMonitor(t, HealthRules(symbols=("BTCUSDT",))), bus)
    assert msgspec.to_builtins(m.build("leaderboard_state", 1))["rows"] == []


def test_a_replay_leaderboard_sums_its_trade_list(classic_replay: tuple[object, Path]) -> None:
    """The classic replay's leaderboard_state.json holds the same trades and net PnL as its trades.csv."""
    _, d = classic_replay
    trades = list(csv.DictReader((d / "trades.csv").open()))
    board = msgspec.json.decode((d / "state" / "leaderboard_state.json").read_bytes())
    assert trades and board["trades"] == len(trades)
    by_key: dict[tuple[str, str], float] = {}
    for t in trades:
        key = (t["strategy"], t["symbol"])
        by_key[key] = by_key.get(key, 0.0) + float(t["net_pnl"])
    assert {(r["strategy"], r["symbol"]): round(r["pnl"], 6) for r in board["rows"]} == {
        k: round(v, 6) for k, v in by_key.items()
    }
    assert [r["rank"] for r in board["rows"]] == list(range(1, len(board["rows"]) + 1))
    assert all(0.0 <= r["maker_share"] <= 1.0 and r["fills"] >= r["trades"] for r in board["rows"])
