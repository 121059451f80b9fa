"""Shared test set-up: markers by folder (tests/unit -> unit, tests/integration -> integration) and
the fixtures of the shared kit (tests/kit): the local exchange and a ccxt client on it,
and one replay of the bundled BTCUSDT recording per session.

Under pytest-xdist (``make test``: ``-n 4 --dist loadgroup``) the heaviest daemon tests (each starts
``hedge run`` subprocesses: the soak, the kill -9 trials, the e2e and metrics daemons, Prometheus
live) carry ``@pytest.mark.xdist_group("heavy-a")`` or ``("heavy-b")``: a group runs on one worker,
so at most two of them run at once on the 2 shared cores (four at once pushed them past their
timeouts). A group is scheduled where its first test is collected (deploy/, portfolio/): early, so
the two long units do not end up as the run's tail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hedge.exchange.server import LocalExchange
from hedge.replay.summary import ReplaySummary
from tests.kit.exchange import ccxt_session, running_exchange
from tests.kit.replay import classic_config, run_replay

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "unit" in parts:
            item.add_marker(pytest.mark.unit)
        elif "integration" in parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    """A local exchange at real-time speed on a free loopback port."""
    async with running_exchange(speed=1.0) as ex:
        yield ex


@pytest.fixture
async def client(exchange: LocalExchange) -> AsyncIterator[Any]:
    """The real ccxt binanceusdm on ``exchange``."""
    async with ccxt_session(exchange.port) as c:
        yield c


@pytest.fixture(scope="session")
def bundled_replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReplaySummary, Path]:
    """The bundled BTCUSDT recording replayed once with the built-in defaults: (summary, log dir)."""
    d = tmp_path_factory.mktemp("bundled-replay")
    return run_replay(d)[0], d


@pytest.fixture(scope="session")
def classic_replay(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReplaySummary, Path]:
    """The bundled recording replayed once with the classic exit profile (it trades): (summary, log dir)."""
    d = tmp_path_factory.mktemp("classic-replay")
    return run_replay(d, classic_config())[0], d
