"""A separate Ray cluster for tests: ``ray start --head --block`` in its own session, temp dir and ports.

``RayHead`` starts a one-node cluster the way an operator would, apart from the test process (a
cluster the sweep did not start): every port it opens is an ephemeral one picked here (GCS, Ray
client server, node manager, object manager, dashboard agent, runtime-env agent, metrics), its own
``--temp-dir`` (short, under /tmp: Ray's socket paths must stay under 108 bytes), token
authentication with its own token file (``token`` below; ``~/.ray/auth_token`` is not touched).
``stop`` ends only what it started: SIGTERM to ``ray start`` (it stops its node), then SIGKILL to
whatever is left of the session it leads (``start_new_session``) — never ``ray stop`` (that would stop every Ray on the
machine, other tests' and other users').
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.kit.firestore import free_port
from tests.kit.wait import wait_for_sync

RAY = str(Path(sys.executable).parent / "ray")
PORT_FLAGS = ("--port", "--ray-client-server-port", "--node-manager-port", "--object-manager-port",
              "--dashboard-port", "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port",
              "--runtime-env-agent-port", "--metrics-export-port")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _session(sid: int) -> list[int]:
    """The pids of session ``sid`` still alive (Linux /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":  # field 6 (session), after state and ppid, pgrp
                out.append(int(d.name))
    return out


class RayHead:
    def __init__(self, cpus: int = 2) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="hray-", dir="/tmp"))
        self.token = self.dir / "token"
        self.token.write_text(secrets.token_hex(32))
        ports: set[int] = set()
        while len(ports) < len(PORT_FLAGS):
            ports.add(free_port())
        self.ports = dict(zip(PORT_FLAGS, sorted(ports), strict=True))
        self.gcs = f"127.0.0.1:{self.ports['--port']}"
        self.client = f"ray://127.0.0.1:{self.ports['--ray-client-server-port']}"
        self.cpus = cpus
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        """The environment of a process that holds this cluster's token (and no other Ray address)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        return {**env, "RAY_AUTH_TOKEN_PATH": str(self.token)}

    def start(self, timeout: float = 120.0) -> None:
        args = [RAY, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--num-cpus", str(self.cpus),
                "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", str(self.dir / "ray")]
        for flag, port in self.ports.items():
            args += [flag, str(port)]
        with (self.dir / "head.log").open("ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=self.dir, start_new_session=True,
                                         env={**self.env(), "RAY_AUTH_MODE": "token"})
        wait_for_sync(self.ready, timeout, what=f"a Ray head on {self.gcs} ({self.dir}/head.log)", interval=0.2)

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"ray start exited {self.proc.returncode}: {(self.dir / 'head.log').read_text()}")
        return "Ray runtime started" in (self.dir / "head.log").read_text() and _listening(
            self.ports["--ray-client-server-port"])

    def stop(self, timeout: float = 30.0) -> None:
        """``ray start`` stops its node on SIGTERM; what is left of its session after ``timeout`` is killed."""
        if self.proc is not None:
            sid = self.proc.pid
            self.proc.terminate()
            try:
                wait_for_sync(lambda: not _session(sid), timeout, what=f"the Ray head's session {sid} to end",
                              interval=0.2)
            except AssertionError:
                for pid in _session(sid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            self.proc.wait(timeout)
        shutil.rmtree(self.dir, ignore_errors=True)
