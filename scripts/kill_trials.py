"""The audit trail across kill -9: every exchange fill is in the fill journal exactly once.

Runs ``scripts/crash_portfolio.py``'s driver (the real daemon, ``python -m hedge run``, on a local
exchange in its own process, with a lively strategy; killed with SIGKILL at N random points — during
start-up, just after one of its orders reached the exchange, or at a random moment — and restarted
on the same log directory, so each new process reconciles; at the end a graceful run) with hedge's
default journal buffering (not written through: the order and fill journals' group commit is what
is tested). Then it compares every fill of the account at the exchange (``/fapi/v1/userTrades``,
saved by the driver as ``exchange_trades.json``) with the daemon's ``fills.jsonl`` (and its rotated
backups): each exchange fill must appear exactly once, keyed by (symbol, trade id).

Usage: .venv/bin/python scripts/kill_trials.py [--trials 50] [--seed 1] [--dir DIR]
Last line: {"trials", "exchange_fills", "journaled_once", "missing", "duplicated", "by_source", ...}
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crash_portfolio import cli, drive

from hedge.state.fill_journal import FILLS_JOURNAL
from hedge.state.journal import read_journal


def journaled_fills(directory: Path) -> tuple[Counter[tuple[str, int]], Counter[str]]:
    """How often each (symbol, trade id) is in the fill journal, and the lines by source."""
    keys: Counter[tuple[str, int]] = Counter()
    sources: Counter[str] = Counter()
    for path in sorted(directory.glob(f"{FILLS_JOURNAL}.jsonl*")):
        for rec in read_journal(path):
            if rec.kind != "fill":
                continue
            data = rec.decode()
            keys[(data["fill"]["symbol"], int(data["fill"]["trade_id"]))] += 1
            sources[data["source"]] += 1
    return keys, sources


def compare(directory: Path) -> dict[str, Any]:
    exchange = [(str(s), int(t)) for s, t in json.loads((directory / "exchange_trades.json").read_text())]
    keys, sources = journaled_fills(directory)
    counts = [keys.get(k, 0) for k in exchange]
    return {
        "exchange_fills": len(exchange),
        "journaled_once": sum(1 for c in counts if c == 1),
        "missing": sum(1 for c in counts if c == 0),
        "duplicated": sum(1 for c in counts if c > 1),
        "not_at_exchange": len(set(keys) - set(exchange)),
        "by_source": dict(sorted(sources.items())),
    }


def trials(n: int, seed: int, directory: Path) -> dict[str, Any]:
    run = drive(n, seed, directory, write_through=False)
    out: dict[str, Any] = {"trials": n, **compare(directory)}
    for k in ("killed_during_startup", "killed_just_after_an_order", "orders_accepted",
              "duplicate_client_order_ids", "ledger_equals_exchange", "never_ready", "elapsed_s"):
        out[k] = run[k]
    return out


def main() -> None:
    cli(__doc__, "trials", 50, trials)


if __name__ == "__main__":
    main()
