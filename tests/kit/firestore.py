"""The real Cloud Firestore emulator for tests: ``gcloud emulators firestore start`` on a free loopback port.

``FirestoreEmulator`` starts it in its own process group, waits until it answers ``GET /`` with
``Ok`` (a condition, not a sleep), and can be killed (SIGKILL to the group: gcloud, its shell and
the JVM) and started again on the same port (an in-memory emulator: a restart loses every document).
``EMULATOR_MISSING`` says why a test is skipped when gcloud or the emulator component is not there
(``.ci/run`` installs ``google-cloud-cli-firestore-emulator``). ``documents`` reads a collection
back: the tests may read Firestore, the product never does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from tests.kit.wait import wait_for_sync

GCLOUD = shutil.which("gcloud")
_EMULATOR_DIRS = [Path("/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator")]
if GCLOUD:
    _EMULATOR_DIRS.append(Path(os.path.realpath(GCLOUD)).parents[1] / "platform" / "cloud-firestore-emulator")
EMULATOR_MISSING = (
    "gcloud is missing" if GCLOUD is None
    else "" if any(d.is_dir() for d in _EMULATOR_DIRS)
    else "the Firestore emulator is missing: apt-get install google-cloud-cli-firestore-emulator (.ci/run does)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FirestoreEmulator:
    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> None:
        assert GCLOUD is not None
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [GCLOUD, "emulators", "firestore", "start", f"--host-port={self.host}", "--quiet"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
            )
        wait_for_sync(self.ready, timeout, what=f"the Firestore emulator on {self.host}", interval=0.2)

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the emulator exited ({self.proc.returncode}): {self.log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://{self.host}/", timeout=2) as resp:
                return bool(resp.read().strip() == b"Ok")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None
        wait_for_sync(lambda: not self._listening(), 30, what="the emulator's port closed", interval=0.1)

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0


def documents(collection: str, project: str = "hedge-local") -> dict[str, dict[str, Any]]:
    """Every document of ``collection`` by id (FIRESTORE_EMULATOR_HOST must be set)."""
    from google.cloud import firestore

    client = firestore.Client(project=project)
    try:
        return {snap.id: snap.to_dict() or {} for snap in client.collection(collection).stream()}
    finally:
        client.close()
