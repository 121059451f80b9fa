"""Levels and parse: the container's contract in both builds; hypothesis: the compiled parser gives the
same floats and the same rejections as the reference (msgspec, the pure build) on random decimal strings
and random, often malformed, sides; the compiled book equals the pure one bit for bit on random diffs."""

from __future__ import annotations

import math
import pickle
import struct
from array import array
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedge import native
from hedge.feeds import book as loaded_book
from hedge.feeds import levels as loaded
from tests.kit.compiled import require_compiled

PURE = native.load_pure("hedge.feeds.levels")
PURE_BOOK = native.load_pure("hedge.feeds.book")


def _compiled(module: str, mod: ModuleType) -> ModuleType:
    require_compiled(module)
    return mod


@pytest.fixture(scope="module", params=["compiled", "pure"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    return PURE if request.param == "pure" else _compiled("hedge.feeds.levels", loaded)


def test_contract(impl: ModuleType) -> None:
    px, qty = array("d", [1.0, 2.0, 3.0, 4.0]), array("d", [5.0, 6.0, 7.0, 0.0])
    lv = impl.Levels(px, qty, 1, 3)
    assert len(lv) == 2 and lv[0] == (2.0, 6.0) and lv[-1] == (3.0, 7.0) and type(lv[0][0]) is float
    assert list(lv) == [(2.0, 6.0), (3.0, 7.0)] and lv == [(2.0, 6.0), (3.0, 7.0)] and lv == ((2.0, 6.0), (3.0, 7.0))
    assert lv != [(2.0, 6.0)] and lv[1:] == [(3.0, 7.0)] and lv[5:] == [] and list(reversed(lv)) == [(3.0, 7.0), (2.0, 6.0)]
    assert (3.0, 7.0) in lv and lv.index((3.0, 7.0)) == 1 and lv.count((2.0, 6.0)) == 1
    assert lv.prices() == [2.0, 3.0] and lv.quantities() == [6.0, 7.0]
    assert repr(lv) == "Levels([(2.0, 6.0), (3.0, 7.0)])"
    if impl is not PURE:  # (the pure copy is not importable by name: pickled by the other tests' build)
        assert pickle.loads(pickle.dumps(lv)) == lv
    assert impl.Levels(px, qty) == list(zip(px, qty, strict=True)) and len(impl.EMPTY) == 0
    assert impl.Levels(px.tobytes(), qty.tobytes(), 3) == [(4.0, 0.0)]  # bytes read as float64
    assert [list(x) for x in impl.Levels.split(px, qty, [0, 2, 4], [2, 4, 4])] == [
        [(1.0, 5.0), (2.0, 6.0)], [(3.0, 7.0), (4.0, 0.0)], []]
    assert impl.Levels.of([(1.5, 2.5)]) == [(1.5, 2.5)] and impl.Levels.of([]) == []
    with pytest.raises(IndexError):
        lv[2]
    with pytest.raises(TypeError):
        hash(lv)
    for bad in [lambda: impl.Levels(px, array("d", [1.0])), lambda: impl.Levels(px, qty, 3, 2),
                lambda: impl.Levels(px, qty, 0, 5), lambda: impl.Levels(array("i", [1]), array("i", [1])),
                lambda: impl.Levels.split(px, qty, [0], [9]), lambda: lv[::2]]:
        with pytest.raises(ValueError):
            bad()


def test_levels_pickle_as_their_pairs() -> None:
    lv = loaded.Levels.of([(1.0, 2.0), (3.0, 0.5)])
    assert pickle.loads(pickle.dumps(lv)) == lv


def test_compiled_and_pure_levels_are_equal_sequences() -> None:
    c = _compiled("hedge.feeds.levels", loaded)
    a, b = c.Levels.of([(1.0, 2.0), (3.0, 0.5)]), PURE.Levels.of([(1.0, 2.0), (3.0, 0.5)])
    assert a == b and b == a and a != PURE.Levels.of([(1.0, 2.0)])


# ------------------------------------------------------------------------------------------ parse

def _bits(v: Any) -> Any:
    """Floats compared bit for bit (-0.0 != 0.0)."""
    if v is None:
        return None
    return [tuple(struct.pack("<d", x) for x in pair) for pair in v]


digits = st.text(alphabet="0123456789", min_size=1, max_size=20)
decimals = st.one_of(
    st.builds(lambda i, f: f"{int(i)}.{f}", digits, digits),  # Binance's form, any length
    st.builds(lambda i, f, e: f"{int(i)}.{f}e{e}", digits, digits, st.integers(-330, 330)),
    st.builds(lambda i, e: f"{int(i)}E+{e}", digits, st.integers(0, 40)),
    st.builds(lambda s, x: f"{s}{x!r}", st.sampled_from(["", "-"]),
              st.floats(min_value=0, max_value=2e15, allow_nan=False)),
    st.sampled_from(["0", "-0", "0.0", "-0.0", "1e15", "999999999999999.9", "1e-400", "1e400", "nan", "NaN",
                     "inf", "-inf", "Infinity", "01.5", "1.", ".5", "+1", " 1", "1 ", "0x10", "1_0", "", "\\u0031",
                     "\uff11", "1e", "1e+", "--1"]),
)
numbers = st.one_of(decimals.map(lambda d: f'"{d}"'), decimals,  # quoted (Binance) and bare
                    st.sampled_from(["true", "null", "[]", "{}", '"a"', "1.5", "-0", "7"]))
pairs = st.one_of(
    st.builds(lambda p, q: f"[{p},{q}]", numbers, numbers),
    st.builds(lambda p, q, w: f"[{w}{p}{w},{w}{q}{w}]", numbers, numbers, st.sampled_from([" ", "\n", "\t "])),
    st.lists(numbers, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]"),  # wrong arity
    st.sampled_from(["null", '"1"', "1", "[[]]", '{"p":"1"}']),
)
sides = st.one_of(
    st.lists(pairs, max_size=8).map(lambda ps: "[" + ",".join(ps) + "]"),
    st.builds(lambda ps, w: w + "[" + ("," + w).join(ps) + "]" + w, st.lists(pairs, max_size=4),
              st.sampled_from([" ", "\r\n", ""])),
    st.sampled_from(["", "[", "]", "[[\"1\",\"2\"]", "[[\"1\",\"2\"],]", "[,]", "{}", "null", "[[\"1\",\"2\"]] x"]),
)


@settings(max_examples=1500, deadline=None)
@given(side=sides)
def test_parse_equals_the_reference_on_random_sides(side: str) -> None:
    c = _compiled("hedge.feeds.levels", loaded)
    raw = side.encode()
    want = PURE.parse(raw)
    got = c.parse(raw)
    assert _bits(got) == _bits(want), side
    assert (got is None) == (want is None)


@settings(max_examples=2000, deadline=None)
@given(px=decimals, qty=decimals)
def test_parse_gives_the_references_float_for_every_decimal_string(px: str, qty: str) -> None:
    c = _compiled("hedge.feeds.levels", loaded)
    raw = f'[["{px}","{qty}"],["{qty}","{px}"]]'.encode()
    assert _bits(c.parse(raw)) == _bits(PURE.parse(raw)), raw


def test_parse_rejects_what_the_codec_rejects(impl: ModuleType) -> None:
    ok = impl.parse(b'[["64000.10","1.5"],["64000.20","0"]]')
    assert ok == [(64000.1, 1.5), (64000.2, 0.0)] and impl.parse(b"[]") == []
    for bad in [b'[["0","1"]]', b'[["-1","1"]]', b'[["1","-0.5"]]', b'[["1e15","1"]]', b'[["1","1e15"]]',
                b'[["nan","1"]]', b'[["1","inf"]]', b'[["1"]]', b'[["1","2","3"]]', b'[[true,"1"]]', b"{}",
                b'[["1","2"]', b'[["x","1"]]']:
        assert impl.parse(bad) is None, bad
    # as msgspec: "-0" is the integer 0 (+0.0), "-0.0" the float -0.0 (>= 0: accepted)
    assert [math.copysign(1.0, impl.parse(b'[["1","%s"]]' % q)[0][1]) for q in (b"-0", b"-0.0")] == [1.0, -1.0]


# ------------------------------------------------------------------------------------------- book

book_prices = st.one_of(st.integers(0, 300).map(lambda i: 60000.0 + i / 10),
                        st.integers(1, 60).map(lambda i: 1000.0 * i))  # near the touch, and far
book_qtys = st.sampled_from([0.0, 0.0, 0.001, 0.5, 1.25, 37.0, 0.1 + 0.2])
book_sides = st.lists(st.tuples(book_prices, book_qtys), max_size=30)


def _queries(b: Any, n: int, probe: list[float]) -> str:
    return repr((b.best_bid(), b.best_ask(), b.bids(n), b.asks(n), b.bids(400), b.touch(n), b.touch(0),
                 b.depth(), b.micro_price(), b.imbalance(n), b.is_crossed(),
                 [(b.bid_qty(p), b.ask_qty(p)) for p in probe]))


@settings(max_examples=300, deadline=None)
@given(snap=st.tuples(book_sides, book_sides), diffs=st.lists(st.tuples(book_sides, book_sides), max_size=20),
       n=st.integers(1, 12), window=st.sampled_from([2, 3, 8, 64, 1024]), as_levels=st.booleans())
def test_compiled_book_equals_pure_bit_for_bit(snap: tuple[Any, Any], diffs: list[Any], n: int, window: int,
                                               as_levels: bool) -> None:
    c = _compiled("hedge.feeds.book", loaded_book)
    lv = loaded.Levels.of if as_levels else list  # the compiled book's C path, or its generic one
    cb, pb = c.OrderBook(window), PURE_BOOK.OrderBook(window)
    cb.apply_snapshot(lv(snap[0]), lv(snap[1]))
    pb.apply_snapshot(snap[0], snap[1])
    probe = [p for p, _ in snap[0][:3] + snap[1][:3]] + [1.0]
    assert _queries(cb, n, probe) == _queries(pb, n, probe)
    for bids, asks in diffs:
        cb.apply(lv(bids), lv(asks))
        pb.apply(bids, asks)
        assert _queries(cb, n, probe + [p for p, _ in bids[:2]]) == _queries(pb, n, probe + [p for p, _ in bids[:2]])
