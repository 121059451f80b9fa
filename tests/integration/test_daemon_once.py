"""``hedge run --once`` (and ``EXECUTOR_ONCE=1``): one full cycle against the local exchange, a summary, exit 0;
a cycle that cannot complete exits 1 naming what it waited for."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

from hedge.events import Fill, Side
from hedge.model.clock import EventClock
from hedge.risk.kill_switch import write_flag
from hedge.state import schemas as s
from hedge.state.manifest import read_manifest, read_surface

ROOT = Path(__file__).resolve().parents[2]


def run(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hedge", "run", "--config", str(ROOT / "configs"), "--log-dir", str(tmp / "logs"),
         *args],
        cwd=tmp, capture_output=True, text=True, timeout=60,
        env={**os.environ, "HEDGE_RUNTIME__METRICS__PORT": "0", **(env or {})},
    )


def test_once_runs_one_cycle_and_publishes(tmp_path: Path) -> None:
    r = run(tmp_path, env={"EXECUTOR_ONCE": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("hedge run --once: ok in ") and "on local" in r.stdout
    assert "books synced: BTCUSDT" in r.stdout and "NAV: 10,000.00 USDT" in r.stdout
    assert "1 feature updates" in r.stdout and "reconciled: 1 symbols, 0 drifts" in r.stdout
    assert "\n  trading: ACTIVE\n" in r.stdout
    state = tmp_path / "logs" / "state"
    assert read_manifest(state).surfaces
    nav = read_surface(state, s.NavState)
    assert nav is not None and nav.nav == 10_000.0 and nav.source == "reconcile"
    info = msgspec.json.decode((tmp_path / "logs" / "daemon.json").read_bytes())
    assert info["venue"] == "local" and info["exchange_url"].startswith("http://127.0.0.1:")


def test_once_dry_run_uses_the_dry_run_venue_with_paper_nav(tmp_path: Path) -> None:
    r = run(tmp_path, "--once", "--dry-run")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "ok in" in r.stdout and "on dry-run" in r.stdout
    nav = read_surface(tmp_path / "logs" / "state", s.NavState)
    assert nav is not None and nav.source == "paper"


def test_once_says_when_trading_is_halted(tmp_path: Path) -> None:
    flag = tmp_path / "KILL"
    write_flag(flag, "operator test", ts_ns=time.time_ns())
    r = run(tmp_path, "--once", env={"HEDGE_RISK__KILL_SWITCH__FLAG_FILE": str(flag)})
    assert r.returncode == 0, r.stderr[-2000:]  # the cycle itself completed
    assert "\n  trading: HALTED (kill switch: operator test)\n" in r.stdout


@pytest.mark.slow
def test_once_that_cannot_complete_exits_1_and_says_why(tmp_path: Path) -> None:
    # the local exchange plays only BTCUSDT: an ETHUSDT book can never sync
    r = run(tmp_path, "--once", env={"HEDGE_STRATEGY__UNIVERSE": "[BTCUSDT, ETHUSDT]",
                                     "HEDGE_RUNTIME__ONCE_TIMEOUT_S": "3"})
    assert r.returncode == 1, r.stderr[-2000:]
    assert "INCOMPLETE (books not synced: ETHUSDT)" in r.stdout


def test_unreadable_ledger_stops_the_start_with_exit_2_naming_the_file(tmp_path: Path) -> None:
    ledger = tmp_path / "logs" / "state" / "portfolio_ledger.json"
    ledger.parent.mkdir(parents=True)
    ledger.write_text("{not json")
    # A venue whose account outlives the process (the ledger is read back); it stops before any request.
    r = run(tmp_path, "--once", "--venue", "binance-testnet",
            env={"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s",
                 "HEDGE_STRATEGY__CALIBRATOR__MAX_AGE_DAYS": "0"})  # the shipped 2024 fit: not stale here
    assert r.returncode == 2, r.stderr[-2000:]
    assert "portfolio_ledger.json: unreadable ledger" in r.stderr and "Traceback" not in r.stderr


def test_the_local_exchange_is_a_fresh_account_so_an_earlier_ledger_is_not_drift(tmp_path: Path) -> None:
    """`make run`, stop while holding a position, `make run` again: the new in-process exchange is flat;
    the earlier run's ledger must not be read back as a position (drift -> REDUCING for the whole run)."""
    from hedge.config import default_config
    from hedge.portfolio.ledger import Ledger
    from hedge.portfolio.store import LedgerStore

    ledger = Ledger(default_config().strategy.exits, None)
    ledger.apply_fill(Fill(symbol="BTCUSDT", side=Side.BUY, qty=0.004, price=64_000.0, fee=0.05, trade_id=1,
                           client_order_id="h0-0-0", ts_ms=1))
    path = tmp_path / "logs" / "state" / "portfolio_ledger.json"
    path.parent.mkdir(parents=True)
    LedgerStore(path, ledger.state, clock=EventClock()).save_now()
    r = run(tmp_path, "--once")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "reconciled: 1 symbols, 0 drifts" in r.stdout and "drift" not in r.stderr and "REDUCING" not in r.stderr


def test_an_unusable_log_dir_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    r = subprocess.run(
        [sys.executable, "-m", "hedge", "run", "--once", "--config", str(ROOT / "configs"), "--log-dir",
         str(tmp_path / "afile" / "logs")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env={**os.environ, "HEDGE_RUNTIME__METRICS__PORT": "0"},
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"log dir {tmp_path / 'afile' / 'logs'} is not usable: Not a directory" in r.stderr


@pytest.mark.slow
def test_an_unreachable_venue_says_so_once_per_endpoint_without_tracebacks(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run(tmp_path, "--once", "--venue", "binance-testnet", env={
        "BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s", "HEDGE_RUNTIME__ONCE_TIMEOUT_S": "5",
        "HEDGE_RUNTIME__FEEDS__REST_URL_TESTNET": f"http://127.0.0.1:{port}",
        "HEDGE_RUNTIME__FEEDS__WS_URL_TESTNET": f"ws://127.0.0.1:{port}", "HEDGE_LOG_LEVEL": "INFO",
        "HEDGE_STRATEGY__CALIBRATOR__MAX_AGE_DAYS": "0",  # the shipped 2024 fit: not stale here
    })
    assert r.returncode == 1 and "INCOMPLETE" in r.stdout, r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert r.stderr.count(f"cannot reach http://127.0.0.1:{port}:") == 1, r.stderr[-3000:]
    assert r.stderr.count(f"cannot reach ws://127.0.0.1:{port}:") == 1, r.stderr[-3000:]
    assert len(r.stderr.splitlines()) <= 12, r.stderr[-3000:]  # was 500+ lines in 15 s
