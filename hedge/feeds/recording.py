"""Recordings of market data: the file formats, their readers and writer, and the replay source.

Owns:
- the **hftbacktest** line format (nkaz001/hftbacktest, Binance futures collector): gzip text,
  one message per line, ``<local_receive_ns> <raw JSON>``; websocket frames exactly as received
  (combined-stream wrappers), REST depth snapshots as their raw ``/fapi/v1/depth`` body. A
  snapshot body has no symbol: hedge's writer inserts a leading ``"symbol"`` key (which
  hftbacktest's converter ignores); the reader otherwise takes the symbol from the file name
  (``btcusdt_20240718.gz``) or, at replay, from the update-id chain: the book whose buffered diffs
  it bridges (``U <= lastUpdateId <= u``), else the only book needing one; one it cannot place
  is counted (``snapshots_unattributed``) and said loudly;
- the **cryptofeed** raw-data format (bmoscon/cryptofeed ``raw_data_collection``):
  ``<name>.ws.<n>.<m>`` — first line the connect URL, then ``<ts_seconds>: <frame>`` — merged
  by time with its ``<name>.http.<n>.<m>`` sibling (``<url> -> <ts>: <body>``);
- telling a **Parquet tape** (``is_parquet``: ``.parquet`` or the ``PAR1`` magic; a directory of
  them, as ``hedge record --format parquet`` leaves it) from the text formats; the tape itself is
  read by ``hedge.feeds.parquet`` into typed events (``Record``), which the replay source publishes
  without decoding;
- ``ReplaySource``: reads recordings (several files as one continuous stream) and drives the
  same ``FrameDispatcher`` as the live feed, so it publishes the same events in the same order;
  at max speed or at a real-time multiple, deterministically (event times come from the file);
- ``bundled_btcusdt()``: the bundled 8-minute BTCUSDT recording;
- reading gzip with the fastest inflater installed (``gzip_readers``): python-isal (a dependency),
  else zlib-ng (ccxt brings it), else the standard library's (also with ``HEDGE_PURE=1``); the same
  lines and the same damage report from each;
- reading a damaged file (``read_lines``): a gzip stream cut short or corrupt is read up to the
  damage, and the file is named once, with the line and byte where it stopped
  (``ReadStats.damaged``); ``probe``: whether a file holds market data at all (a command refuses
  an empty, CSV or random-byte file instead of replaying nothing).

Clock: the recorded receive times are the events' times; the only direct reads are
``time.monotonic`` for pacing at a multiple of real time (``speed``) and ``time.perf_counter`` for
the run's wall time (events/s) — neither reaches an event (tests/unit/model/test_clock_usage.py).

Must never: alter a recorded websocket frame, or read the wall clock into replayed events.
"""

from __future__ import annotations

import asyncio
import gzip
import heapq
import importlib
import io
import logging
import os
import re
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Sequence
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from hedge.bus import Bus
from hedge.events import BookTicker, DepthSnapshot
from hedge.feeds.codec import CodecError, MarketEvent
from hedge.feeds.dispatch import FeedStats, FrameDispatcher
from hedge.feeds.linescan import TimeOrder, count_lines, parse_block
from hedge.feeds.seen import TickerStamp
from hedge.native import PACKAGE_DIR

log = logging.getLogger(__name__)

TIME_SLACK_NS = 1_000_000_000  # a receive time within 1 s of the stream's is taken as it is
TIME_LOOKAHEAD = 4  # lines read ahead to judge a receive time outside that window
UNCONFIRMED_SPAN_NS = 3_600_000_000_000  # the first and last lines: within an hour of their neighbours
PENDING_LINES = 10_000  # how long a symbol-less snapshot may wait for a diff it bridges
MAX_PENDING_SNAPSHOTS = 8
READ_CHUNK = 1 << 18  # uncompressed bytes asked per read
MAX_LINE = 64 << 20  # a longer "line" is binary data without line ends: the file is damaged there
PROBE_LINES = 1000  # the lines ``probe`` looks at for market data

# from the package, not this file: compiled, this module's ``__file__`` is under hedge/_native/
DATA_DIR = PACKAGE_DIR / "data" / "binance-usdm"

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_NAME_SYMBOL = re.compile(r"^([A-Za-z0-9]+)_\d{8}")
_BODY_SYMBOL = re.compile(rb'"symbol"\s*:\s*"([A-Za-z0-9]+)"')
_URL_SYMBOL = re.compile(r"[?&]symbol=([A-Za-z0-9]+)")


