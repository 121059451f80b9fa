"""A scripted market for the local exchange: a recording (hftbacktest format) whose BTCUSDT book
follows a given path of best bids, so exit scenarios on the real exchange are deterministic."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

TICK = 0.1
LEVELS = 10
QTY = 5.0


def _book(bid: float) -> tuple[dict[str, float], dict[str, float]]:
    bids = {f"{bid - i * TICK:.1f}": QTY for i in range(LEVELS)}
    asks = {f"{bid + (i + 1) * TICK:.1f}": QTY for i in range(LEVELS)}
    return bids, asks


def write_tape(directory: Path, path: list[tuple[float, float]], *, step_s: float = 0.1) -> Path:
    """A recording whose best bid is ``path[i][1]`` from ``path[i][0]`` seconds on (the ask one tick
    above), moving there in steps of one dollar every ``step_s`` seconds; the last price holds for
    five minutes. The book is refreshed (unchanged) every 0.5 s while it holds."""
    t0_ns = 1_900_000_000_000_000_000
    out = directory / "btcusdt_20300101.gz"  # the file name tells the symbol
    uid = 1000

    def line(t_s: float, body: dict[str, object]) -> str:
        return f"{t0_ns + int(t_s * 1e9)} {json.dumps(body, separators=(',', ':'))}\n"

    def diff(t_s: float, old: float | None, new: float, first: int, last: int) -> str:
        nb, na = _book(new)
        ob, oa = _book(old) if old is not None else ({}, {})
        bids = [[p, "0"] for p in ob if p not in nb] + [[p, str(q)] for p, q in nb.items()]
        asks = [[p, "0"] for p in oa if p not in na] + [[p, str(q)] for p, q in na.items()]
        ms = (t0_ns // 1_000_000) + int(t_s * 1000)
        return line(t_s, {"stream": "btcusdt@depth@0ms", "data": {
            "e": "depthUpdate", "E": ms, "T": ms, "s": "BTCUSDT", "U": first, "u": last, "pu": first - 1,
            "b": bids, "a": asks}})

    start = path[0][1]
    bids, asks = _book(start)
    lines = [line(0.0, {"lastUpdateId": uid, "E": t0_ns // 1_000_000, "T": t0_ns // 1_000_000,
                        "bids": [[p, str(q)] for p, q in bids.items()],
                        "asks": [[p, str(q)] for p, q in asks.items()]}),
             diff(0.001, None, start, uid, uid)]
    cur, t = start, 0.001

    def hold(until: float) -> None:  # an unchanged book, refreshed every 0.5 s (feeds have a watchdog)
        nonlocal uid, t
        while t + 0.5 < until:
            t += 0.5
            uid += 1
            lines.append(diff(t, cur, cur, uid, uid))
        t = max(t, until)

    for at, target in path[1:]:
        hold(at)
        while abs(target - cur) > 1e-9:
            nxt = cur + max(-1.0, min(1.0, target - cur))
            uid += 1
            lines.append(diff(t, cur, nxt, uid, uid))
            cur, t = nxt, t + step_s
    hold(t + 300.0)  # the last price holds (the tape loops only after this)
    with gzip.open(out, "wt") as f:
        f.writelines(lines)
    return out
