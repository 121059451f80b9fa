"""``hedge sweep --address`` against a Ray cluster the sweep did not start (``ray start --head``, token
authentication on): through the Ray client (``ray://``) the rows equal the same points run locally,
the recording reaching the workers through the object store (the CLI is given a path relative to
its own directory, which the workers do not share); joined as a driver (``HOST:PORT``) with
``--shared-fs`` the workers do not find that path; a wrong token is one line naming the address."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from hedge.feeds.recording import bundled_btcusdt
from hedge.research.spec import load_spec, point_env, points, recordings
from hedge.research.sweep import run_serial
from tests.kit.ray_head import RayHead

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]

DAY1 = bundled_btcusdt()[0]  # the short bundled recording (8 minutes)
SPEC = """params:
  strategy.exits.profile: [classic]
  runtime.replay.latency_ms: [0, 5]
report: {best: 2}
"""
CLI_TIMEOUT_S = 300.0  # a loaded 2-core machine: a job's workers import hedge before the first replay


@pytest.fixture(scope="module")
def head() -> Iterator[RayHead]:
    h = RayHead(cpus=2)
    try:
        h.start()
        yield h
    finally:
        h.stop()


@pytest.fixture(scope="module")
def driver_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CLI's working directory: the spec and a copy of the recording, named relative to it."""
    d = tmp_path_factory.mktemp("driver")
    (d / "spec.yaml").write_text(SPEC)
    shutil.copyfile(DAY1, d / DAY1.name)
    return d


@pytest.fixture(scope="module")
def local_rows(driver_dir: Path) -> list[dict[str, Any]]:
    """The same points one after another in this process (no Ray): what every cluster row must equal."""
    spec = load_spec(driver_dir / "spec.yaml")
    pts = points(spec, recordings(spec, [str(DAY1)], []))
    return [_comparable(r.row) for r in run_serial(pts, None, [point_env(os.environ, p.params) for p in pts])]


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "wall_s"}


def _sweep(head: RayHead, cwd: Path, address: str, out: str, *extra: str, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hedge", "sweep", "spec.yaml", DAY1.name, "--address", address,
                           "--out", out, *extra], cwd=cwd, env=env or head.env(), capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S, check=False)


def test_a_sweep_through_the_ray_client_equals_the_same_points_run_locally(
        head: RayHead, driver_dir: Path, local_rows: list[dict[str, Any]]) -> None:
    done = _sweep(head, driver_dir, head.client, "out-client")
    assert done.returncode == 0, done.stderr
    assert "2 replays on Ray (2 CPUs)" in done.stderr
    rows = [_comparable(r) for r in pq.read_table(driver_dir / "out-client" / "results.parquet").to_pylist()]
    assert rows == local_rows
    assert rows[0]["fills"] > 0 and rows[0]["fingerprint"] != rows[1]["fingerprint"]
    assert f'"address": "{head.client}"' in (driver_dir / "out-client" / "sweep.json").read_text()


def test_a_driver_joins_at_the_gcs_address_and_only_the_object_store_carries_the_recording(
        head: RayHead, driver_dir: Path) -> None:
    """Joined at HOST:PORT with ``--shared-fs`` (trust the path): the workers, in another working
    directory, do not find the relative path — what the default (shipping) made work above."""
    done = _sweep(head, driver_dir, head.gcs, "out-shared", "--shared-fs")
    assert done.returncode == 1, done.stderr
    assert "2 replays on Ray (2 CPUs)" in done.stderr
    rows = pq.read_table(driver_dir / "out-shared" / "results.parquet").to_pylist()
    assert all(r["fingerprint"] is None and DAY1.name in r["error"] for r in rows), rows


def test_a_wrong_token_is_one_line_naming_the_address(head: RayHead, driver_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "token").write_text("0" * 64)
    done = _sweep(head, driver_dir, head.gcs, "out-refused", env={**head.env(), "RAY_AUTH_TOKEN_PATH": str(tmp_path / "token")})
    assert done.returncode == 1
    ours = [line for line in done.stderr.splitlines() if line.startswith("hedge sweep:")]
    assert len(ours) == 1 and head.gcs in ours[0] and "RAY_AUTH_TOKEN" in ours[0], done.stderr
    assert "Traceback" not in done.stderr
