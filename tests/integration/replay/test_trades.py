"""The trade list of a replay: ``trades.csv`` in its log directory reconciles with the summary (closed
trades' net PnL + the open trade's realized-minus-fees = realized PnL - fees; gross the same way),
the summary's trade figures agree with the file, and with tight exits the run ends flat with every
trade closed by an exit kind."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hedge.replay.summary import ReplaySummary
from hedge.state.trade_csv import TRADES_FILE
from tests.kit.config import make_config
from tests.kit.replay import run_replay


def rows(log_dir: Path) -> list[dict[str, str]]:
    with (log_dir / TRADES_FILE).open(newline="") as f:
        return list(csv.DictReader(f))


def reconciles(s: ReplaySummary, log_dir: Path) -> list[dict[str, str]]:
    p = s.performance
    assert p is not None and p.trades_csv == str(log_dir / TRADES_FILE)
    trades = rows(log_dir)
    assert len(trades) == p.trades > 0
    net = sum(float(t["net_pnl"]) for t in trades)
    assert net == pytest.approx(p.net_pnl, abs=1e-8)
    assert net + p.open_net_pnl == pytest.approx(s.realized_pnl - s.fees, abs=1e-8)
    for t in trades:
        assert float(t["net_pnl"]) == pytest.approx(float(t["gross_pnl"]) - float(t["fees"]), abs=1e-9)
        assert t["side"] in ("long", "short") and float(t["qty"]) > 0.0 and t["exit_reason"]
        assert t["exit_time"] >= t["entry_time"] and t["r_multiple"] != ""  # the default exits set a stop
    wins = sum(float(t["net_pnl"]) > 0.0 for t in trades)
    assert p.wins == wins and p.win_rate == pytest.approx(wins / len(trades))
    assert p.exposure is not None and 0.0 < p.exposure <= 1.0
    assert p.sharpe is None and p.sortino is None and p.returns == 7  # 8 minutes of market: too few returns
    return trades


def test_the_bundled_replay_writes_a_trade_list_that_reconciles(classic_replay: tuple[ReplaySummary, Path]) -> None:
    s, log_dir = classic_replay  # the classic exits trade the bundled recording (the default stays out)
    reconciles(s, log_dir)
    assert s.performance is not None and s.performance.open_trades == 1  # it ends holding a position
    assert s.positions["BTCUSDT"] != 0.0


@pytest.mark.slow
def test_with_tight_exits_the_run_ends_flat_and_every_trade_is_in_the_list(tmp_path: Path) -> None:
    (tmp_path / TRADES_FILE).write_text("a stale row of an earlier replay\n")
    cfg = make_config(strategy__exits__profile="classic", strategy__exits__tp_pct=0.002, strategy__exits__sl_pct=0.0005)
    s, _ = run_replay(tmp_path, cfg)
    trades = reconciles(s, tmp_path)  # the stale file was replaced, not appended to
    p = s.performance
    assert p is not None and p.open_trades == 0 and p.open_net_pnl == 0.0 and s.positions["BTCUSDT"] == 0.0
    assert sum(float(t["net_pnl"]) for t in trades) == pytest.approx(s.realized_pnl - s.fees, abs=1e-8)
    assert trades[-1]["exit_reason"] in ("stop_loss", "take_profit", "breakeven_stop", "trailing_stop")
