"""The Binance USD-M market-data wire codec: raw frames in, hedge events out.

Owns: the only knowledge of Binance's market-data field names (``U``, ``u``, ``pu``, ``m``...),
the decoding of combined-stream frames (``{"stream":..., "data":...}``) and raw frames
(depthUpdate, aggTrade, trade, bookTicker, markPriceUpdate) and of REST depth snapshots, and
the counting of what it could not use.

Design (figures from docs/architecture.md): ONE msgspec decoder per frame shape, a tagged union
on ``"e"`` over feeds-private wire Structs whose price/quantity fields are typed ``float`` and
decoded with ``strict=False`` (Binance sends decimals as strings; msgspec converts them in C).
Unknown fields are ignored. A depth side (``b``/``a``, a snapshot's ``bids``/``asks``) is kept
``msgspec.Raw`` and parsed by ``hedge.feeds.levels.parse`` (compiled: C, straight into a float64
``Levels``, no Python object per level; pure: msgspec with the same types as before), with the same
validation: a side it rejects makes the frame ``bad_depthUpdate``. The wire Struct is then mapped
onto the hedge event (measured: the extra construction costs ~0.2 us, and keeps events.py free of
wire names).

``Codec.wire`` builds every event but a bookTicker's, for which it stops at the wire Struct
(counted) so that the dispatcher can skip building a BookTicker nobody subscribes to;
``ticker_event`` builds that one, ``decode`` does both.

A bookTicker is decoded in full even when only its symbol and event time are read (the dispatcher's
``TickerSeen``): the decode IS its validation (a missing field, a NaN, a non-positive price is
``bad_bookTicker``), and bad input must be counted the same whoever listens. Measured (bundled
tickers, per frame): the union decoder 540 ns, a decoder of just ``s``/``E`` 350 ns (it would
accept a corrupt price), a pre-check of the type ~60-110 ns before either; so a lean decode would
save at most ~0.2 us a ticker and change the bad-input counts: not done.

Counting: ``stats.messages`` by event type, ``stats.unknown`` by unknown ``e`` (e.g. kline),
``stats.errors`` by reason. A frame that cannot be used returns ``None`` — ``decode`` never
raises. Malformed frames are reported to the optional ``journal`` callback at most once per
reason per ``report_interval_s`` (with the count since the last report); nothing is logged per
frame.

Clock: receive times are given with each frame; the one direct read, ``time.monotonic()``,
throttles the malformed-frame log line (real time between operator log lines, never an event;
tests/unit/model/test_clock_usage.py).

Must never: raise out of ``decode``, log per frame, or let a Binance field name escape this
package.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from hedge.events import BookTicker, DepthDiff, DepthSnapshot, MarkPrice, Side, Trade
from hedge.feeds.framescan import LEAN, depth_fields, trade_fields, undecided
from hedge.feeds.levels import parse
from hedge.feeds.seen import TickerStamp

if TYPE_CHECKING:  # the compiled framescan has no type aliases
    from hedge.feeds.framescan import DepthFields, TradeFields

log = logging.getLogger(__name__)

MarketEvent = DepthDiff | Trade | BookTicker | MarkPrice
JournalFn = Callable[[str, Mapping[str, Any]], None]

# the depthUpdate and trade shortcuts where they pay (compiled: a C read; pure: a regex, slower than the decode)
_depth_fields = depth_fields if LEAN else undecided
_trade_fields = trade_fields if LEAN else undecided

_SELL = Side.SELL
_BUY = Side.BUY


class CodecError(ValueError):
    """A REST snapshot body that cannot be used (malformed JSON, missing fields, an error body)."""


# --------------------------------------------------------------------------- wire structs (private)

# Numbers are range-checked in C while decoding (measured: no cost): a NaN, an infinity, a
# non-positive price or a negative quantity is a malformed frame, never a book level.
_Px = Annotated[float, msgspec.Meta(gt=0.0, lt=1e15)]
_Qty = Annotated[float, msgspec.Meta(ge=0.0, lt=1e15)]
_Rate = Annotated[float, msgspec.Meta(gt=-1e15, lt=1e15)]

class _WDepth(msgspec.Struct, gc=False, tag="depthUpdate", tag_field="e", rename={"ts": "E", "tt": "T", "sym": "s"}):
    ts: int
    sym: str
    U: int
    u: int
    pu: int
    b: msgspec.Raw  # levels: hedge.feeds.levels.parse (the C parser when compiled)
    a: msgspec.Raw
    tt: int = 0


class _WAggTrade(
    msgspec.Struct,
    gc=False,
    tag="aggTrade",
    tag_field="e",
    rename={"ts": "E", "sym": "s", "tid": "a", "px": "p", "qty": "q", "tt": "T", "maker": "m"},
):
    ts: int
    sym: str
    tid: int
    px: _Px
    qty: _Qty
    maker: bool
    tt: int = 0


class _WTrade(
    msgspec.Struct,
    gc=False,
    tag="trade",
    tag_field="e",
    rename={"ts": "E", "sym": "s", "tid": "t", "px": "p", "qty": "q", "tt": "T", "maker": "m"},
):
    ts: int
    sym: str
    tid: int
    px: _Px
    qty: _Qty
    maker: bool
    tt: int = 0


class _WBookTicker(
    msgspec.Struct,
    gc=False,
    tag="bookTicker",
    tag_field="e",
    rename={"ts": "E", "sym": "s", "bp": "b", "bq": "B", "ap": "a", "aq": "A", "tt": "T"},
):
    u: int
    sym: str
    bp: _Px
    bq: _Qty
    ap: _Px
    aq: _Qty
    ts: int = 0
    tt: int = 0


class _WMark(
    msgspec.Struct,
    gc=False,
    tag="markPriceUpdate",
    tag_field="e",
    rename={"ts": "E", "sym": "s", "mark": "p", "index": "i", "settle": "P", "rate": "r", "next": "T"},
):
    ts: int
    sym: str
    mark: _Px
    index: _Qty = 0.0
    settle: _Qty = 0.0
    rate: _Rate = 0.0
    next: int = 0


Wire = _WDepth | _WAggTrade | _WTrade | _WBookTicker | _WMark


class _Combined(msgspec.Struct, gc=False):
    stream: str
    data: Wire


class _WSnapshot(msgspec.Struct, rename={"last_update_id": "lastUpdateId", "ts": "E", "tt": "T"}):
    last_update_id: int
    bids: msgspec.Raw
    asks: msgspec.Raw
    ts: int = 0
    tt: int = 0


_KNOWN = frozenset({"depthUpdate", "aggTrade", "trade", "bookTicker", "markPriceUpdate"})
_MAX_UNKNOWN_TYPES = 64  # distinct unknown type names kept; the rest count as "<other>" (hostile input)


class CodecStats(msgspec.Struct, kw_only=True):
    """What the codec saw: decoded messages by type, unknown types, errors by reason."""

    messages: dict[str, int] = {}
    unknown: dict[str, int] = {}
    errors: dict[str, int] = {}
    control: int = 0


WireTicker = _WBookTicker  # ``Codec.wire``'s bookTicker result: its event is built only when needed


def ticker_event(w: _WBookTicker, recv_ns: int) -> BookTicker:
    """The hedge event of a bookTicker's wire Struct (``Codec.wire``)."""
    return BookTicker(
        ts_ms=w.ts,
        recv_ns=recv_ns,
        symbol=w.sym,
        update_id=w.u,
        bid_px=w.bp,
        bid_qty=w.bq,
        ask_px=w.ap,
        ask_qty=w.aq,
        transact_ms=w.tt,
    )


