"""The recordings the local exchange plays: hftbacktest lines decoded into its market events.

Owns: reading hftbacktest-format files (gzip or plain text, one ``<local_receive_ns> <raw JSON>``
per line; websocket frames as received, REST depth snapshots as their raw body) as one stream,
and the exchange's own msgspec decoding of the frames it plays (``depthUpdate``, ``trade``,
``aggTrade``, ``bookTicker``) and of the snapshot body into ``hedge.exchange.marketdata``
events; the location of the bundled BTCUSDT recording.

Design: one msgspec decoder for combined-stream frames (a tagged union on ``"e"``), prices and
quantities typed ``float`` with ``strict=False`` (Binance sends decimal strings; msgspec converts
them in C, the same string always giving the same float). Frames of other types (mark prices,
klines) and malformed lines are skipped: the tape plays what it can use. A file cut mid-write
(a killed recorder) is read up to the damage.

Must never: import the engine's feeds (``hedge.feeds``) or events: the exchange checks the
engine's decoder and shares no code with it.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Annotated

import msgspec

from hedge.exchange.marketdata import BookDiff, BookSnapshot, MarketTrade, TopOfBook

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data" / "binance-usdm" / "hftbacktest"
_GZIP_MAGIC = b"\x1f\x8b"
_NAME_SYMBOL = re.compile(r"^([A-Za-z0-9]+)_\d{8}")
_BODY_SYMBOL = re.compile(rb'"symbol"\s*:\s*"([A-Za-z0-9]+)"')

_Px = Annotated[float, msgspec.Meta(gt=0.0, lt=1e15)]
_Qty = Annotated[float, msgspec.Meta(ge=0.0, lt=1e15)]
_Lvl = tuple[_Px, _Qty]


class _Depth(msgspec.Struct, tag="depthUpdate", tag_field="e"):
    s: str
    U: int
    u: int
    pu: int
    b: list[_Lvl]
    a: list[_Lvl]


class _Trade(msgspec.Struct, tag="trade", tag_field="e"):
    s: str
    t: int
    p: _Px
    q: _Qty
    m: bool


class _AggTrade(msgspec.Struct, tag="aggTrade", tag_field="e"):
    s: str
    a: int
    p: _Px
    q: _Qty
    m: bool


class _Ticker(msgspec.Struct, tag="bookTicker", tag_field="e", rename={"bq": "B", "aq": "A"}):
    s: str
    u: int
    b: _Px
    bq: _Qty
    a: _Px
    aq: _Qty


_Wire = _Depth | _Trade | _AggTrade | _Ticker


class _Frame(msgspec.Struct):
    data: _Wire


class _Snapshot(msgspec.Struct, rename={"last_update_id": "lastUpdateId"}):
    last_update_id: int
    bids: list[_Lvl]
    asks: list[_Lvl]


Played = BookDiff | MarketTrade | TopOfBook


class Line(msgspec.Struct, frozen=True, gc=False):
    """One recorded message: receive time, raw bytes, and (snapshots) the symbol if known."""

    recv_ns: int
    raw: bytes
    is_snapshot: bool = False
    symbol: str = ""


def bundled_recording() -> list[Path]:
    """The bundled BTCUSDT recording (two files, one continuous stream), in order."""
    return [BUNDLED_DIR / "btcusdt_20240718.gz", BUNDLED_DIR / "btcusdt_20240719.gz"]


def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as f:
        gz = f.read(2) == _GZIP_MAGIC
    if gz:
        return io.BufferedReader(gzip.open(path, "rb"), buffer_size=1 << 20)
    return open(path, "rb", buffering=1 << 20)


def _is_snapshot(raw: bytes) -> bool:
    return not raw.startswith((b'{"stream"', b'{"e"')) and b'"lastUpdateId"' in raw


def read_lines(paths: Iterable[str | Path]) -> Iterator[Line]:
    """The lines of hftbacktest-format files, in order, as one stream (unusable lines skipped)."""
    for p in paths:
        path = Path(p)
        m = _NAME_SYMBOL.match(path.name)
        name_symbol = m.group(1).upper() if m else ""
        with _open(path) as f:
            try:
                for line in f:
                    sp = line.find(b" ")
                    try:
                        recv_ns = int(line[:sp]) if sp > 0 else -1
                    except ValueError:
                        recv_ns = -1
                    raw = line[sp + 1 :].rstrip(b"\r\n")
                    if recv_ns < 0 or not raw:
                        continue
                    if _is_snapshot(raw):
                        bm = _BODY_SYMBOL.search(raw, 0, 200)
                        yield Line(recv_ns, raw, True, bm.group(1).decode().upper() if bm else name_symbol)
                    else:
                        yield Line(recv_ns, raw)
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                log.warning("recording %s is truncated (%s); read up to the damage", path, exc)


class FrameDecoder:
    """Recorded frames and snapshot bodies -> the exchange's market events."""

    def __init__(self) -> None:
        self._frame = msgspec.json.Decoder(_Frame, strict=False)
        self._raw = msgspec.json.Decoder(_Wire, strict=False)
        self._snapshot = msgspec.json.Decoder(_Snapshot, strict=False)

    def frame(self, raw: bytes) -> Played | None:
        """A frame (combined-stream or raw) -> its event; None for a frame the tape does not play."""
        try:
            w = self._frame.decode(raw).data if raw[:9] == b'{"stream"' else self._raw.decode(raw)
        except msgspec.DecodeError:
            return None
        if type(w) is _Depth:
            return BookDiff(symbol=w.s, first_id=w.U, final_id=w.u, prev_final_id=w.pu, bids=w.b, asks=w.a)
        if type(w) is _Ticker:
            return TopOfBook(symbol=w.s, update_id=w.u, bid_px=w.b, bid_qty=w.bq, ask_px=w.a, ask_qty=w.aq)
        if type(w) is _Trade:
            return MarketTrade(symbol=w.s, trade_id=w.t, price=w.p, qty=w.q, buyer_maker=w.m)
        assert type(w) is _AggTrade
        return MarketTrade(symbol=w.s, trade_id=w.a, price=w.p, qty=w.q, buyer_maker=w.m)

    def snapshot(self, raw: bytes, symbol: str) -> BookSnapshot:
        """A ``/fapi/v1/depth`` body -> BookSnapshot; raises ValueError when it cannot be used."""
        try:
            w = self._snapshot.decode(raw)
        except msgspec.DecodeError as exc:
            raise ValueError(f"{symbol}: unusable depth snapshot: {exc}") from None
        return BookSnapshot(symbol=symbol, last_update_id=w.last_update_id, bids=w.bids, asks=w.asks)
