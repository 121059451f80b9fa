"""Depth levels as data: an immutable sequence of (price, qty) float pairs over float64 storage.

Owns: ``Levels`` — the container a depth diff's or snapshot's side travels in from the decoder (the
wire codec, the Parquet reader) to the book, and ``parse`` — the decoding of one JSON side
``[["px","qty"],...]`` into levels with the codec's validation.

Contract (stable; the Parquet reader and the book rely on it):

- ``Levels(px, qty, start=0, stop=None)``: a zero-copy view of levels ``start..stop`` (element
  indexes, ``stop=None``: to the end) of two 1-D C-contiguous float64 buffers (anything with the
  buffer protocol whose format is ``d``: numpy float64 arrays, ``array('d')``, ``memoryview``; a
  byte buffer (format ``B``/``b``/``c``) is read as native float64). The buffers must not be
  written afterwards (the view keeps them alive, never copies). ValueError for unequal lengths, a
  wrong item size or ``start``/``stop`` outside ``0 <= start <= stop <= len``.
- ``Levels.split(px, qty, starts, ends)``: ``[Levels(px, qty, s, e) for s, e in zip(starts, ends)]``
  acquiring the buffers once (an Arrow list column: its flattened values and offsets).
- ``Levels.of(pairs)``: a copy of any iterable of (px, qty) pairs; ``EMPTY``: no levels.
- It is a ``collections.abc.Sequence`` of ``(px, qty)`` tuples of Python floats: ``len``,
  ``lv[i]`` (negative too; IndexError outside), ``lv[a:b]`` (a Levels view, step 1 only),
  iteration, ``in``, ``index``/``count``, ``reversed``; ``==`` with any Levels, list or tuple of
  pairs (element-wise, like a list of tuples); unhashable; ``repr`` ``Levels([(px, qty), ...])``;
  pickles as its pairs (a copy).
- ``prices()`` / ``quantities()``: the two columns as lists of floats.
- ``parse(raw)``: the JSON text of one side (bytes, e.g. a ``msgspec.Raw``) -> its levels, or None
  when the codec would reject it: not an array of ``[px, qty]`` pairs (numbers or decimal strings),
  a price not in (0, 1e15), a quantity not in [0, 1e15), NaN or infinite. Pure (this file): msgspec
  decodes it (the reference, the codec's validation as ever) and the result is the list of tuples
  msgspec built; compiled (``levels.pyx``): a C parser writes the doubles straight into a Levels,
  with no Python object per level; anything it does not recognise goes the reference's way.

Design: this ``.py`` is plain Python and the reference (``HEDGE_PURE=1``); the compiled build
(setup.py HOT_MODULES) compiles ``levels.pyx`` instead, a cdef class over a C pointer and stride (its
own block of interleaved pairs for parsed levels, two external buffers for views), which the
compiled book (``book.pyx``) reads with C loops. Both give equal values (tests/unit/feeds/test_levels.py,
hypothesis: the same floats for the same decimal strings, the same rejections).

Must never: copy a buffer it was given as a view, change once built, or accept a level the
codec's validation rejects.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any, overload

import msgspec

from hedge.events import Level

_Px = Annotated[float, msgspec.Meta(gt=0.0, lt=1e15)]
_Qty = Annotated[float, msgspec.Meta(ge=0.0, lt=1e15)]
_SIDE = msgspec.json.Decoder(list[tuple[_Px, _Qty]], strict=False)


def _floats(buf: Any) -> Any:
    """A 1-D float64 memoryview of ``buf`` (format ``d``, or bytes read as float64)."""
    mv = memoryview(buf)
    if mv.ndim != 1 or not mv.c_contiguous:
        raise ValueError("Levels: a 1-D C-contiguous buffer is needed")
    if mv.format in ("B", "b", "c"):
        if mv.nbytes % 8:
            raise ValueError("Levels: a byte buffer's length must be a multiple of 8")
        return mv.cast("B").cast("d")
    if mv.format not in ("d", "@d", "<d", "=d") or mv.itemsize != 8:
        raise ValueError(f"Levels: float64 buffers are needed, not format {mv.format!r}")
    return mv if mv.format == "d" else mv.cast("B").cast("d")


class Levels(Sequence[Level]):
    """Immutable (price, qty) pairs over float64 storage. See the module docstring."""

    __slots__ = ("_px", "_qty")

    def __init__(self, px: Any, qty: Any, start: int = 0, stop: int | None = None) -> None:
        p, q = _floats(px), _floats(qty)
        n = len(p)
        if len(q) != n:
            raise ValueError(f"Levels: {n} prices but {len(q)} quantities")
        end = n if stop is None else stop
        if not 0 <= start <= end <= n:
            raise ValueError(f"Levels: start {start}, stop {stop} outside 0..{n}")
        self._px = p[start:end]
        self._qty = q[start:end]

    @classmethod
    def of(cls, pairs: Iterable[Level]) -> Levels:
        """A copy of ``pairs``."""
        flat = list(pairs)
        return cls(array("d", [p for p, _ in flat]), array("d", [q for _, q in flat]))

    @classmethod
    def split(cls, px: Any, qty: Any, starts: Iterable[int], ends: Iterable[int]) -> list[Levels]:
        """One view per (start, end): the rows of a list column."""
        p, q = _floats(px), _floats(qty)
        return [cls(p, q, int(s), int(e)) for s, e in zip(starts, ends, strict=True)]

    def __len__(self) -> int:
        return len(self._px)

    @overload
    def __getitem__(self, i: int) -> Level: ...

    @overload
    def __getitem__(self, i: slice) -> Levels: ...

    def __getitem__(self, i: int | slice) -> Level | Levels:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self._px))
            if step != 1:
                raise ValueError("Levels: slices with a step are not supported")
            return Levels(self._px, self._qty, start, max(start, stop))
        return (self._px[i], self._qty[i])

    def __iter__(self) -> Iterator[Level]:
        return zip(self._px, self._qty)  # noqa: B905 - equal lengths by construction

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(other) == len(self._px) and all(a == tuple(b) for a, b in zip(self, other))  # noqa: B905

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Levels({list(self)!r})"

    def __reduce__(self) -> tuple[Any, tuple[list[Level]]]:
        return (_from_pairs, (list(self),))

    def prices(self) -> list[float]:
        return list(self._px)

    def quantities(self) -> list[float]:
        return list(self._qty)


def _from_pairs(pairs: list[Level]) -> Levels:
    return Levels.of(pairs)


EMPTY = Levels(b"", b"")


def parse(raw: bytes) -> Sequence[Level] | None:
    """One JSON side ``[["px","qty"],...]`` -> its levels, or None when the codec rejects it."""
    try:
        return _SIDE.decode(raw)
    except (msgspec.DecodeError, UnicodeError):
        return None
