"""``hedge sweep --address``: a malformed address is a usage error, and nothing listening there is one
line naming the address and what to do (before Ray is asked: Ray itself would wait 20-30 s)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hedge.cli import main
from hedge.feeds.recording import bundled_btcusdt
from hedge.research import cluster
from hedge.research.cluster import ClusterError, host_port
from tests.kit.firestore import free_port


@pytest.fixture
def spec(tmp_path: Path) -> str:
    (tmp_path / "spec.yaml").write_text("params:\n  runtime.replay.latency_ms: [0]\n")
    return str(tmp_path / "spec.yaml")


def test_the_address_forms() -> None:
    assert host_port("ray://head.example:10001") == ("head.example", 10001)
    assert host_port("10.0.0.5:6379") == ("10.0.0.5", 6379)
    for bad in ("head", "ray://head", "head:port", "head:70000", ":6379"):
        with pytest.raises(ClusterError, match="expected auto, HOST:PORT"):
            host_port(bad)


@pytest.mark.parametrize("form", ["ray://127.0.0.1:{}", "127.0.0.1:{}"])
def test_no_cluster_at_the_address_is_one_line_naming_it(spec: str, tmp_path: Path, form: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    address = form.format(free_port())  # nothing listens there
    assert main(["sweep", spec, str(bundled_btcusdt()[0]), "--address", address, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"hedge sweep: no Ray cluster at {address} (Connection refused)")
    assert "ray start --head" in err[0]


def test_a_malformed_address_is_a_usage_error(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", spec, "--address", "head-node"]) == 2
    assert "--address 'head-node': expected auto, HOST:PORT" in capsys.readouterr().err


class _FlakyRay:
    """A ``ray`` whose client server fails to start the driver's server ``failures`` times."""

    def __init__(self, failures: int, error: str = "Initialization failure from server:") -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def init(self, address: str, log_to_driver: bool) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionAbortedError(self.error)


def test_a_transient_client_server_failure_is_retried_then_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    ray = _FlakyRay(failures=2)
    cluster._init(ray, "ray://127.0.0.1:10001")
    assert ray.calls == 3 and pauses == list(cluster.CLIENT_INIT_RETRY_S)
    with pytest.raises(ConnectionAbortedError):  # three failures: the error goes to join's one line
        cluster._init(_FlakyRay(failures=3), "ray://127.0.0.1:10001")
    other = _FlakyRay(failures=1, error="refused")  # any other abort is not retried
    with pytest.raises(ConnectionAbortedError):
        cluster._init(other, "ray://127.0.0.1:10001")
    assert other.calls == 1