class RecordedLine(msgspec.Struct, frozen=True, gc=False):
    """One recorded message: local receive time, raw bytes, and (snapshots) its symbol if known."""

    recv_ns: int
    raw: bytes
    is_snapshot: bool = False
    symbol: str = ""


# What a recording yields, in replay order: a raw line (gz, cryptofeed: decoded by the dispatcher) or an
# already typed event (a Parquet tape, ``hedge.feeds.parquet``: no JSON decoding left to do).
Record = RecordedLine | MarketEvent | DepthSnapshot | TickerStamp


class ReadStats(msgspec.Struct, kw_only=True):
    lines: int = 0
    bad_lines: int = 0
    bad_kinds: dict[str, int] = {}  # bad lines by kind (no_receive_time, receive_time_out_of_order, ...)
    damaged: dict[str, str] = {}  # file -> where and why reading stopped before its end

    def bad(self, kind: str, line: bytes) -> None:
        """Count a bad line under ``kind``; the first of each kind is logged (with a sample), no other."""
        self.bad_lines += 1
        kinds = self.bad_kinds
        n = kinds.get(kind, 0)
        kinds[kind] = n + 1
        if not n:
            log.warning("recording: bad line (%s; further ones counted, not logged); sample %r", kind, line[:120])

    def damage(self, path: Path, where: str) -> None:
        """``path`` stopped early (``where``: the line and byte, and why): one warning, and remembered."""
        self.damaged[str(path)] = where
        log.warning("recording %s is damaged: %s", path, where)


class _QuietStats(ReadStats, kw_only=True):
    """Counters for a look at a file's first lines (``probe``): nothing logged."""

    def bad(self, kind: str, line: bytes) -> None:
        self.bad_lines += 1

    def damage(self, path: Path, where: str) -> None:
        self.damaged[str(path)] = where


def bundled_btcusdt() -> list[Path]:
    """The bundled BTCUSDT recording (two files, one continuous stream), in order."""
    d = DATA_DIR / "hftbacktest"
    return [d / "btcusdt_20240718.gz", d / "btcusdt_20240719.gz"]


def bundled_cryptofeed() -> Path:
    """The bundled cryptofeed recording (4 symbols): the ``.ws`` file (its ``.http`` sibling is found)."""
    return DATA_DIR / "cryptofeed" / "BINANCE_FUTURES.ws.1.0"


_FAST_GZIP = (("isal.igzip", "isal.isal_zlib", "isal"), ("zlib_ng.gzip_ng", "zlib_ng.zlib_ng", "zlib-ng"))
GzipOpen = Callable[[BinaryIO], Callable[[int], bytes]]  # a file -> the ``read1`` of its gzip stream


def gzip_readers() -> dict[str, tuple[GzipOpen, tuple[type[Exception], ...]]]:
    """The gzip inflaters installed, fastest first, by name: python-isal's (~3.5x the standard
    library's here), zlib-ng's (~2.7x), and ``gzip``'s (always, last); each as (a file -> the ``read1``
    of a gzip stream over it, the errors its corrupt data raises). Truncation raises ``EOFError`` and a
    bad header ``gzip.BadGzipFile`` in all of them."""
    out: dict[str, tuple[GzipOpen, tuple[type[Exception], ...]]] = {}
    for gz_name, zlib_name, name in _FAST_GZIP:
        try:
            gz: Any = importlib.import_module(gz_name)
            z: Any = importlib.import_module(zlib_name)
        except ImportError:
            continue
        out[name] = (_opener(gz), (z.error, gzip.BadGzipFile))
    out["gzip"] = (_opener(gzip), (zlib.error, gzip.BadGzipFile))
    return out


def _opener(mod: Any) -> GzipOpen:
    def open_read1(f: BinaryIO) -> Callable[[int], bytes]:
        read1: Callable[[int], bytes] = mod.GzipFile(fileobj=f, mode="rb").read1
        return read1

    return open_read1


_READERS = gzip_readers()
_STD = ("gzip", *_READERS["gzip"])
# (name, opener, errors) of the inflater ``read_lines`` uses; HEDGE_PURE=1: the standard library's
_INFLATER = _STD if os.environ.get("HEDGE_PURE") else (next(iter(_READERS)), *next(iter(_READERS.values())))
_NO_ERRORS: tuple[type[Exception], ...] = ()


