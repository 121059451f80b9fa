"""taperows.build: the compiled C loop gives exactly the pure reference's records (hypothesis), rows of an
unknown kind dropped and counted alike, in both read modes (with BookTickers, and as TickerStamps)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge import native
from hedge.events import DepthDiff, DepthSnapshot
from hedge.feeds import taperows
from hedge.feeds.levels import Levels
from hedge.feeds.parquet import _LEAN_COLUMNS, TapeWriter, write
from hedge.feeds.recording import ReadStats, RecordedLine
from tests.kit.compiled import require_compiled
from tests.unit.feeds.test_parquet_tape import event, in_receive_order

PURE = native.load_pure("hedge.feeds.taperows")


@pytest.fixture(scope="module")
def compiled() -> ModuleType:
    require_compiled("hedge.feeds.taperows")
    return taperows


def _tape(events: list[object], unknown: list[int], d: str) -> Path:
    w = TapeWriter()
    for ev in events:
        if isinstance(ev, RecordedLine) and ev.is_snapshot:
            w.write_snapshot(ev.recv_ns, ev.symbol, ev.raw)
        elif isinstance(ev, RecordedLine):
            w.write_frame(ev.recv_ns, ev.raw)
        else:
            w.add(ev)  # type: ignore[arg-type]
    table = w.take()
    if unknown:  # some rows relabelled to a kind this reader does not know
        mask = pa.array([i in unknown for i in range(table.num_rows)])
        table = table.set_column(1, "kind", pc.if_else(mask, "future_kind", table.column("kind")))
    return write(Path(d) / "t.parquet", [table])


@settings(max_examples=40, deadline=None)
@given(st.lists(event, min_size=1, max_size=40), st.lists(st.integers(0, 39), max_size=3),
       st.integers(min_value=1, max_value=16))
def test_the_compiled_loop_builds_what_the_reference_builds(compiled: ModuleType, generated: list[object],
                                                             unknown: list[int], batch: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = _tape(in_receive_order(generated), unknown, d)
        for tickers in (True, False):
            pf = pq.ParquetFile(path, read_dictionary=["kind", "symbol", "taker_side"])
            for b in pf.iter_batches(batch_size=batch, columns=None if tickers else _LEAN_COLUMNS):
                st_c, st_p = ReadStats(), ReadStats()
                got, want = compiled.build(b, st_c, tickers), PURE.build(b, st_p, tickers)
                assert got == want
                assert [type(r) for r in got] == [type(r) for r in want]
                assert (st_c.lines, st_c.bad_lines, st_c.bad_kinds) == (st_p.lines, st_p.bad_lines, st_p.bad_kinds)
                for ev in got:  # sides stay views over the batch's columns
                    if isinstance(ev, (DepthDiff, DepthSnapshot)):
                        assert type(ev.bids) is type(ev.asks) is Levels


@settings(max_examples=20, deadline=None)
@given(st.lists(event, min_size=1, max_size=20), st.data())
def test_a_tape_missing_a_column_its_rows_need_is_refused_alike(compiled: ModuleType, generated: list[object],
                                                                 data: st.DataObject) -> None:
    """A batch without a column some present kind is built from: KeyError in both builds (never zeros
    read from a missing column, never a NULL buffer read: recv_ns missing crashed the process)."""
    with tempfile.TemporaryDirectory() as d:
        table = pq.read_table(_tape(in_receive_order(generated), [], d), read_dictionary=["kind", "symbol", "taker_side"])
        dropped = data.draw(st.sampled_from([n for n in table.column_names if n not in ("kind", "symbol")]))
        b = table.drop_columns([dropped]).to_batches()[0]
        for tickers in (True, False):
            outcomes = []
            for build in (compiled.build, PURE.build):
                try:
                    outcomes.append(("ok", build(b, ReadStats(), tickers)))
                except KeyError:
                    outcomes.append(("KeyError", None))
            assert outcomes[0] == outcomes[1], (dropped, tickers)
