"""Each panel of the dashboard, driven by streamlit.testing on the state files and journals of a real
replay of the bundled recording: its title, and figures from the files, in text and in charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hedge.dashboard.app import PANELS
from tests.integration.dashboard.conftest import Drive, chart_frames, series_of, texts


def _state(d: Path, name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((d / "state" / f"{name}.json").read_text())


@pytest.fixture
def replay_dir(classic_replay: tuple[object, Path]) -> Path:
    return classic_replay[1]


def test_every_panel_renders_its_title_and_no_error(dashboard: Drive, replay_dir: Path) -> None:
    for panel in PANELS:
        at = dashboard([replay_dir], panel.TITLE)
        assert [h.value for h in at.header] == [panel.TITLE]
        assert not at.error, (panel.TITLE, [e.value for e in at.error])
        # the age of what it read: a replay's files carry event time, so never "stale"
        assert any("replay, as of the end of the run" in c.value for c in at.caption), panel.TITLE


def test_equity_nav_curve_and_figures_come_from_the_replay(dashboard: Drive, replay_dir: Path) -> None:
    at = dashboard([replay_dir], "Equity")
    nav = _state(replay_dir, "nav_state")
    kpis = _state(replay_dir, "kpis")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["NAV (USDT)"] == f"{nav['nav']:,.2f}"
    assert metrics["Fees"] == f"{kpis['fees']:,.2f}"
    frames = chart_frames(at)
    navs = [f for f in frames if "nav" in f.columns]
    assert navs, [list(f.columns) for f in frames]
    # the curve: every Nav line of events.jsonl, ending at the NAV of nav_state.json
    nav_lines = [json.loads(x) for x in (replay_dir / "events.jsonl").read_text().splitlines() if '"kind":"Nav"' in x]
    assert len(navs[0]) == len(nav_lines)
    assert navs[0]["nav"].iloc[-1] == pytest.approx(nav["nav"])
    assert series_of(at, "fees").iloc[-1] == pytest.approx(kpis["fees"])  # cumulative fees of fills.jsonl


def test_execution_shows_vetoes_by_reason_recent_orders_and_observed_vs_limit(dashboard: Drive, replay_dir: Path) -> None:
    at = dashboard([replay_dir], "Execution")
    diag = _state(replay_dir, "diagnostics")
    vetoes = next(f for f in chart_frames(at) if "vetoes" in f.columns)
    assert dict(zip(vetoes.iloc[:, 0], vetoes["vetoes"], strict=True)) == diag["vetoes"]
    orders, latest = at.dataframe[0].value, at.dataframe[1].value
    sent = (replay_dir / "orders_sent.jsonl").read_text().splitlines()
    assert len(orders) == min(30, len(sent))
    assert set(orders["outcome"]) <= {"NEW", "FILLED", "CANCELED", "EXPIRED", "REJECTED", "PARTIALLY_FILLED"}
    assert "FILLED" in set(orders["outcome"]) or "CANCELED" in set(orders["outcome"])
    assert latest["observed vs limit"].str.contains(" vs limit ").any()


def test_risk_state_limits_and_tier_cap(dashboard: Drive, replay_dir: Path) -> None:
    at = dashboard([replay_dir], "Risk")
    risk = _state(replay_dir, "risk_snapshot")
    text = texts(at)
    assert f"Trading state: :green[{risk['trading_state']}]" in text
    assert "limit 20.00%" in text and "Kill switch: not engaged" in text
    symbols = at.dataframe[0].value
    row = symbols[symbols["symbol"] == "BTCUSDT"].iloc[0]
    assert row["tier"] == "CORE" and row["tier cap"] == pytest.approx(0.30)
    pos = _state(replay_dir, "positions_state")["positions"][0]
    assert row["exposure (x NAV)"] == pytest.approx(abs(pos["notional"]) / risk["nav"])
    use = next(f for f in chart_frames(at) if "use" in f.columns)
    assert len(use) == 7


def test_router_health_per_symbol_and_outcomes(dashboard: Drive, replay_dir: Path) -> None:
    at = dashboard([replay_dir], "Router health")
    health = _state(replay_dir, "router_health")
    table = at.dataframe[0].value
    assert table["executions"].iloc[0] == health["symbols"][0]["executions"]
    row = health["symbols"][0]
    assert 0.0 < row["quality"] <= 1.0 and table["quality score"].iloc[0] == row["quality"]
    assert table["liquidity"].iloc[0] == row["liquidity"] and table["fill rate"].iloc[0] == row["fill_rate"]
    outcomes = next(f for f in chart_frames(at) if "orders" in f.columns)
    assert dict(zip(outcomes.iloc[:, 0], outcomes["orders"], strict=True)) == health["orders_by_outcome"]
    assert "fell back to taker" in texts(at)


def test_positions_ledger_next_to_exchange_without_drift(dashboard: Drive, replay_dir: Path) -> None:
    at = dashboard([replay_dir], "Positions")
    ledger = _state(replay_dir, "positions_ledger")["positions"][0]
    table = at.dataframe[0].value
    row = table[table["symbol"] == ledger["symbol"]].iloc[0]
    assert row["ledger qty"] == pytest.approx(ledger["qty"]) and row["SL"] == pytest.approx(ledger["sl_price"])
    assert not row["drift"] and "agree on every position" in texts(at)


def test_scores_and_health(dashboard: Drive, replay_dir: Path) -> None:
    at = dashboard([replay_dir], "Scores and factors")
    scores = _state(replay_dir, "symbol_scores")
    table = at.dataframe[1].value
    assert table["trades"].iloc[0] == scores["symbols"][0]["trades"]
    assert "**Factor diagnostics**" in texts(at)  # the replay writes factor_diagnostics.json (docs/intel.md)
    assert any("ic" in d.value.columns and "factor" in d.value.columns for d in at.dataframe)
    assert any("p(TP before SL)" in f.columns for f in chart_frames(at))
    at = dashboard([replay_dir], "Health")
    assert "/health: OK" in texts(at)
    assert at.dataframe[1].value["state"].tolist() == ["VALID"]


def test_two_runs_compared(dashboard: Drive, replay_dir: Path, replay_copy: Path) -> None:
    at = dashboard([replay_dir, replay_copy], "Equity")
    table = at.dataframe[0].value
    assert len(table) == 2 and table["end NAV"].iloc[0] == table["end NAV"].iloc[1]
    assert [s.value for s in at.subheader][:1] == ["Runs compared"]
