"""Frames of the two common kinds read without the general decode: the compiled build's lean paths.

Owns: two shortcuts, each for one frame kind in exactly the form Binance sends it, every field valid
as the codec validates it; for anything else they return None, which decides nothing (the frame
takes the codec's full decode, which counts what is bad):

- ``ticker_stamp(raw)``: a combined-stream bookTicker -> ``(symbol, event time ms)``;
- ``depth_fields(raw)``: a combined-stream depthUpdate -> ``(E, T, s, U, u, pu, bids, asks)``, the
  sides parsed by ``hedge.feeds.levels.parse`` (as the codec parses them), so the codec builds the
  same DepthDiff without msgspec's pass over the ~1 kB frame;
- ``trade_fields(raw)``: a combined-stream trade -> ``(E, T, s, t, p, q, m)``, the price and quantity
  as the correctly rounded doubles of their decimals (as msgspec reads them).

Why: ~3/4 of all frames are bookTickers, and when nobody subscribes to BookTicker (the engine; only
telemetry's passive stamps, ``hedge.feeds.seen``) the dispatcher needs just these two fields of
them. The codec's msgspec decode IS the validation (a missing field, a NaN, a non-positive price
is ``bad_bookTicker``), and that must not depend on who listens; so the shortcut accepts only what
it can fully check, and reads every field:

  ``{"stream":"<printable ASCII>","data":{"e":"bookTicker","u":<int>,"s":"<[0-9A-Za-z]{1,32}>",``
  ``"b":"<px>","B":"<qty>","a":"<px>","A":"<qty>","T":<int>,"E":<int>}}`` and nothing after it

with ``<int>`` ``0|[1-9][0-9]{0,17}`` (below 2**63), ``<qty>`` a plain decimal
``(0|[1-9][0-9]{0,13})(.[0-9]{1,18})?`` (below 1e15, so in the codec's [0, 1e15)), ``<px>`` the
same with a non-zero digit (> 0; no underflow to 0.0 with at most 18 decimals). A frame with any
other spacing, key order, extra key, escape, sign, exponent or length takes the full decode.
A depthUpdate's form is ``{"stream":"<printable ASCII>","data":{"e":"depthUpdate","E":<int>,"T":<int>,``
``"s":"<symbol>","U":<int>,"u":<int>,"pu":<int>,"b":<side>,"a":<side>}}``, a side ``[]`` or
``[[...],...,[...]]`` with no ``]`` inside a level, and accepted only when ``parse`` accepts both
sides (a side it rejects is the codec's ``bad_depthUpdate`` to count). A trade's is
``{"stream":"<printable ASCII>","data":{"e":"trade","E":<int>,"T":<int>,"s":"<symbol>","t":<int>,``
``"p":"<px>","q":"<qty>","X":"<[A-Z_]{0,32}>","m":<true|false>}}``.
So whenever a shortcut returns a value, ``Codec.wire`` would return the same bookTicker symbol and
event time, or the same DepthDiff (tests/unit/feeds/test_framescan.py, hypothesis, both builds
against the codec).

Design: this ``.py`` is the reference: regular expressions of the forms above. They are slower than
the decode they would save (a ticker ~0.9 vs ~0.6 us), so ``LEAN`` is False here and the pure build
(``HEDGE_PURE=1``) decodes every frame (the callers take ``undecided`` instead); the compiled build
(setup.py HOT_MODULES) compiles ``framescan.pyx`` (``LEAN`` True; a ticker ~0.1 us): one pass over
the bytes in C, the symbol's ``str`` reused while it repeats.

Must never: accept a frame the codec would reject or read differently, or raise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hedge.events import Level
from hedge.feeds.levels import parse

LEAN = False  # do the shortcuts pay before the decode? (their callers ask)

_INT = rb"(?:0|[1-9][0-9]{0,17})"
_QTY = rb'"(?:0|[1-9][0-9]{0,13})(?:\.[0-9]{1,18})?"'
_PX = rb'"(?=[0-9.]*[1-9])(?:0|[1-9][0-9]{0,13})(?:\.[0-9]{1,18})?"'
_FORM = re.compile(
    rb'\{"stream":"[ !#-\[\]-~]*","data":\{"e":"bookTicker","u":' + _INT
    + rb',"s":"([0-9A-Za-z]{1,32})","b":' + _PX + rb',"B":' + _QTY + rb',"a":' + _PX + rb',"A":' + _QTY
    + rb',"T":' + _INT + rb',"E":(' + _INT + rb")\}\}"
)


def ticker_stamp(raw: bytes | str) -> tuple[str, int] | None:
    """``(symbol, event time ms)`` of a bookTicker frame in Binance's exact form (module docstring);
    None: not decided here (the codec decodes it)."""
    if type(raw) is not bytes:
        return None
    m = _FORM.fullmatch(raw)
    if m is None:
        return None
    return m.group(1).decode("ascii"), int(m.group(2))


_SIDE = rb"(\[\]|\[\[[^\]]*\](?:,\[[^\]]*\])*\])"
_DEPTH = re.compile(
    rb'\{"stream":"[ !#-\[\]-~]*","data":\{"e":"depthUpdate","E":(' + _INT + rb'),"T":(' + _INT
    + rb'),"s":"([0-9A-Za-z]{1,32})","U":(' + _INT + rb'),"u":(' + _INT + rb'),"pu":(' + _INT
    + rb'),"b":' + _SIDE + rb',"a":' + _SIDE + rb"\}\}"
)

DepthFields = tuple[int, int, str, int, int, int, Sequence[Level], Sequence[Level]]
TradeFields = tuple[int, int, str, int, float, float, bool]


def depth_fields(raw: bytes | str) -> DepthFields | None:
    """``(E, T, s, U, u, pu, bids, asks)`` of a depthUpdate frame in Binance's exact form (module
    docstring); None: not decided here (the codec decodes it)."""
    if type(raw) is not bytes:
        return None
    m = _DEPTH.fullmatch(raw)
    if m is None:
        return None
    bids = parse(m.group(7))
    asks = parse(m.group(8)) if bids is not None else None
    if bids is None or asks is None:
        return None
    ts, tt, sym, first, final, prev = m.group(1, 2, 3, 4, 5, 6)
    return int(ts), int(tt), sym.decode("ascii"), int(first), int(final), int(prev), bids, asks


_NUM = rb"((?:0|[1-9][0-9]{0,13})(?:\.[0-9]{1,18})?)"
_TRADE = re.compile(
    rb'\{"stream":"[ !#-\[\]-~]*","data":\{"e":"trade","E":(' + _INT + rb'),"T":(' + _INT
    + rb'),"s":"([0-9A-Za-z]{1,32})","t":(' + _INT + rb'),"p":"(?=[0-9.]*[1-9])' + _NUM + rb'","q":"' + _NUM
    + rb'","X":"[A-Z_]{0,32}","m":(true|false)\}\}'
)


def trade_fields(raw: bytes | str) -> TradeFields | None:
    """``(E, T, s, t, p, q, m)`` of a trade frame in Binance's exact form (module docstring); None: not
    decided here (the codec decodes it)."""
    if type(raw) is not bytes:
        return None
    m = _TRADE.fullmatch(raw)
    if m is None:
        return None
    ts, tt, sym, tid, px, qty, maker = m.groups()
    return int(ts), int(tt), sym.decode("ascii"), int(tid), float(px), float(qty), maker == b"true"


def undecided(raw: bytes | str) -> None:
    """A shortcut that decides nothing (the pure build's, ``LEAN`` False)."""
    return
