"""The one-way Firestore sync against the real emulator: documents equal the state files, unchanged
content is not rewritten, and after the emulator is killed and restarted mid-run (losing every
document) the documents converge to the latest state with nothing left queued."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import msgspec
import pytest

from hedge.config import FirestoreConfig
from hedge.model.clock import LiveClock
from hedge.state.atomic import atomic_write
from hedge.state.firestore.layout import SYNC_FIELD, SYNCED_SURFACES
from hedge.state.firestore.service import FirestoreSync
from tests.kit.firestore import FirestoreEmulator, documents
from tests.kit.wait import wait_for

# one worker holds the one emulator (make test: xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("firestore")


def _files(state: Path) -> dict[str, dict[str, Any]]:
    return {n: json.loads((state / f"{n}.json").read_text()) for n in SYNCED_SURFACES}


def _bodies(docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {f: v for f, v in d.items() if f != SYNC_FIELD} for k, d in docs.items()}


def test_hedge_sync_once_publishes_the_state_files_and_a_nav_point(
    emulator_env: FirestoreEmulator, classic_replay: tuple[object, Path],
) -> None:
    _, log_dir = classic_replay
    instance = f"t{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "HEDGE_RUNTIME__FIRESTORE__INSTANCE": instance}
    run = subprocess.run([sys.executable, "-m", "hedge", "sync", "--once", "--log-dir", str(log_dir)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout.strip().splitlines()[-1])
    assert stats["failures"] == 0 and stats["writes"] == 4 and stats["queue_depth"] == 0  # 3 surfaces + 1 NAV point
    docs = documents(f"hedge/{instance}/state")
    assert _bodies(docs) == _files(log_dir / "state")
    assert docs["leaderboard_state"]["rows"], "the classic replay trades: the leaderboard has rows"
    history = documents(f"hedge/{instance}/nav_history")
    nav = docs["nav_state"]
    assert list(history.values()) == [{
        "ts_ms": nav["nav_ns"] // 60_000_000_000 * 60_000, "nav": nav["nav"], "wallet_balance": nav["wallet_balance"],
        "unrealized_pnl": nav["unrealized_pnl"], "peak_nav": nav["peak_nav"], "source": nav["source"],
        "nav_ns": nav["nav_ns"], SYNC_FIELD: history[next(iter(history))][SYNC_FIELD],
    }]


def _write(state: Path, name: str, content: dict[str, Any]) -> None:
    atomic_write(state / f"{name}.json", msgspec.json.encode(content))


def _nav(i: int) -> dict[str, Any]:
    return {"schema_version": 1, "updated_ns": 1_700_000_000_000_000_000 + i, "nav": 1000.0 + i,
            "wallet_balance": 1000.0, "unrealized_pnl": float(i), "source": "reconcile", "peak_nav": 1000.0 + i,
            "nav_ns": 1_700_000_000_000_000_000 + i * 1_000_000_000, "readings": i}


async def test_unchanged_content_is_not_rewritten(emulator_env: FirestoreEmulator, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    _write(state, "nav_state", _nav(1))
    sync = FirestoreSync(state, FirestoreConfig(instance=f"i{uuid.uuid4().hex[:8]}"), LiveClock())
    try:
        await sync.step()
        assert (sync.stats.writes, sync.stats.commits) == (2, 1)  # nav_state + its NAV history point
        _write(state, "nav_state", _nav(1))  # rewritten, same content
        await sync.step()
        await sync.step()
        assert (sync.stats.writes, sync.stats.commits, sync.stats.unchanged) == (2, 1, 2)
        _write(state, "nav_state", {**_nav(1), "nav": 999.0})  # same minute: no new NAV point
        await sync.step()
        assert (sync.stats.writes, sync.stats.commits) == (3, 2)
        docs = await asyncio.to_thread(documents, f"{sync.layout.base}/state")
        assert docs["nav_state"]["nav"] == 999.0
    finally:
        await sync.close()


@pytest.mark.slow
async def test_a_killed_and_restarted_emulator_converges_to_the_latest_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.kit.firestore import EMULATOR_MISSING

    if EMULATOR_MISSING:
        pytest.skip(EMULATOR_MISSING)
    emu = FirestoreEmulator(tmp_path / "emulator.log")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emu.host)
    await asyncio.to_thread(emu.start)
    state = tmp_path / "state"
    state.mkdir()
    _write(state, "nav_state", _nav(0))
    _write(state, "positions_state", {"schema_version": 1, "updated_ns": 5, "positions": [], "gross_notional": 0.0,
                                      "net_notional": 0.0})
    _write(state, "leaderboard_state", {"schema_version": 1, "updated_ns": 5, "rows": [], "trades": 0, "pnl": 0.0})
    cfg = FirestoreConfig(instance="restart", interval_s=0.05, nav_history_s=1.0, backoff_initial_s=0.1,
                          backoff_max_s=0.5, timeout_s=2.0)
    sync = FirestoreSync(state, cfg, LiveClock())
    task = asyncio.create_task(sync.run())
    try:
        await wait_for(lambda: sync.stats.writes >= 4, 60, what="the first round written")
        assert _bodies(await asyncio.to_thread(documents, "hedge/restart/state")) == _files(state)
        await asyncio.to_thread(emu.kill)
        for i in range(1, 6):  # the state moves on while Firestore is down
            _write(state, "nav_state", _nav(i))
            await wait_for(lambda n=i: sync.stats.failures >= n, 60, what=f"failure {i} counted")
        _write(state, "leaderboard_state", {"schema_version": 1, "updated_ns": 9, "rows": [], "trades": 3, "pnl": 1.5})
        assert sync.stats.queue_depth <= cfg.queue_size
        await asyncio.to_thread(emu.start)  # same port, empty: every document was lost
        await wait_for(lambda: sync.stats.queue_depth == 0 and sync.stats.last_success_ns > 0 and not sync.pending,
                       60, what="the queue drained after the restart")

        async def converged() -> bool:
            return _bodies(await asyncio.to_thread(documents, "hedge/restart/state")) == _files(state)

        await wait_for(converged, 60, what="documents equal to the latest state files", interval=0.2)
        history = await asyncio.to_thread(documents, "hedge/restart/nav_history")
        assert str(_nav(5)["nav_ns"] // 1_000_000 // 1000 * 1000) in history  # the newest point is there
        assert sync.stats.failures >= 5 and sync.stats.dropped == 0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.to_thread(emu.kill)