def read_lines(
    path: Path, on_damage: Callable[[Path, str], None] | None = None
) -> Generator[bytes, None, None]:
    """The lines of a recording file, gzip or plain, without their line ends, up to any damage
    (``read_blocks``, a line at a time)."""
    for block in read_blocks(path, on_damage):
        lines = block.split(b"\n")
        lines.pop()
        yield from lines


def read_blocks(
    path: Path, on_damage: Callable[[Path, str], None] | None = None
) -> Generator[bytes, None, None]:
    """The complete lines of a recording file, gzip or plain, a block of them at a time (each line
    ending in ``\n``; a last line without one gets it), up to any damage.

    A gzip stream cut short (a recorder killed mid-write, a partial copy) or corrupt ends the file
    where the damage begins: the complete lines before it are yielded, the partial one is not, and
    ``on_damage(path, where)`` is told the line and uncompressed byte where reading stopped, and why.
    A fast inflater (isal, zlib-ng) fails a whole buffer before the damage, so a damaged file is
    read on from the line it stopped at with the standard library's, which stops at the damage itself.
    """
    with open(path, "rb") as f:
        gz = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        if not gz:
            yield from _blocks(path, f.read1, _NO_ERRORS, on_damage)
            return
        name, opener, errors = _INFLATER
        if name == "gzip":
            yield from _blocks(path, opener(f), errors, on_damage)
            return
        done = yield from _blocks(path, opener(f), errors, None)
        if done < 0:  # damaged: the lines the standard inflater reads past the fast one's stop, then the report
            f.seek(0)
            yield from _after_lines(_blocks(path, _STD[1](f), _STD[2], on_damage), -done - 1)


def _after_lines(blocks: Iterator[bytes], skip: int) -> Iterator[bytes]:
    """``blocks`` without their first ``skip`` lines."""
    for block in blocks:
        if skip:
            n = count_lines(block)
            if n <= skip:
                skip -= n
                continue
            cut = -1
            for _ in range(skip):
                cut = block.index(b"\n", cut + 1)
            block, skip = block[cut + 1 :], 0
        yield block


def _blocks(
    path: Path, read: Callable[[int], bytes], errors: tuple[type[Exception], ...],
    on_damage: Callable[[Path, str], None] | None,
) -> Generator[bytes, None, int]:
    """The complete lines of a stream read by ``read``, a chunk's worth at a time; returns the lines
    yielded, or -(lines + 1) after damage."""
    tail: list[bytes] = []  # the pieces of the line not ended yet (joined once its end comes)
    lines = read_bytes = tail_bytes = 0  # complete lines yielded; uncompressed bytes read; of ``tail``
    try:
        while chunk := read(READ_CHUNK):
            read_bytes += len(chunk)
            cut = chunk.rfind(b"\n") + 1
            if not cut:
                tail.append(chunk)
                tail_bytes += len(chunk)
                if tail_bytes > MAX_LINE:
                    raise ValueError(f"no line end in {MAX_LINE >> 20} MiB (binary data, not a text recording)")
                continue
            block = chunk[:cut] if cut < len(chunk) else chunk
            if tail:
                tail.append(block)
                block = b"".join(tail)
            tail = [chunk[cut:]] if cut < len(chunk) else []
            tail_bytes = len(chunk) - cut
            lines += count_lines(block)
            yield block
    except EOFError:
        why = ("the gzip stream ends before its end marker "
               "(truncated: a recorder stopped mid-write, or a partial copy)")
    except errors as exc:
        why = f"corrupt gzip data: {exc}"
    except ValueError as exc:
        why = f"{exc}"
    else:
        if tail:
            yield b"".join(tail) + b"\n"  # a last line without a line end
            lines += 1
        return lines
    _damaged(path, on_damage, lines, read_bytes - tail_bytes, why)
    return -lines - 1


def _damaged(path: Path, on_damage: Callable[[Path, str], None] | None, lines: int, done: int, why: str) -> None:
    if on_damage is None:
        return
    if not lines:
        on_damage(path, f"reading stopped before its first complete line: {why}; nothing was read")
        return
    on_damage(path, f"reading stopped at line {lines + 1:,} (uncompressed byte {done:,}): {why}; "
                    f"the {lines:,} lines before it were read, the rest is lost")


