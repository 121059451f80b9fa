"""The daemon with ``features.firestore_sync`` on publishes its state to the real emulator as it runs:
the documents catch up with the state files, /metrics counts the writes, and the tick path is not
part of it (the sync only reads files the state publisher wrote)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from hedge.state.firestore.layout import SYNC_FIELD, SYNCED_SURFACES
from tests.integration.test_daemon_e2e import free_port, get, lively_config, metric
from tests.kit.firestore import FirestoreEmulator, documents
from tests.kit.wait import wait_for_sync

# one worker holds the one emulator (make test: xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("firestore")


@pytest.mark.slow
def test_the_daemon_syncs_its_state_files(emulator_env: FirestoreEmulator, tmp_path: Path) -> None:
    cfg = lively_config(tmp_path)
    logs = tmp_path / "logs"
    port = free_port()
    instance = f"d{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "HEDGE_RUNTIME__METRICS__PORT": str(port), "HEDGE_FEATURE_FIRESTORE_SYNC": "1",
           "HEDGE_RUNTIME__FIRESTORE__INSTANCE": instance, "HEDGE_RUNTIME__LOCAL_EXCHANGE__SPEED": "4"}
    err_path = tmp_path / "daemon.err"
    with err_path.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "hedge", "run", "--config", str(cfg), "--log-dir", str(logs)],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=err, env=env)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_for_sync(lambda: "metrics: serving" in err_path.read_text(), 60, what="metrics serving", interval=0.2)
        wait_for_sync(lambda: metric(get(url)[1], "hedge_firestore_writes_total") >= 3, 60,
                      what="the state documents written", interval=0.5)
        text = get(url)[1]
        assert metric(text, "hedge_firestore_enabled") == 1.0
        assert metric(text, "hedge_firestore_failures_total") == 0.0

        def in_step() -> bool:  # the state keeps moving: some poll sees the documents equal the files
            files = {n: json.loads((logs / "state" / f"{n}.json").read_text()) for n in SYNCED_SURFACES}
            docs = documents(f"hedge/{instance}/state")
            return {k: {f: v for f, v in d.items() if f != SYNC_FIELD} for k, d in docs.items()} == files

        wait_for_sync(in_step, 60, what="documents equal to the state files", interval=0.3)
        assert documents(f"hedge/{instance}/nav_history"), "a NAV history point"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert "firestore: commit" not in err_path.read_text()  # no failed commit logged
