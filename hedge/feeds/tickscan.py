"""A bookTicker frame's symbol and event time, read without decoding it: the dispatcher's lean path.

Owns: ``ticker_stamp(raw)``: for a combined-stream bookTicker frame in exactly the form Binance
sends it, every field valid as the codec validates it, ``(symbol, event time ms)``; else None,
which decides nothing (the frame takes the codec's full decode, which counts what is bad).

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
So whenever this returns a value, ``Codec.wire`` would return a bookTicker with that symbol and
event time (tests/unit/feeds/test_tickscan.py, hypothesis, both builds against the codec).

Design: this ``.py`` is the reference: a regular expression of the form above. It is slower than the
decode it would save (~0.9 vs ~0.6 us), so ``LEAN`` is False here and the pure dispatcher
(``HEDGE_PURE=1``) decodes every frame; the compiled build (setup.py HOT_MODULES) compiles
``tickscan.pyx`` (``LEAN`` True: ~0.1 us a frame): one pass over the bytes in C, the symbol's ``str``
reused while it repeats.

Must never: accept a frame the codec would reject or read differently, or raise.
"""

from __future__ import annotations

import re

LEAN = False  # does calling ``ticker_stamp`` before the decode pay? (the pure dispatcher asks)

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