def _is_snapshot(raw: bytes) -> bool:
    return not raw.startswith((b'{"stream"', b'{"e"')) and b'"lastUpdateId"' in raw


# --------------------------------------------------------------------------- hftbacktest


def iter_hftbacktest(paths: Iterable[str | Path], stats: ReadStats | None = None) -> Iterator[RecordedLine]:
    """The lines of hftbacktest-format files, in order, as one stream (bad lines counted, skipped)."""
    st = stats if stats is not None else ReadStats()
    return chain.from_iterable(_hftbacktest_batches(paths, st))


def _hftbacktest_batches(paths: Iterable[str | Path], st: ReadStats) -> Iterator[list[Any]]:
    """``iter_hftbacktest`` a block at a time: ``parse_block`` (C in the compiled build) decides the
    plain frame lines, and hands every other line to ``_hftbacktest_record``, the reference."""
    for p in paths:
        path = Path(p)
        m = _NAME_SYMBOL.match(path.name)
        slow = partial(_hftbacktest_record, name_symbol=m.group(1).upper() if m else "", st=st)
        for block in read_blocks(path, st.damage):
            recs = parse_block(block, RecordedLine, slow)
            st.lines += len(recs)
            yield recs


def _hftbacktest_records(lines: Iterable[bytes], name_symbol: str, st: ReadStats) -> Iterator[RecordedLine]:
    """The reference reader, a line at a time (``probe``; tests compare the block reader with it)."""
    for line in lines:
        rec = _hftbacktest_record(line, name_symbol, st)
        if rec is not None:
            st.lines += 1
            yield rec


def _hftbacktest_record(line: bytes, name_symbol: str, st: ReadStats) -> RecordedLine | None:
    """One line's record, or None (a bad line is counted; a blank one is not)."""
    sp = line.find(b" ")
    try:
        recv_ns = int(line[:sp]) if sp > 0 else -1
    except ValueError:
        recv_ns = -1
    raw = line[sp + 1 :].rstrip(b"\r\n")
    if recv_ns < 0 or not raw:
        if line.strip():
            st.bad("no_receive_time", line)
        return None
    if raw[:9] != b'{"stream"' and _is_snapshot(raw):
        bm = _BODY_SYMBOL.search(raw, 0, 200)
        return RecordedLine(recv_ns, raw, True, bm.group(1).decode().upper() if bm else name_symbol)
    return RecordedLine(recv_ns, raw)


class RecordingWriter:
    """Write a recording in the hftbacktest format (gzip). Synchronous, buffered; not for the hot path
    of a trading process (the recorder is its own process)."""

    def __init__(self, path: str | Path, *, compresslevel: int = 6) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._gz = gzip.open(self.path, "wb", compresslevel=compresslevel)  # noqa: SIM115 - held open until close()
        self._f = io.BufferedWriter(self._gz, buffer_size=1 << 20)
        self.frames = 0
        self.snapshots = 0

    def write_frame(self, recv_ns: int, raw: bytes | str) -> None:
        data = raw.encode() if isinstance(raw, str) else raw
        self._f.write(b"%d %s\n" % (recv_ns, data))
        self.frames += 1

    def write_snapshot(self, recv_ns: int, symbol: str, raw: bytes | str) -> None:
        body = (raw.encode() if isinstance(raw, str) else raw).strip()
        if body.startswith(b"{") and not _BODY_SYMBOL.search(body, 0, 200):
            body = b'{"symbol":"%s",%s' % (symbol.encode(), body[1:].lstrip())
        self._f.write(b"%d %s\n" % (recv_ns, body))
        self.snapshots += 1

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()


# --------------------------------------------------------------------------- cryptofeed


def _seconds_to_ns(text: str) -> int:
    sec, _, frac = text.strip().partition(".")
    return int(sec) * 1_000_000_000 + int((frac + "000000000")[:9])


def _cryptofeed_ws_records(lines: Iterable[bytes], st: ReadStats) -> Iterator[RecordedLine]:
    first = True
    for line in lines:
        if first:
            first = False
            if b" <-> " in line:
                continue  # the connect URL line
        ts, sep, raw = line.partition(b": ")
        raw = raw.strip()
        try:
            recv_ns = _seconds_to_ns(ts.decode())
        except (ValueError, UnicodeError):
            recv_ns = -1
        if not sep or recv_ns < 0 or not raw:
            if line.strip():
                st.bad("no_receive_time", line)
            continue
        st.lines += 1
        yield RecordedLine(recv_ns, raw)


