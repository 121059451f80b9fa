"""The audit trail survives kill -9: the real daemon (``python -m hedge run``, on a local exchange in
its own process, with scripts/crash_portfolio.py's lively configuration and hedge's default journal
buffering) is killed with SIGKILL the moment its /metrics shows a fill; every order request, order
answer and fill it had seen is then in its journals on disk. ``scripts/kill_trials.py`` (3 trials
here) restarts it after each kill and checks every exchange fill is journaled exactly once."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from hedge.state.journal import read_journal
from tests.kit.wait import wait_for

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

from crash_portfolio import spawn_daemon, start_exchange, write_config  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def metric(text: str, name: str) -> float:
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def records(path: Path, kind: str) -> list[dict[str, object]]:
    return [r.decode() for r in read_journal(path) if r.kind == kind] if path.exists() else []


@pytest.mark.slow
async def test_orders_answers_and_fills_are_on_disk_when_killed_right_after_a_fill(tmp_path: Path) -> None:
    ex, port = start_exchange()
    mport = free_port()
    proc = spawn_daemon(write_config(tmp_path, port, write_through=False, metrics_port=mport), tmp_path, 0)
    try:
        async with aiohttp.ClientSession() as http:
            async def scrape() -> str | None:
                try:
                    async with http.get(f"http://127.0.0.1:{mport}/metrics") as r:
                        text = await r.text()
                except aiohttp.ClientError:
                    return None
                return text if metric(text, 'hedge_messages_total{type="Fill"}') >= 1 else None

            text = await wait_for(scrape, 120, what="a fill in the daemon's /metrics", interval=0.02)
        proc.kill()  # SIGKILL: no shutdown, no flush
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        ex.terminate()
        ex.wait(timeout=10)
    seen_fills = metric(text, 'hedge_messages_total{type="Fill"}')
    requests = metric(text, 'hedge_messages_total{type="OrderRequest"}')
    filled = metric(text, 'hedge_orders_total{outcome="FILLED"}')
    fills = records(tmp_path / "fills.jsonl", "fill")
    assert len(fills) >= seen_fills >= 1, (len(fills), text)
    assert {f["source"] for f in fills} <= {"user_stream", "reconcile"}
    assert len({(f["fill"]["symbol"], f["fill"]["trade_id"]) for f in fills}) == len(fills)  # type: ignore[index]
    assert len(records(tmp_path / "orders_sent.jsonl", "request")) >= requests >= 1
    answers = records(tmp_path / "order_updates.jsonl", "update")
    assert sum(1 for u in answers if u["status"] == "FILLED") >= filled >= 1, json.dumps(answers)[-2000:]


@pytest.mark.slow
@pytest.mark.xdist_group("heavy-b")  # see tests/conftest.py: at most two of the heaviest daemon tests at once
@pytest.mark.timeout(300)  # four daemon starts (3 kills, then a graceful run): 80 s alone at load 12, >120 s beside other daemons
def test_kill_trials_every_exchange_fill_is_journaled_exactly_once(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "kill_trials.py"), "--trials", "3", "--seed", "5",
         "--dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=280,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["trials"] == 3 and out["never_ready"] == 0, out
    assert out["exchange_fills"] > 0, out  # orders filled across the kills
    assert out["journaled_once"] == out["exchange_fills"], out
    assert out["missing"] == 0 and out["duplicated"] == 0 and out["not_at_exchange"] == 0, out
