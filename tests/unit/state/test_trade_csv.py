"""trades.csv: the header once, one row per closed trade appended (across a restart too), blanks for
an unknown R, ISO times; and every engine writes it in its log directory from the bus."""

from __future__ import annotations

import csv
from pathlib import Path

from hedge.app import Engine
from hedge.events import ClosedTrade
from hedge.state.trade_csv import COLUMNS, TRADES_FILE, TradeCsv
from tests.kit.config import make_config


def trip(net: float, r: float | None) -> ClosedTrade:
    return ClosedTrade(
        symbol="BTCUSDT", side="short", key="t7", strategy="micro_scalper", entry_reason="score=-0.9",
        exit_reason="stop_loss", opened_ms=1_721_347_064_945, closed_ms=1_721_347_092_167, qty=0.002,
        max_qty=0.002, entry_price=63952.7, exit_price=63945.3, gross_pnl=0.0148, fees=0.0148 - net,
        net_pnl=net, risk=0.32 if r is not None else 0.0, r_multiple=r, mfe_bps=1.5, mae_bps=-0.25, fills=2,
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_rows_are_appended_under_one_header_across_writers(tmp_path: Path) -> None:
    TradeCsv(tmp_path).on_trip(trip(-0.1, -0.3125))
    TradeCsv(tmp_path).on_trip(trip(0.05, None))  # a restarted daemon appends
    path = tmp_path / TRADES_FILE
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    first, second = rows(path)
    assert first["entry_time"] == "2024-07-18T23:57:44.945Z" and first["exit_time"] == "2024-07-18T23:58:12.167Z"
    assert first["side"] == "short" and first["exit_reason"] == "stop_loss" and first["entry_reason"] == "score=-0.9"
    assert float(first["net_pnl"]) == -0.1 and first["r_multiple"] == "-0.3125" and first["risk"] == "0.32"
    assert first["holding_s"] == "27.222" and first["qty"] == "0.002" and first["key"] == "t7"
    assert second["r_multiple"] == "" and second["risk"] == "" and float(second["net_pnl"]) == 0.05


def test_an_unwritable_log_dir_is_counted_not_raised(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    w = TradeCsv(tmp_path / "file")  # a file where the directory should be
    w.on_trip(trip(0.0, None))
    assert w.errors == 1 and w.rows == 0


def test_the_engine_writes_closed_trades_to_its_log_dir(tmp_path: Path) -> None:
    engine = Engine(make_config(tmp_path), log_dir=tmp_path / "logs")
    engine.bus.publish(trip(0.2, 0.625))
    try:
        (row,) = rows(tmp_path / "logs" / TRADES_FILE)
        assert row["symbol"] == "BTCUSDT" and row["r_multiple"] == "0.625"
    finally:
        engine.journals.close()