def _cryptofeed_http_records(lines: Iterable[bytes], st: ReadStats) -> Iterator[RecordedLine]:
    for line in lines:
        if not line.strip():
            continue
        head, sep, rest = line.partition(b" -> ")
        ts, sep2, body = rest.partition(b": ")
        m = _URL_SYMBOL.search(head.decode("utf-8", "replace"))
        try:
            recv_ns = _seconds_to_ns(ts.decode())
        except (ValueError, UnicodeError):
            recv_ns = -1
        body = body.strip()
        if not (sep and sep2) or recv_ns < 0 or not body:
            st.bad("no_receive_time", line)
            continue
        st.lines += 1
        if b"/depth" in head and m:
            yield RecordedLine(recv_ns, body, True, m.group(1).upper())


def _http_sibling(ws_path: Path) -> Path | None:
    name = ws_path.name
    if ".ws." not in name:
        return None
    prefix = name.split(".ws.", 1)[0]
    cands = sorted(ws_path.parent.glob(f"{prefix}.http.*"))
    return cands[0] if cands else None


def iter_cryptofeed(
    ws_path: str | Path, http_path: str | Path | None = None, stats: ReadStats | None = None
) -> Iterator[RecordedLine]:
    """A cryptofeed raw-data recording: websocket frames merged by time with its REST snapshots."""
    st = stats if stats is not None else ReadStats()
    ws = Path(ws_path)
    http = Path(http_path) if http_path is not None else _http_sibling(ws)
    streams: list[Iterator[RecordedLine]] = [_cryptofeed_ws_records(read_lines(ws, st.damage), st)]
    if http is not None:
        streams.insert(0, _cryptofeed_http_records(read_lines(http, st.damage), st))
    yield from heapq.merge(*streams, key=lambda r: r.recv_ns)


def is_cryptofeed(path: str | Path) -> bool:
    p = Path(path)
    if ".ws." in p.name:
        return True
    lines = read_lines(p)
    try:
        return b" <-> " in next(lines, b"")
    finally:
        lines.close()


def probe(path: str | Path) -> str:
    """Why ``path`` holds no market data this reader knows ("" when it does): it must be a directory
    of cryptofeed ``*.ws.*`` files, or a file with a market-data line (a receive time and a JSON
    body) among its first ``PROBE_LINES`` lines. Reads only those lines; logs nothing."""
    p = Path(path)
    if p.is_dir():
        found = sorted(p.glob("*.ws.*")) or sorted(p.glob("*.parquet"))
        if not found:
            return "a directory without cryptofeed *.ws.* files or Parquet tapes"
        return next(filter(None, map(probe, found)), "")
    if is_parquet(p):
        from hedge.feeds.parquet import probe_parquet  # pyarrow only for a Parquet tape

        return probe_parquet(p)
    st = _QuietStats()
    lines = read_lines(p, st.damage)
    try:
        head = islice(lines, PROBE_LINES)
        records = _cryptofeed_ws_records(head, st) if is_cryptofeed(p) else _hftbacktest_records(head, "", st)
        if any(r.raw[:1] == b"{" for r in records):
            return ""
    finally:
        lines.close()
    if st.damaged:
        return f"damaged before any market data: {next(iter(st.damaged.values()))}"
    if not st.lines + st.bad_lines:
        return "empty"
    return (f"unknown format: none of its first {PROBE_LINES:,} lines is market data (hftbacktest "
            "'<receive ns> <JSON>' or cryptofeed '<seconds>: <JSON>')")


def iter_recording(paths: Sequence[str | Path], stats: ReadStats | None = None, *,
                   tickers: bool = True) -> Iterator[Record]:
    """Any mix of supported recordings, in the given order, as one stream of plausible receive times.
    ``tickers`` False: a Parquet tape's bookTicker rows come as ``TickerStamp`` (nobody needs them)."""
    st = stats if stats is not None else ReadStats()
    files = [Path(x) for x in paths]
    if files and all(p.is_file() and is_parquet(p) for p in files):
        from hedge.feeds.parquet import iter_tapes  # pyarrow only for a Parquet tape

        return iter_tapes(files, st, tickers=tickers)  # the same rule, checked a batch at a time
    return chain.from_iterable(_in_time_order_batches(_any_batches(paths, st, tickers), st))


