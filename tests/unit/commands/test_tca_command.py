"""``hedge tca LOGDIR...``: the records of two runs (one per router mode) -> table, tca.json and charts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from hedge.commands import tca as command
from hedge.events import Side
from hedge.router.tca import IntentTca, TcaFill
from hedge.state.journal import Journals


def _run(log_dir: Path, mode: str, price: float, maker: bool) -> None:
    rec = IntentTca(intent_id=f"{mode}-1", symbol="BTCUSDT", side=Side.BUY, mode=mode, qty=1.0, arrival_mid=100.0,
                    end_mid=100.0, budget_bps=10.0, fills=[TcaFill(
                        t_s=0.5, qty=1.0, price=price, fee=0.02, maker=maker, fallback=False,
                        slippage_bps=(price - 100.0) * 100.0, markout_bps={"1s": 1.0, "5s": 2.0, "30s": -1.0})])
    rec.close()
    j = Journals(log_dir)
    j.writer("tca").write("tca", rec)
    j.close()


def test_the_command_compares_the_modes_and_writes_json_and_charts(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _run(tmp_path / "a", "taker", 100.05, maker=False)
    _run(tmp_path / "b", "maker_first", 100.0, maker=True)
    out = tmp_path / "out"
    rc = command.main(argparse.Namespace(log_dirs=[str(tmp_path / "a"), str(tmp_path / "b")], out=str(out)))
    assert rc == 0
    text = capsys.readouterr().out
    assert "maker_first" in text and "taker" in text and "cost_bps" in text
    block = json.loads((out / "tca.json").read_text())
    assert block["taker"]["all"]["cost_bps"] == pytest.approx(7.0)  # 5 bps + 0.02 fee on 100
    assert block["maker_first"]["all"]["maker_share"] == 1.0
    for png in ("tca_cost.png", "tca_markouts.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def test_no_records_is_an_error(tmp_path: Path) -> None:
    assert command.main(argparse.Namespace(log_dirs=[str(tmp_path)], out=None)) == 1


def test_each_execution_counts_once(tmp_path: Path) -> None:
    """A directory named twice, or one a second run appended to, does not double the fills (it showed 128
    fills for 63 intents when the same log dir was given as ``a`` and ``a/``)."""
    _run(tmp_path / "a", "taker", 100.05, maker=False)
    _run(tmp_path / "a", "taker", 100.05, maker=False)  # a second run into the same log dir appends
    recs = command.read_records([str(tmp_path / "a"), str(tmp_path / "a") + "/"])
    assert len(recs) == 1 and sum(len(r.fills) for r in recs) == 1
    _run(tmp_path / "b", "taker", 100.05, maker=False)
    assert len(command.read_records([str(tmp_path / "a"), str(tmp_path / "b")])) == 2  # two runs: two records


def test_auto_choices_chart_fill_probability_by_distance_and_queue(tmp_path: Path) -> None:
    from hedge.router.fillprob import FillFeatures
    from hedge.router.tca import SliceChoice

    x = FillFeatures(queue_ahead=3.0, own_qty=1.0, flow_qty_s=0.4, vol_bps_s=0.0, tick_bps=0.5, spread_ticks=1.0,
                     horizon_s=5.0)
    rec = IntentTca(intent_id="a-1", symbol="BTCUSDT", side=Side.BUY, mode="auto", qty=1.0, arrival_mid=100.0,
                    end_mid=100.0, budget_bps=10.0, choices=[
                        SliceChoice(slice_no=0, rest=True, p_fill=0.4, maker_bps=1.0, taker_bps=2.0, features=x,
                                    filled=True)])
    rec.close()
    j = Journals(tmp_path / "a")
    j.writer("tca").write("tca", rec)
    j.close()
    assert command.main(argparse.Namespace(log_dirs=[str(tmp_path / "a")], out=str(tmp_path / "o"))) == 0
    assert (tmp_path / "o" / "tca_fill_probability.png").stat().st_size > 0
