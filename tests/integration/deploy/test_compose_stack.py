"""deploy/docker-compose.yml without a Docker engine (none on this machine): what the stack runs, run here.

- The file is consistent: every service, mounted file, secret and dependency it names exists; the gate
  shares the daemon's network namespace (its :8000 published by the daemon's service) and requires
  HEDGE_GATE_TOKEN; Prometheus scrapes the gate with that token.
- The containers' commands are the image's: the daemon is the Dockerfile's ENTRYPOINT + CMD, the gate the
  compose ``command``; both parse with hedge's own command line.
- Those two commands, with the environment the image and compose give them (ports made ephemeral), run as
  processes from a directory laid out as the image's /app: the gate decides with the daemon's account on
  the daemon's local exchange, answers /health 200, wants its token, and the daemon's /health answers too.

Not run here: ``docker build`` (the ``pip install .`` layer, the non-root user) and ``docker compose up``.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hedge.cli import build_parser
from tests.integration.test_daemon_e2e import free_port, get
from tests.kit.wait import wait_for_sync

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
TOKEN = "compose-test-token"


def http_status(url: str) -> int:
    """The HTTP status of ``url`` (0 while nothing answers)."""
    try:
        return get(url)[0]
    except OSError:
        return 0


def stack() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return doc


def dockerfile() -> dict[str, Any]:
    """ENV (as a dict), ENTRYPOINT and CMD (exec form, JSON) of deploy/Dockerfile."""
    out: dict[str, Any] = {"ENV": {}}
    lines = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        if word in ("ENTRYPOINT", "CMD"):
            out[word] = json.loads(rest)
        elif word == "ENV":
            out["ENV"].update(dict(kv.split("=", 1) for kv in shlex.split(rest)))
    return out


def test_the_stack_names_only_what_exists() -> None:
    s = stack()
    services = s["services"]
    assert set(services) == {"hedge", "gate", "prometheus", "grafana"}
    for name, svc in services.items():
        for dep in svc.get("depends_on", []):
            assert dep in services, (name, dep)
        for secret in svc.get("secrets", []):
            assert secret in s["secrets"], (name, secret)
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            assert src in s["volumes"] or (DEPLOY / src).exists(), (name, vol)
    gate, hedge = services["gate"], services["hedge"]
    assert gate["network_mode"] == "service:hedge" and gate["image"] == hedge["image"]
    assert "127.0.0.1:8000:8000" in hedge["ports"]
    assert gate["environment"]["HEDGE_GATE_TOKEN"].startswith("${HEDGE_GATE_TOKEN:?")
    port = hedge["environment"]["HEDGE_RUNTIME__LOCAL_EXCHANGE__PORT"]
    assert gate["environment"]["HEDGE_RUNTIME__LOCAL_EXCHANGE__PORT"] == port
    assert "127.0.0.1:8000/health" in " ".join(gate["healthcheck"]["test"])
    prom = yaml.safe_load((DEPLOY / "prometheus" / "compose.yml").read_text())
    job = next(j for j in prom["scrape_configs"] if j["job_name"] == "hedge-gate")
    assert job["static_configs"] == [{"targets": ["hedge:8000"]}]
    assert job["authorization"]["credentials_file"] == "/run/secrets/gate_token"
    assert s["secrets"]["gate_token"] == {"environment": "HEDGE_GATE_TOKEN"}


def test_the_containers_commands_parse_with_hedges_command_line() -> None:
    d = dockerfile()
    assert d["ENTRYPOINT"] == ["hedge"]
    run = build_parser().parse_args(d["CMD"])
    assert run.command == "run" and run.config == "configs" and run.log_dir == "logs"
    gate = build_parser().parse_args(stack()["services"]["gate"]["command"])
    assert gate.command == "gate" and (gate.host, gate.port, gate.venue) == ("0.0.0.0", 8000, "local")


@pytest.mark.slow
def test_the_daemon_and_the_gate_run_as_compose_runs_them(tmp_path: Path) -> None:
    app = tmp_path / "app"  # the image's /app: configs/ and a logs/ volume
    app.mkdir()
    (app / "configs").symlink_to(ROOT / "configs")
    services = stack()["services"]
    image_env = dockerfile()["ENV"]
    metrics, exchange, gate_port = free_port(), free_port(), free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("HEDGE_")}
    hedge_env = {**base, **image_env, **services["hedge"]["environment"],
                 "HEDGE_RUNTIME__METRICS__PORT": str(metrics), "HEDGE_RUNTIME__LOCAL_EXCHANGE__PORT": str(exchange)}
    gate_env = {**hedge_env, **services["gate"]["environment"], "HEDGE_GATE_TOKEN": TOKEN,
                "HEDGE_RUNTIME__LOCAL_EXCHANGE__PORT": str(exchange)}
    gate_cmd = [str(c) for c in services["gate"]["command"]]
    gate_cmd[gate_cmd.index("--port") + 1] = str(gate_port)
    hedge_cmd = dockerfile()["CMD"]
    procs: list[subprocess.Popen[bytes]] = []
    errs = [tmp_path / "hedge.err", tmp_path / "gate.err"]
    try:
        with errs[0].open("w") as err:
            procs.append(subprocess.Popen([sys.executable, "-m", "hedge", *hedge_cmd], cwd=app, env=hedge_env,
                                          stdout=subprocess.DEVNULL, stderr=err))
        wait_for_sync(lambda: http_status(f"http://127.0.0.1:{metrics}/health") in (200, 503), 60,
                      what="the daemon's /health", interval=0.2)
        with errs[1].open("w") as err:
            procs.append(subprocess.Popen([sys.executable, "-m", "hedge", *gate_cmd], cwd=app, env=gate_env,
                                          stdout=subprocess.DEVNULL, stderr=err))
        url = f"http://127.0.0.1:{gate_port}"
        wait_for_sync(lambda: http_status(f"{url}/health") == 200, 90, what="the gate healthy on the daemon's account",
                      interval=0.3)
        assert http_status(f"{url}/metrics") == 401  # beyond loopback: the token is wanted
        status, text = get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and "hedge_gate_nav " in text and "hedge_gate_nav 0.0" not in text
        assert (app / "logs" / "gate").is_dir() and (app / "logs" / "state").is_dir()
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        rcs = [p.wait(60) for p in reversed(procs)]
    assert rcs == [0] * len(procs), [e.read_text()[-2000:] for e in errs]