def _in_time_order_batches(batches: Iterable[list[Record]], st: ReadStats) -> Iterator[list[Record]]:
    """``in_time_order`` a list of records at a time (``TimeOrder``: C in the compiled build)."""
    order = TimeOrder(TIME_SLACK_NS, TIME_LOOKAHEAD, time_confirmed, partial(out_of_order, st=st))
    for recs in batches:
        yield order.feed(recs)
    yield order.flush()


def _any_batches(paths: Sequence[str | Path], st: ReadStats, tickers: bool = True) -> Iterator[list[Record]]:
    run: list[Path] = []
    for p in [Path(x) for x in paths]:
        if is_parquet(p):
            from hedge.feeds.parquet import iter_parquet  # pyarrow only for a Parquet tape

            yield from _hftbacktest_batches(run, st)
            run = []
            yield from _lists(iter_parquet(p, st, tickers=tickers))
        elif p.is_dir():
            yield from _hftbacktest_batches(run, st)
            run = []
            if not any(p.glob("*.ws.*")):  # a directory of tapes (``hedge record --format parquet``)
                yield from _any_batches(sorted(p.glob("*.parquet")), st, tickers)
            for ws in sorted(p.glob("*.ws.*")):
                yield from _lists(iter_cryptofeed(ws, stats=st))
        elif is_cryptofeed(p):
            yield from _hftbacktest_batches(run, st)
            run = []
            yield from _lists(iter_cryptofeed(p, stats=st))
        else:
            run.append(p)
    yield from _hftbacktest_batches(run, st)


def _lists(records: Iterator[Record], size: int = 4096) -> Iterator[list[Record]]:
    while batch := list(islice(records, size)):
        yield batch


def is_parquet(path: str | Path) -> bool:
    """A Parquet tape (``hedge.feeds.parquet``): by its extension, else its ``PAR1`` magic."""
    p = Path(path)
    if p.suffix == ".parquet":
        return True
    if not p.is_file():
        return False
    with open(p, "rb") as f:
        return f.read(4) == _PARQUET_MAGIC


def in_time_order(lines: Iterable[Record], st: ReadStats, *, last: int = -1) -> Iterator[Record]:
    """``lines`` without those whose receive time is corrupt (counted ``receive_time_out_of_order``).

    A replay's event clock follows the receive times, so one corrupted digit (a time years ahead)
    would make every periodic timer fire once per period across the jump, and freeze the clock for
    the lines after it (``last``: the stream's time so far, when a caller checked the lines
    before). A time within ``TIME_SLACK_NS`` of the stream's is taken as it is (one
    comparison per line); one outside it is judged by the next ``TIME_LOOKAHEAD`` lines: a real
    jump (the recorder paused; files out of order) is followed by lines that continue from it, a
    corrupt one is not. The first line must be followed within ``UNCONFIRMED_SPAN_NS``; the last,
    which nothing follows, must be that close to the stream's time.
    """
    it = iter(lines)
    ahead: deque[Record] = deque()
    # last: the stream's time, the latest receive time taken (-1: none yet)
    while True:
        rec = ahead.popleft() if ahead else next(it, None)
        if rec is None:
            return
        t = rec.recv_ns
        if last >= 0 and last - TIME_SLACK_NS <= t <= last + TIME_SLACK_NS:
            if t > last:
                last = t
            yield rec
            continue
        while len(ahead) < TIME_LOOKAHEAD and (nxt := next(it, None)) is not None:
            ahead.append(nxt)
        if time_confirmed(t, last, ahead):
            last = t
            yield rec
        else:
            out_of_order(rec, st)


def out_of_order(rec: Record, st: ReadStats) -> None:
    """``rec`` dropped: its receive time is corrupt (counted, its line kept as the example)."""
    st.lines -= 1
    st.bad("receive_time_out_of_order", rec.raw if type(rec) is RecordedLine else repr(rec).encode())


