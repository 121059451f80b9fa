"""The fill journal: one line per exchange trade, with its source, never twice — not even across a restart."""

from __future__ import annotations

from pathlib import Path

from hedge.events import Fill, Side
from hedge.state.fill_journal import RECONCILE, USER_STREAM, FillJournal
from hedge.state.journal import Journals, read_journal


def fill(trade_id: int, symbol: str = "BTCUSDT") -> Fill:
    return Fill(client_order_id="c", symbol=symbol, side=Side.BUY, qty=0.001, price=60_000.0, fee=0.01,
                trade_id=trade_id, recv_ns=1)


def journaled(tmp: Path) -> list[tuple[str, str, int]]:
    return [(r.decode()["source"], r.decode()["fill"]["symbol"], r.decode()["fill"]["trade_id"])
            for r in read_journal(tmp / "fills.jsonl")]


def test_each_trade_once_by_symbol_and_trade_id_with_its_source(tmp_path: Path) -> None:
    js = Journals(tmp_path)
    fj = FillJournal(js.writer("fills"))
    fj.on_fill(fill(1))
    assert not fj.record(fill(1), RECONCILE)  # the stream was first
    assert fj.record(fill(2), RECONCILE)
    fj.on_fill(fill(2))  # the stream, late: already journaled by reconciliation
    assert fj.record(fill(1, "ETHUSDT"), USER_STREAM)  # trade ids are per symbol
    assert fj.record(fill(0), USER_STREAM) and fj.record(fill(0), USER_STREAM)  # no id: cannot be told apart
    js.close()
    assert journaled(tmp_path) == [("user_stream", "BTCUSDT", 1), ("reconcile", "BTCUSDT", 2),
                                   ("user_stream", "ETHUSDT", 1), ("user_stream", "BTCUSDT", 0),
                                   ("user_stream", "BTCUSDT", 0)]
    assert fj.duplicates == 2


def test_a_new_process_reads_back_what_is_journaled_torn_line_and_backup_included(tmp_path: Path) -> None:
    js = Journals(tmp_path, max_bytes=400, backups=2)  # about one line per file: rotates
    fj = FillJournal(js.writer("fills"))
    for t in (1, 2, 3):
        fj.on_fill(fill(t))
    js.close()
    with open(tmp_path / "fills.jsonl", "ab") as f:
        f.write(b'{"ts_ns":1,"kind":"fill","data":{"sou')  # killed mid-line
    again = FillJournal(Journals(tmp_path, max_bytes=400, backups=2).writer("fills"))
    assert [again.record(fill(t), RECONCILE) for t in (2, 3, 4)] == [False, False, True]
