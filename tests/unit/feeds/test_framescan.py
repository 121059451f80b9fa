"""The frame shortcuts (hedge.feeds.framescan), both builds: ``ticker_stamp``, ``depth_fields`` and
``trade_fields`` read a bookTicker / depthUpdate / trade frame in Binance's exact form and decide
nothing else; whatever they accept, the codec's full decode reads the same way (hypothesis, on well-formed frames with odd values
and on mutated ones; the compiled scan equals the reference), and the dispatcher's and the codec's
counts, stamps and events are the same with and without them."""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge import native
from hedge.bus import Bus
from hedge.events import DepthDiff, Side, Trade
from hedge.feeds import codec, dispatch
from hedge.feeds import framescan as loaded
from hedge.feeds.codec import Codec, WireTicker
from hedge.feeds.dispatch import FrameDispatcher
from hedge.feeds.recording import RecordedLine, bundled_btcusdt, iter_recording
from tests.kit.compiled import require_compiled
from tests.unit.feeds.test_codec import DEPTH, TICKER

PURE = native.load_pure("hedge.feeds.framescan")


@pytest.fixture(scope="module", params=["compiled", "pure"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    if request.param == "pure":
        return PURE
    require_compiled("hedge.feeds.framescan")
    return loaded


def _frame(stream: bytes, u: bytes, sym: bytes, b: bytes, bq: bytes, a: bytes, aq: bytes, t: bytes, e: bytes) -> bytes:
    return (b'{"stream":"' + stream + b'","data":{"e":"bookTicker","u":' + u + b',"s":"' + sym + b'","b":"' + b
            + b'","B":"' + bq + b'","a":"' + a + b'","A":"' + aq + b'","T":' + t + b',"E":' + e + b"}}")


_ints = st.one_of(
    st.integers(0, 2**63 - 1).map(lambda v: str(v).encode()),
    st.sampled_from([b"0", b"00", b"01", b"-1", b"1.0", b"1e3", b"999999999999999999", b"1000000000000000000",
                     b"9223372036854775807", b"9223372036854775808", b"", b'"5"', b"+1"]),
)
_decimals = st.one_of(
    st.from_regex(rb"\A(0|[1-9][0-9]{0,15})(\.[0-9]{0,20})?\Z"),
    st.decimals(min_value=0, max_value=10**16, allow_nan=False, places=8).map(lambda d: str(d).encode()),
    st.sampled_from([b"0", b"0.0", b"0.000000000000000000", b"0.000000000000000001", b"0.0000000000000000001",
                     b"99999999999999", b"99999999999999.999999999999999999", b"999999999999999", b"1000000000000000",
                     b"1.", b".5", b"-1", b"1e5", b"nan", b"NaN", b"inf", b"Infinity", b"", b" 1", b"1 ", b"00.1",
                     b"0x10", b"1_000", b"\xd9\xa1"]),
)
_symbols = st.one_of(st.sampled_from([b"BTCUSDT", b"ETHUSDT", b"1000PEPEUSDT", b"btcusdt", b"B" * 32, b"B" * 33, b""]),
                     st.binary(min_size=0, max_size=6))
_streams = st.one_of(st.sampled_from([b"btcusdt@bookTicker", b"", b"a\\\"b", b"\x7f", b"\xc3\xa9", b"\t"]),
                     st.binary(max_size=8))


def _depth(stream: bytes, ints: list[bytes], sym: bytes, bids: bytes, asks: bytes) -> bytes:
    e, t, u0, u1, pu = ints
    return (b'{"stream":"' + stream + b'","data":{"e":"depthUpdate","E":' + e + b',"T":' + t + b',"s":"' + sym
            + b'","U":' + u0 + b',"u":' + u1 + b',"pu":' + pu + b',"b":' + bids + b',"a":' + asks + b"}}")


_levels = st.lists(st.tuples(_decimals, _decimals), max_size=4).map(
    lambda lv: b"[" + b",".join(b'["' + p + b'","' + q + b'"]' for p, q in lv) + b"]")
_sides = st.one_of(_levels, st.sampled_from([b"[]", b"[ ]", b'[[1,2]]', b'[["1","2"],]', b'[["1","2"]', b'[["1"]]',
                                             b'[["1","2","3"]]', b'[["1","2"],["3","4"]]', b'[[]]', b"{}", b"null"]))


def _trade(stream: bytes, ints: list[bytes], sym: bytes, px: bytes, qty: bytes, x: bytes, m: bytes) -> bytes:
    e, t, tid = ints
    return (b'{"stream":"' + stream + b'","data":{"e":"trade","E":' + e + b',"T":' + t + b',"s":"' + sym + b'","t":'
            + tid + b',"p":"' + px + b'","q":"' + qty + b'","X":"' + x + b'","m":' + m + b"}}")


_xs = st.sampled_from([b"MARKET", b"", b"LIQUIDATION", b"INSURANCE_FUND", b"X" * 33, b"market", b"A1"])
_ms = st.sampled_from([b"true", b"false", b"True", b"1", b'"true"', b"null"])


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["ticker", "depth", "trade"]))
    if kind == "ticker":
        f = _frame(draw(_streams), draw(_ints), draw(_symbols), draw(_decimals), draw(_decimals), draw(_decimals),
                   draw(_decimals), draw(_ints), draw(_ints))
    elif kind == "depth":
        f = _depth(draw(_streams), [draw(_ints) for _ in range(5)], draw(_symbols), draw(_sides), draw(_sides))
    else:
        f = _trade(draw(_streams), [draw(_ints) for _ in range(3)], draw(_symbols), draw(_decimals), draw(_decimals),
                   draw(_xs), draw(_ms))
    if draw(st.booleans()):
        return f
    g = bytearray(f)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(g)))
        op = draw(st.sampled_from(["flip", "cut", "insert", "drop"]))
        if op == "flip" and i < len(g):
            g[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del g[i:]
        elif op == "insert":
            g[i:i] = draw(st.sampled_from([b" ", b",", b'"x":1,', b"\\", b"}", b"0", b"\n"]))
        else:
            del g[i : i + draw(st.integers(1, 8))]
    return bytes(g)


def _check(impl: ModuleType, raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int] | None:
    got = impl.ticker_stamp(raw)
    assert got == PURE.ticker_stamp(raw)  # the compiled scan equals the reference
    if got is not None:  # ... and accepts only what the codec reads the same way
        w = Codec().wire(raw, 1)
        assert isinstance(w, WireTicker) and (w.sym, w.ts) == got
    fields = impl.depth_fields(raw)
    assert fields == PURE.depth_fields(raw)
    trade = impl.trade_fields(raw)
    assert trade == PURE.trade_fields(raw)
    with monkeypatch.context() as m:
        m.setattr(codec, "_depth_fields", PURE.undecided)
        m.setattr(codec, "_trade_fields", PURE.undecided)
        full = Codec().wire(raw, 1)  # msgspec's decode alone
    if trade is not None:
        assert got is None and fields is None and isinstance(full, Trade) and not full.aggregated
        assert (full.ts_ms, full.trade_ms, full.symbol, full.trade_id, full.price, full.qty) == trade[:6]
        assert full.taker_side is (Side.SELL if trade[6] else Side.BUY)
    if fields is not None:
        assert got is None and isinstance(full, DepthDiff)
        ev = full
        assert (ev.ts_ms, ev.transact_ms, ev.symbol, ev.first_id, ev.final_id, ev.prev_final_id) == fields[:6]
        assert list(ev.bids) == list(fields[6]) and list(ev.asks) == list(fields[7])
    return got


@settings(max_examples=1500, deadline=None)
@given(raw=frames())
def test_accepts_only_what_the_codec_decodes_the_same(impl: ModuleType, raw: bytes) -> None:
    with pytest.MonkeyPatch.context() as m:
        _check(impl, raw, m)


@settings(max_examples=300, deadline=None)
@given(sym=st.from_regex(rb"\A[0-9A-Z]{1,32}\Z"), u=st.integers(0, 10**18 - 1), e=st.integers(0, 10**18 - 1),
       px=st.from_regex(rb"\A[1-9][0-9]{0,13}(\.[0-9]{1,18})?\Z"), qty=st.from_regex(rb"\A0(\.[0-9]{1,18})?\Z"))
def test_the_exact_form_is_read(impl: ModuleType, sym: bytes, u: int, e: int, px: bytes, qty: bytes) -> None:
    raw = _frame(b"x@bookTicker", str(u).encode(), sym, px, qty, px, qty, b"0", str(e).encode())
    with pytest.MonkeyPatch.context() as m:
        assert _check(impl, raw, m) == (sym.decode(), e)
    side = b'[["' + px + b'","' + qty + b'"]]'
    raw = _depth(b"x@depth", [str(e).encode(), b"0", str(u).encode(), str(u).encode(), b"0"], sym, side, b"[]")
    fields = impl.depth_fields(raw)
    assert fields is not None and fields[:6] == (e, 0, sym.decode(), u, u, 0) and len(fields[6]) == 1
    raw = _trade(b"x@trade", [str(e).encode(), b"0", str(u).encode()], sym, px, qty, b"MARKET", b"false")
    assert impl.trade_fields(raw) == (e, 0, sym.decode(), u, float(px), float(qty), False)


def test_the_bundled_tickers_and_diffs_all_take_the_lean_path(impl: ModuleType) -> None:
    raws = [r.raw for r in iter_recording(bundled_btcusdt()) if type(r) is RecordedLine and not r.is_snapshot]
    tickers = [r for r in raws if b"@bookTicker" in r[:40]]
    assert len(tickers) > 50_000 and all(impl.ticker_stamp(r) == ("BTCUSDT", int(r[-15:-2])) for r in tickers)
    diffs = [r for r in raws if b"@depth" in r[:40]]
    assert len(diffs) > 9_000 and all(impl.depth_fields(r) is not None for r in diffs)
    trades = [r for r in raws if b"@trade" in r[:40]]
    assert len(trades) > 10_000 and all(impl.trade_fields(r) is not None for r in trades)
    assert impl.ticker_stamp(TICKER.decode()) is None and impl.depth_fields(DEPTH.decode()) is None  # str: the codec's


def test_the_dispatcher_counts_stamps_and_publishes_the_same_without_them(monkeypatch: pytest.MonkeyPatch) -> None:
    recs = [r for r in iter_recording(bundled_btcusdt()) if type(r) is RecordedLine and not r.is_snapshot][:5000]
    frames_ = [(r.raw, r.recv_ns) for r in recs] + [(TICKER.replace(b"BTCUSDT", b"ETHUSDT"), 7), (TICKER, 0)]

    def run() -> tuple[object, ...]:
        bus = Bus()
        seen: list[object] = []
        bus.subscribe(DepthDiff, seen.append)
        bus.subscribe(Trade, seen.append)
        d = FrameDispatcher(bus, symbols=["BTCUSDT"])
        for raw, ns in frames_:
            d.on_frame(raw, ns)
        return d.stats(), bus.published(), dict(d.tickers.by_symbol), dict(d.tickers.by_type), seen

    monkeypatch.setattr(dispatch, "_ticker_stamp", loaded.ticker_stamp)  # pure build too: the reference
    monkeypatch.setattr(codec, "_depth_fields", loaded.depth_fields)
    monkeypatch.setattr(codec, "_trade_fields", loaded.trade_fields)
    lean = run()
    calls: list[bytes] = []
    monkeypatch.setattr(dispatch, "_ticker_stamp", lambda raw: calls.append(raw))  # every frame: the full decode
    monkeypatch.setattr(codec, "_depth_fields", PURE.undecided)
    monkeypatch.setattr(codec, "_trade_fields", PURE.undecided)
    full = run()
    assert full == lean and len(calls) == len(frames_) and len(lean[4]) > 500