def time_confirmed(t: int, last: int, ahead: Sequence[Record]) -> bool:
    """Do most of the lines ``ahead`` continue from receive time ``t`` (the stream was at ``last``)?"""
    if not ahead:  # the last line (or the only one)
        return last < 0 or abs(t - last) <= UNCONFIRMED_SPAN_NS
    if last < 0:  # the first line
        ok = sum(t - TIME_SLACK_NS <= r.recv_ns <= t + UNCONFIRMED_SPAN_NS for r in ahead)
    elif t > last:
        ok = sum(r.recv_ns >= t - TIME_SLACK_NS for r in ahead)
    else:
        ok = sum(r.recv_ns < last - TIME_SLACK_NS for r in ahead)
    # near the end of the stream fewer lines are left to vote: a tie there (one of two is itself a
    # corrupted line) keeps the line rather than dropping a real jump
    return 2 * ok > len(ahead) or (len(ahead) < TIME_LOOKAHEAD and 2 * ok == len(ahead))


# --------------------------------------------------------------------------- replay


class ReplayStats(msgspec.Struct, kw_only=True):
    lines: int = 0
    bad_lines: int = 0
    bad_kinds: dict[str, int] = {}
    damaged: dict[str, str] = {}  # file -> where and why reading stopped before its end
    snapshots: int = 0
    snapshots_unattributed: int = 0
    lines_seen: int = 0
    first_recv_ns: int = 0
    last_recv_ns: int = 0
    wall_s: float = 0.0


class _RecordRoute:
    """The per-record path of ``ReplaySource`` (its base: ``handle``, and the placing of snapshots).

    Compiled, this is an extension type whose fields are C slots (hedge/feeds/recording.pxd), the
    line counters C integers: ``handle`` runs for every line. They reach ``stats`` at ``finish``
    (``lines_seen``, ``first_recv_ns``, ``last_recv_ns``: nothing reads them before).
    ``ReplaySource`` stays a Python class (benchmarks and tests replace its ``records``)."""

    dispatcher: FrameDispatcher
    stats: ReplayStats
    _pending: list[tuple[DepthSnapshot, int]]  # unattributed snapshots and their deadline line
    _seen: int  # lines handled
    _first_ns: int  # the first line's receive time (0: none yet)
    _last_ns: int  # the last line's

    def handle(self, rec: Record) -> None:
        """Publish one recorded line's events (a frame, or a snapshot for its book), or one typed event."""
        ns = rec.recv_ns
        if not self._first_ns:
            self._first_ns = ns
        self._last_ns = ns
        self._seen += 1
        if not isinstance(rec, RecordedLine):
            self._typed(rec)
            return
        if not rec.is_snapshot:
            self.dispatcher.on_frame(rec.raw, ns)
            if self._pending:
                self._retry_pending()
            return
        self.stats.snapshots += 1
        if rec.symbol:
            self.dispatcher.on_snapshot_body(rec.raw, rec.symbol, ns)
        else:
            self._attribute(rec)

    def _typed(self, ev: MarketEvent | DepthSnapshot | TickerStamp) -> None:
        """An event a Parquet tape decoded already: counted and routed as its frame would be."""
        dispatcher = self.dispatcher
        if not isinstance(ev, DepthSnapshot):
            dispatcher.on_event(ev)
            if self._pending:
                self._retry_pending()
            return
        self.stats.snapshots += 1
        dispatcher.codec.count(ev)
        if ev.symbol:
            dispatcher.on_snapshot(ev)
        else:
            self._place(ev)

    def _attribute(self, rec: RecordedLine) -> None:
        """A snapshot line that names no symbol: decoded, then placed (``_place``)."""
        try:
            snap = self.dispatcher.codec.decode_snapshot(rec.raw, "", rec.recv_ns)
        except CodecError as exc:
            log.warning("replay: unusable snapshot line: %s", exc)
            return
        self._place(snap)

    def _place(self, snap: DepthSnapshot) -> None:
        """A snapshot that names no symbol belongs to the book whose buffered diffs it bridges
        (``U <= lastUpdateId <= u``); else, when exactly one book needs a snapshot, to that one; else
        it waits (at most ``PENDING_LINES`` lines) for a diff that it bridges."""
        books = self.dispatcher.books
        fits = [s for s, b in books.items() if b.bridges(snap.last_update_id)]
        if len(fits) != 1:
            needy = [s for s, b in books.items() if b.needs_snapshot]
            fits = needy if len(needy) == 1 and not fits else []
        if fits:
            self.dispatcher.on_snapshot(msgspec.structs.replace(snap, symbol=fits[0]))
            return
        if len(self._pending) >= MAX_PENDING_SNAPSHOTS:
            self._give_up(self._pending.pop(0)[0])
        self._pending.append((snap, self._seen + PENDING_LINES))

    def _retry_pending(self) -> None:
        """After a frame: hand each waiting snapshot to the one book it now bridges, or give up on it."""
        books = self.dispatcher.books
        keep: list[tuple[DepthSnapshot, int]] = []
        for snap, deadline in self._pending:
            fits = [s for s, b in books.items() if b.bridges(snap.last_update_id)]
            if len(fits) == 1:
                self.dispatcher.on_snapshot(msgspec.structs.replace(snap, symbol=fits[0]))
            elif self._seen >= deadline:
                self._give_up(snap)
            else:
                keep.append((snap, deadline))
        self._pending = keep

    def _give_up(self, snap: DepthSnapshot) -> None:
        self.stats.snapshots_unattributed += 1
        log.warning("replay: a snapshot without a symbol (lastUpdateId=%d) matches no book's update ids; "
                    "it was not applied (books that needed it stay unsynced)", snap.last_update_id)


