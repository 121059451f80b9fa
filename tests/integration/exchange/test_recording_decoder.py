"""The exchange's own recording decoder reads the bundled recording exactly as the engine's codec does."""

from __future__ import annotations

from hedge.events import BookTicker, DepthDiff, Side, Trade
from hedge.exchange.marketdata import BookDiff, MarketTrade, TopOfBook
from hedge.exchange.recording import FrameDecoder, bundled_recording, read_lines
from hedge.feeds.codec import Codec
from hedge.feeds.recording import iter_hftbacktest


def test_same_events_and_snapshot_as_the_engine_codec() -> None:
    ours, theirs = FrameDecoder(), Codec()
    mine = list(read_lines(bundled_recording()))
    ref = list(iter_hftbacktest(bundled_recording()))
    assert [(x.recv_ns, x.raw, x.is_snapshot, x.symbol) for x in mine] == [
        (x.recv_ns, x.raw, x.is_snapshot, x.symbol) for x in ref
    ]
    compared = 0
    for line in mine:
        if line.is_snapshot:
            a = ours.snapshot(line.raw, line.symbol)
            b = theirs.decode_snapshot(line.raw, line.symbol, line.recv_ns)
            assert (a.last_update_id, a.bids, a.asks) == (b.last_update_id, b.bids, b.asks)
            continue
        got, want = ours.frame(line.raw), theirs.decode(line.raw, line.recv_ns)
        if isinstance(want, DepthDiff):
            assert isinstance(got, BookDiff)
            assert (got.symbol, got.first_id, got.final_id, got.prev_final_id, got.bids, got.asks) == (
                want.symbol, want.first_id, want.final_id, want.prev_final_id, want.bids, want.asks)
        elif isinstance(want, Trade):
            assert isinstance(got, MarketTrade)
            assert (got.symbol, got.trade_id, got.price, got.qty, got.buyer_maker) == (
                want.symbol, want.trade_id, want.price, want.qty, want.taker_side is Side.SELL)
        elif isinstance(want, BookTicker):
            assert got == TopOfBook(symbol=want.symbol, update_id=want.update_id, bid_px=want.bid_px,
                                    bid_qty=want.bid_qty, ask_px=want.ask_px, ask_qty=want.ask_qty)
        else:
            assert got is None  # mark prices and what the codec cannot use are not played
        compared += 1
    assert compared > 70_000