_EVENT_NAME: dict[type, str] = {
    DepthDiff: "depthUpdate",
    Trade: "trade",
    BookTicker: "bookTicker",
    TickerStamp: "bookTicker",
    MarkPrice: "markPriceUpdate",
    DepthSnapshot: "snapshot",
}


class Codec:
    """Decode Binance USD-M market frames and depth snapshots into hedge events."""

    def __init__(self, *, journal: JournalFn | None = None, report_interval_s: float = 60.0) -> None:
        self._combined = msgspec.json.Decoder(_Combined, strict=False).decode
        self._raw = msgspec.json.Decoder(Wire, strict=False).decode
        self._snapshot = msgspec.json.Decoder(_WSnapshot, strict=False)
        self._any = msgspec.json.Decoder()  # error path only: what was it, if not a usable frame?
        self.stats = CodecStats()
        self.frame_errors = 0  # malformed frames so far (the total of stats.errors but bad_snapshot)
        self._journal = journal
        self._report_interval_s = report_interval_s
        self._last_report: dict[str, float] = {}
        self._unreported: dict[str, int] = {}
        self._counts = self.stats.messages

    # ------------------------------------------------------------------ frames

    def decode(self, raw: bytes | str, recv_ns: int) -> MarketEvent | None:
        """One frame -> one event, or None (unknown type, control reply or malformed; counted)."""
        ev = self.wire(raw, recv_ns)
        return ticker_event(ev, recv_ns) if isinstance(ev, _WBookTicker) else ev

    def wire(self, raw: bytes | str, recv_ns: int) -> MarketEvent | WireTicker | None:
        """One frame -> its event, but a bookTicker's wire Struct (``ticker_event`` builds its event);
        None as ``decode``. Counted either way.

        One branch per type, the event built right there (no intermediate Struct, no name lookup:
        measured, docs/market-data.md "Hot-path design"). A depthUpdate's sides are parsed here
        (``hedge.feeds.levels.parse``): a side it rejects makes the frame ``bad_depthUpdate``, as the
        one typed decode did before the sides became ``Raw``. The compiled build reads a depthUpdate or
        a trade in Binance's exact form without msgspec's pass over it (``framescan``: the same
        fields, the sides by the same ``parse``); any other frame is decoded here."""
        fields = _depth_fields(raw)  # compiled: a depthUpdate in Binance's exact form read in C; else None
        if fields is not None:
            return self._depth(fields, recv_ns)
        trade = _trade_fields(raw)  # the same for a trade
        if trade is not None:
            return self._trade(trade, False, recv_ns)
        try:
            if raw[:9] in (b'{"stream"', '{"stream"'):  # noqa: SIM108 - two decoders, one per frame shape
                w = self._combined(raw).data
            else:
                w = self._raw(raw)
        except (msgspec.DecodeError, UnicodeError):
            self._not_decoded(raw)
            return None
        if type(w) is _WBookTicker:
            counts = self._counts
            counts["bookTicker"] = counts.get("bookTicker", 0) + 1
            return w
        if type(w) is _WDepth:
            bids = parse(w.b)
            asks = parse(w.a) if bids is not None else None
            if asks is None or bids is None:
                self._error("bad_depthUpdate", raw)
                return None
            return self._depth((w.ts, w.tt, w.sym, w.U, w.u, w.pu, bids, asks), recv_ns)
        if type(w) is _WTrade or type(w) is _WAggTrade:
            return self._trade((w.ts, w.tt, w.sym, w.tid, w.px, w.qty, w.maker), type(w) is _WAggTrade, recv_ns)
        assert type(w) is _WMark
        counts = self._counts
        counts["markPriceUpdate"] = counts.get("markPriceUpdate", 0) + 1
        return MarkPrice(
            ts_ms=w.ts,
            recv_ns=recv_ns,
            symbol=w.sym,
            mark_price=w.mark,
            index_price=w.index,
            funding_rate=w.rate,
            next_funding_ms=w.next,
            settle_price=w.settle,
        )

    def _depth(self, fields: DepthFields, recv_ns: int) -> DepthDiff:
        counts = self._counts
        counts["depthUpdate"] = counts.get("depthUpdate", 0) + 1
        ts, tt, sym, first, final, prev, bids, asks = fields
        return DepthDiff(
            ts_ms=ts,
            recv_ns=recv_ns,
            symbol=sym,
            first_id=first,
            final_id=final,
            prev_final_id=prev,
            transact_ms=tt,
            bids=bids,
            asks=asks,
        )

    def _trade(self, fields: TradeFields, agg: bool, recv_ns: int) -> Trade:
        name = "aggTrade" if agg else "trade"
        counts = self._counts
        counts[name] = counts.get(name, 0) + 1
        ts, tt, sym, tid, px, qty, maker = fields
        return Trade(
            ts_ms=ts,
            recv_ns=recv_ns,
            symbol=sym,
            trade_id=tid,
            price=px,
            qty=qty,
            # m = "the buyer is the maker": the taker sold.
            taker_side=_SELL if maker else _BUY,
            trade_ms=tt,
            aggregated=agg,
        )

    def _not_decoded(self, raw: bytes | str) -> None:
        """The error path: classify (unknown type, control reply or malformed) and count."""
        try:
            obj = self._any.decode(raw)
        except (msgspec.DecodeError, UnicodeError):
            self._error("invalid_json", raw)
            return
        if not isinstance(obj, dict):
            self._error("not_an_object", raw)
            return
        data = obj.get("data")
        if "stream" in obj and not isinstance(data, dict):
            self._error("missing_data", raw)
            return
        etype = (data if isinstance(data, dict) else obj).get("e")
        if isinstance(etype, str) and etype in _KNOWN:
            self._error(f"bad_{etype}", raw)  # a known type with a missing or ill-typed field
        elif isinstance(etype, str) and etype:
            unknown = self.stats.unknown
            name = etype[:40] if etype in unknown or len(unknown) < _MAX_UNKNOWN_TYPES else "<other>"
            unknown[name] = unknown.get(name, 0) + 1
        elif etype is not None:
            self._error("bad_event_type", raw)
        elif "id" in obj and "code" not in obj:
            self.stats.control += 1  # {"result": null, "id": n}: a reply to SUBSCRIBE and friends
        else:
            self._error("no_event_type", raw)

    def _error(self, reason: str, raw: bytes | str) -> None:
        self.frame_errors += 1
        errors = self.stats.errors
        errors[reason] = errors.get(reason, 0) + 1
        self._unreported[reason] = self._unreported.get(reason, 0) + 1
        now = time.monotonic()
        last = self._last_report.get(reason)
        if last is not None and now - last < self._report_interval_s:
            return
        self._last_report[reason] = now
        count = self._unreported.pop(reason)
        sample = raw[:200] if isinstance(raw, str) else raw[:200].decode("utf-8", "replace")
        log.warning("feeds: malformed frame (%s), %d since last report; sample %r", reason, count, sample)
        if self._journal is not None:
            self._journal("malformed_frame", {"reason": reason, "count": count, "sample": sample})

    def count_ticker(self) -> None:
        """Count a bookTicker frame the dispatcher read without decoding (``hedge.feeds.framescan``)."""
        counts = self._counts
        counts["bookTicker"] = counts.get("bookTicker", 0) + 1

    def count(self, ev: MarketEvent | DepthSnapshot | TickerStamp) -> None:
        """Count an event decoded elsewhere (a Parquet tape) under the name its frame would have."""
        name = "aggTrade" if type(ev) is Trade and ev.aggregated else _EVENT_NAME[type(ev)]
        counts = self._counts
        counts[name] = counts.get(name, 0) + 1

    # ------------------------------------------------------------------ snapshots

    def decode_snapshot(self, raw: bytes | str, symbol: str, recv_ns: int) -> DepthSnapshot:
        """A ``/fapi/v1/depth`` body -> DepthSnapshot; raises CodecError on anything unusable."""
        try:
            w = self._snapshot.decode(raw)
            bids, asks = parse(w.bids), parse(w.asks)
            if bids is None or asks is None:
                raise msgspec.DecodeError("bids/asks: not an array of [price > 0, quantity >= 0] pairs")
        except (msgspec.DecodeError, UnicodeError) as exc:
            detail = str(exc)
            with contextlib.suppress(msgspec.DecodeError, UnicodeError):
                body = self._any.decode(raw)
                if isinstance(body, dict) and "code" in body:
                    detail = f"error body code={body.get('code')} msg={body.get('msg')!r}"
            errors = self.stats.errors
            errors["bad_snapshot"] = errors.get("bad_snapshot", 0) + 1
            raise CodecError(f"{symbol}: unusable depth snapshot: {detail}") from None
        counts = self._counts
        counts["snapshot"] = counts.get("snapshot", 0) + 1
        return DepthSnapshot(
            ts_ms=w.ts,
            recv_ns=recv_ns,
            symbol=symbol,
            last_update_id=w.last_update_id,
            transact_ms=w.tt,
            bids=bids,
            asks=asks,
        )
