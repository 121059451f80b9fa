"""``hedge record --symbols A,B --out FILE.gz|DIR [--format gz|parquet] [--minutes N]``: record market data.

Every websocket frame is written exactly as received, with its local receive time in ns, and
every REST depth snapshot the books needed, in the hftbacktest line format (``<ns> <json>``,
gzip), so the file replays with ``hedge replay`` and converts with hftbacktest's tools. Stops
after ``--minutes`` or on SIGINT/SIGTERM; the file is always closed properly (a valid gzip) and
the JSON summary printed (``"interrupted": true`` after Ctrl-C).

``--format parquet``: ``--out`` is a directory of rolling typed tapes (``hedge.feeds.rolling``:
one file per ``--roll-minutes`` of data, rewritten whole every ``--flush-seconds``, atomically), so
even a ``kill -9`` leaves only complete, readable files.

Exit codes: 0 done (``--minutes`` elapsed or SIGTERM), 1 the output cannot be written, 2 bad
usage or configuration, 130 stopped by Ctrl-C (SIGINT; the recording is complete up to then).

Owns: the options (symbols, stream kinds, endpoints or URL overrides, duration), the recording
session (market feed tapped into a ``RecordingWriter`` flushed every second, or a ``RollingTape``
flushed every ``--flush-seconds``; stopped on a
signal or after ``--minutes``) and its JSON summary.

Clock: the frames' receive times come from the feed's clock; ``time.monotonic()`` here only times
the command for its summary (a tool, not an engine component; tests/unit/model/test_clock_usage.py).

Must never: trade, place an order or need API keys, or change a frame on its way to the file.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from hedge.commands.common import add_config_arg

if TYPE_CHECKING:
    from hedge.config import FeedsConfig

STREAM_KINDS = ("depth", "bookTicker", "aggTrade", "trade", "markPrice")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arg(p)
    p.add_argument("--symbols", required=True, help="comma-separated symbols, e.g. BTCUSDT,ETHUSDT")
    p.add_argument("--out", required=True, metavar="FILE.gz|DIR", help="output file (gz) or directory (parquet)")
    p.add_argument("--format", choices=["gz", "parquet"], default="gz",
                   help="gz: one hftbacktest-format file; parquet: rolling typed tapes in the --out directory")
    p.add_argument("--roll-minutes", type=float, default=5.0, help="parquet: a new file per this much data (5)")
    p.add_argument("--flush-seconds", type=float, default=5.0,
                   help="parquet: rows reach the (always readable) file this often (5)")
    p.add_argument("--minutes", type=float, default=None, help="stop after this many minutes (default: until Ctrl-C)")
    p.add_argument(
        "--venue", choices=["binance", "binance-testnet"], default="binance", help="endpoints (default: binance)"
    )
    p.add_argument("--ws-url", help="websocket base URL override, e.g. ws://127.0.0.1:8765")
    p.add_argument("--rest-url", help="REST base URL override, e.g. http://127.0.0.1:8765")
    p.add_argument(
        "--streams",
        help=f"comma-separated stream kinds ({','.join(STREAM_KINDS)}); default: runtime.feeds.streams",
    )


def main(args: argparse.Namespace) -> int:
    import msgspec

    from hedge.app import run_async
    from hedge.commands.common import EXIT_INTERRUPTED, load_config_or_report

    cfg = load_config_or_report(args.config)
    if cfg is None:
        return 2
    feeds_cfg = cfg.runtime.feeds
    if args.streams:
        kinds = [k.strip() for k in args.streams.split(",") if k.strip()]
        bad = [k for k in kinds if k not in STREAM_KINDS]
        if bad:
            print(f"hedge record: unknown stream kind(s): {', '.join(bad)}", file=sys.stderr)
            return 2
        feeds_cfg = msgspec.structs.replace(feeds_cfg, streams=kinds)
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    if not symbols:
        print("hedge record: --symbols is empty", file=sys.stderr)
        return 2
    if bool(args.ws_url) != bool(args.rest_url):
        print("hedge record: give both --ws-url and --rest-url, or neither", file=sys.stderr)
        return 2
    try:
        summary = run_async(_record(feeds_cfg, symbols, args))
    except OSError as exc:  # the output file (the network retries on its own)
        print(f"hedge record: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(msgspec.json.encode(summary).decode())
    return EXIT_INTERRUPTED if summary["interrupted"] else 0


async def _record(feeds_cfg: FeedsConfig, symbols: list[str], args: argparse.Namespace) -> dict[str, object]:
    import asyncio
    import contextlib
    import time

    from hedge.bus import Bus
    from hedge.commands.common import SignalStop
    from hedge.feeds.connection import Endpoints, endpoints
    from hedge.feeds.market import MarketFeed
    from hedge.feeds.recording import RecordingWriter
    from hedge.feeds.rolling import RollingTape

    ep = Endpoints(args.ws_url, args.rest_url) if args.ws_url else endpoints(args.venue, feeds_cfg)
    parquet = args.format == "parquet"
    writer: RecordingWriter | RollingTape = (
        RollingTape(args.out, prefix="-".join(s.lower() for s in symbols), roll_s=args.roll_minutes * 60.0)
        if parquet else RecordingWriter(args.out)
    )
    feed = MarketFeed(feeds_cfg, symbols, Bus(), ep, tap=writer)
    loop = asyncio.get_running_loop()
    stop = SignalStop()
    t0 = time.monotonic()
    task = loop.create_task(feed.run(), name="record")

    async def flusher() -> None:
        while True:
            if isinstance(writer, RollingTape):
                await asyncio.sleep(args.flush_seconds)
                await writer.flush_async()
            else:
                await asyncio.sleep(1.0)
                writer.flush()

    flush_task = loop.create_task(flusher(), name="record-flush")
    try:
        limit = args.minutes * 60.0 if args.minutes is not None else None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.event.wait(), limit)
    finally:
        for t in (task, flush_task):
            t.cancel()
        await asyncio.gather(task, flush_task, return_exceptions=True)
        writer.close()
        stop.close()
    st = feed.stats()
    return {
        "out": str(args.out),
        "symbols": symbols,
        "seconds": round(time.monotonic() - t0, 3),
        "files": [str(f) for f in writer.files] if isinstance(writer, RollingTape) else [str(args.out)],
        "frames": writer.frames,
        "snapshots": writer.snapshots,
        "messages": st.messages,
        "reconnects": st.reconnects,
        "books": {s: b.state for s, b in st.books.items()},
        "interrupted": stop.interrupted,
    }
