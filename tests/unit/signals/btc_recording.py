"""Test-only driver: the bundled BTCUSDT recording's bookTicker and trade lines as hedge events.

A stand-in for the feeds' ReplaySource where a test needs top-of-book events without the depth
book: each bookTicker becomes a valid BookUpdate (top-1 imbalance and micro-price), each trade a
Trade with the taker side resolved from ``m`` (buyer is maker -> the taker sold).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import msgspec

from hedge.events import BookUpdate, Event, Side, Trade
from hedge.signals.microstructure import imbalance, micro_price, spread_bps

DATA = Path(__file__).resolve().parents[3] / "hedge" / "data" / "binance-usdm" / "hftbacktest"
FILES = [DATA / "btcusdt_20240718.gz", DATA / "btcusdt_20240719.gz"]


class _Ticker(msgspec.Struct, tag="bookTicker", tag_field="e"):
    u: int
    s: str
    b: float
    B: float
    a: float
    A: float
    E: int


class _Trade(msgspec.Struct, tag="trade", tag_field="e"):
    t: int
    s: str
    p: float
    q: float
    m: bool
    T: int
    E: int


class _Depth(msgspec.Struct, tag="depthUpdate", tag_field="e"):
    pass


class _Wrapper(msgspec.Struct):
    data: _Ticker | _Trade | _Depth | None = None


_decoder = msgspec.json.Decoder(_Wrapper, strict=False)


def iter_events(paths: list[Path] = FILES) -> Iterator[Event]:
    for path in paths:
        with gzip.open(path, "rb") as fh:
            for line in fh:
                ns, _, raw = line.partition(b" ")
                d = _decoder.decode(raw).data
                if isinstance(d, _Ticker):
                    yield BookUpdate(
                        ts_ms=d.E,
                        recv_ns=int(ns),
                        symbol=d.s,
                        update_id=d.u,
                        valid=True,
                        bid_px=d.b,
                        bid_qty=d.B,
                        ask_px=d.a,
                        ask_qty=d.A,
                        mid=0.5 * (d.b + d.a),
                        micro=micro_price(d.b, d.B, d.a, d.A),
                        imbalance=imbalance(d.B, d.A),
                        spread_bps=spread_bps(d.b, d.a),
                    )
                elif isinstance(d, _Trade):
                    yield Trade(
                        ts_ms=d.E,
                        recv_ns=int(ns),
                        symbol=d.s,
                        trade_id=d.t,
                        price=d.p,
                        qty=d.q,
                        taker_side=Side.SELL if d.m else Side.BUY,
                        trade_ms=d.T,
                    )
