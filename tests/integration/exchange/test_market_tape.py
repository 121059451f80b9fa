"""The looped recording tape and the synthetic flow: update ids stay chained across the loop."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from hedge.exchange.market import RecordingTape, SyntheticFlow, bundled_recording
from hedge.exchange.marketdata import BookDiff, BookSnapshot, MarketTrade, TopOfBook
from hedge.feeds.book import OrderBook


def test_two_passes_chain_and_the_morph_restores_the_snapshot() -> None:
    tape = RecordingTape(bundled_recording())
    assert tape.symbol == "BTCUSDT"
    n = len(tape.one.events)
    events = list(itertools.islice(tape, 2 * n + 2))  # snapshot, pass 1, morph, pass 2
    snap = events[0][1]
    assert isinstance(snap, BookSnapshot)
    book = OrderBook()
    book.apply_snapshot(snap.bids, snap.asks)
    last_u = snap.last_update_id
    first = True
    trade_ids: list[int] = []
    times = [t for t, _ in events]
    assert times == sorted(times)
    morphs = 0
    for _, ev in events[1:]:
        if isinstance(ev, BookDiff):
            if first:
                assert ev.first_id <= last_u <= ev.final_id
                first = False
            else:
                assert ev.prev_final_id == last_u, "update-id chain broken"
            if ev.first_id == ev.final_id == ev.prev_final_id + 1 and ev.final_id == tape.one.last_id + 1:
                morphs += 1
                book.apply(ev.bids, ev.asks)
                # after the morph diff the book is exactly the start snapshot again
                assert book.bids(5000) == sorted(snap.bids, reverse=True)
                assert book.asks(5000) == sorted(snap.asks)
            else:
                book.apply(ev.bids, ev.asks)
            assert not book.is_crossed()
            last_u = ev.final_id
        elif isinstance(ev, MarketTrade):
            trade_ids.append(ev.trade_id)
        elif isinstance(ev, TopOfBook):
            assert ev.update_id >= snap.last_update_id
    assert morphs == 1
    assert trade_ids == sorted(trade_ids) and len(set(trade_ids)) == len(trade_ids)
    assert last_u > tape.one.last_id  # the second pass continued with offset ids


def test_synthetic_flow_is_seeded_and_chained() -> None:
    a = list(itertools.islice(SyntheticFlow("FOOUSDT", 0.01, 0.01, seed=1), 500))
    b = list(itertools.islice(SyntheticFlow("FOOUSDT", 0.01, 0.01, seed=1), 500))
    assert a == b
    book = OrderBook()
    snap = a[0][1]
    assert isinstance(snap, BookSnapshot)
    book.apply_snapshot(snap.bids, snap.asks)
    last = snap.last_update_id
    for _, ev in a[1:]:
        if isinstance(ev, BookDiff):
            assert ev.prev_final_id == last
            last = ev.final_id
            book.apply(ev.bids, ev.asks)
            assert not book.is_crossed()
        elif isinstance(ev, TopOfBook):
            assert (ev.bid_px, ev.ask_px) == (book.best_bid()[0], book.best_ask()[0])  # type: ignore[index]


def test_bad_recordings_fail_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "x_20240101.gz"
    import gzip

    with gzip.open(empty, "wt") as f:
        f.write(
            '1 {"stream":"xusdt@trade","data":{"e":"trade","E":1,"T":1,"s":"XUSDT","t":1,"p":"1","q":"1","X":"MARKET","m":true}}\n'
        )
    with pytest.raises(ValueError, match="no depth snapshot"):
        RecordingTape([empty])
