"""``hedge sweep --address``: a malformed address is a usage error, and nothing listening there is one
line naming the address and what to do (before Ray is asked: Ray itself would wait 20-30 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedge.cli import main
from hedge.feeds.recording import bundled_btcusdt
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