class ReplaySource(_RecordRoute):
    """Publish a recording's events onto a bus, through the live feed's dispatcher.

    ``speed`` None (or <= 0) = as fast as the pipeline goes; otherwise a multiple of real time
    (2.0 = twice as fast), paced on the recorded receive times with the injected clock/sleep.
    The run is deterministic: events carry the recorded receive times, never the wall clock.
    """

    name = "replay"

    def __init__(
        self,
        paths: Sequence[str | Path],
        bus: Bus,
        *,
        speed: float | None = None,
        imbalance_levels: int = 5,
        symbols: Sequence[str] = (),
        dispatcher: FrameDispatcher | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        yield_every: int = 512,
    ) -> None:
        self.paths = list(paths)
        self.bus = bus
        self.speed = speed if speed is not None and speed > 0 else None
        self.dispatcher = (
            dispatcher if dispatcher is not None
            else FrameDispatcher(bus, imbalance_levels=imbalance_levels, symbols=symbols)
        )
        self.stats = ReplayStats()
        self._pending = []
        self._seen = self._first_ns = self._last_ns = 0
        self._read = ReadStats()
        self._clock = clock
        self._sleep = sleep
        self._yield_every = yield_every

    def records(self) -> Iterator[Record]:
        """The recording's lines in replay order (read counters go to ``stats`` at ``finish``), for a
        driver that interleaves its own work between lines (``hedge replay``'s event clock). Whether
        a tape builds its BookTickers is decided here, by the bus's subscribers at this point."""
        return iter_recording(self.paths, self._read, tickers=self.bus.wants(BookTicker))

    def finish(self, t0: float) -> ReplayStats:
        """Close the run started at ``t0`` (``time.perf_counter()``): read counters and wall time."""
        for snap, _ in self._pending:
            self._give_up(snap)
        self._pending = []
        st = self.stats
        st.lines_seen, st.first_recv_ns, st.last_recv_ns = self._seen, self._first_ns, self._last_ns
        st.lines = self._read.lines
        st.bad_lines = self._read.bad_lines
        st.bad_kinds = dict(self._read.bad_kinds)
        st.damaged = dict(self._read.damaged)
        st.wall_s = time.perf_counter() - t0
        return st

    def run_sync(self) -> ReplayStats:
        """Replay everything at max speed without an event loop (benchmarks, verify-book)."""
        t0 = time.perf_counter()
        handle = self.handle
        for rec in self.records():
            handle(rec)
        return self.finish(t0)

    async def run(self) -> None:
        """Replay everything, yielding to the loop every ``yield_every`` lines (max speed) or pacing."""
        t0 = time.perf_counter()
        handle = self.handle
        speed = self.speed
        start_clock = self._clock()
        first_ns = 0
        for n, rec in enumerate(self.records(), 1):
            if speed is not None:
                if not first_ns:
                    first_ns = rec.recv_ns
                due = (rec.recv_ns - first_ns) / 1e9 / speed - (self._clock() - start_clock)
                if due > 0:
                    await self._sleep(due)
            handle(rec)
            if n % self._yield_every == 0:
                await asyncio.sleep(0)
        self.finish(t0)

    def feed_stats(self) -> FeedStats:
        return self.dispatcher.stats()
