"""The Parquet tapes the local exchange plays: hedge's typed recordings read into its market events.

Owns: reading a tape (the file ``hedge convert`` and ``hedge record --format parquet`` write: one
table of rows in receive order, a ``kind`` column and typed columns) into
``hedge.exchange.marketdata`` events with their receive times: ``depth`` rows as ``BookDiff``,
``snapshot`` as ``BookSnapshot``, ``trade`` as ``MarketTrade``, ``book_ticker`` as ``TopOfBook``;
the rows the tape does not play (mark prices, raw frames) are skipped, as the gz reader skips them.
``is_tape`` tells a tape from a text recording (``.parquet``, else the ``PAR1`` magic).

Must never: import the engine's feeds (``hedge.feeds``) or events: the exchange referees the
engine and shares no code with it (it reads the file format on its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hedge.exchange.marketdata import BookDiff, BookSnapshot, Level, MarketTrade, PlayEvent

_COLUMNS = ["recv_ns", "kind", "symbol", "first_id", "final_id", "prev_final_id", "update_id", "bids", "asks",
            "trade_id", "price", "qty", "taker_side", "bid_px", "bid_qty", "ask_px", "ask_qty"]


def is_tape(path: str | Path) -> bool:
    p = Path(path)
    if p.suffix == ".parquet":
        return True
    with open(p, "rb") as f:
        return f.read(4) == b"PAR1"


def _levels(rows: list[dict[str, Any]] | None) -> list[Level]:
    return [(lv["price"], lv["qty"]) for lv in rows or ()]


def read_tape(path: str | Path) -> Iterator[tuple[int, PlayEvent]]:
    """The tape's playable rows, in file order, as (receive ns, event)."""
    import pyarrow.parquet as pq  # only when a tape is played

    from hedge.exchange.marketdata import TopOfBook

    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(columns=_COLUMNS):
        for r in batch.to_pylist():
            kind = r["kind"]
            if kind == "depth":
                yield r["recv_ns"], BookDiff(symbol=r["symbol"], first_id=r["first_id"], final_id=r["final_id"],
                                             prev_final_id=r["prev_final_id"], bids=_levels(r["bids"]),
                                             asks=_levels(r["asks"]))
            elif kind == "book_ticker":
                yield r["recv_ns"], TopOfBook(symbol=r["symbol"], update_id=r["update_id"], bid_px=r["bid_px"],
                                              bid_qty=r["bid_qty"], ask_px=r["ask_px"], ask_qty=r["ask_qty"])
            elif kind == "trade":
                yield r["recv_ns"], MarketTrade(symbol=r["symbol"], trade_id=r["trade_id"], price=r["price"],
                                                qty=r["qty"], buyer_maker=r["taker_side"] == "SELL")
            elif kind == "snapshot":
                yield r["recv_ns"], BookSnapshot(symbol=r["symbol"], last_update_id=r["update_id"],
                                                 bids=_levels(r["bids"]), asks=_levels(r["asks"]))
