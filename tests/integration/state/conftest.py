"""Fixtures for the state integration tests: a running Observability on a fresh bus."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from hedge.bus import Bus
from hedge.config import Config
from hedge.state.alerts.notifier import Notifier
from hedge.state.observability import Observability
from tests.kit.config import make_config


def obs_config(min_interval_s: float = 0.0, **metrics: object) -> Config:
    """The built-in defaults with state files written at once and metrics on any port, lag probed every 50 ms."""
    return make_config(runtime__state__min_interval_s=min_interval_s,
                       runtime__metrics={"port": 0, "loop_lag_interval_s": 0.05, **metrics})


@contextlib.asynccontextmanager
async def serving(
    log_dir: Path, cfg: Config | None = None, notifiers: Sequence[Notifier] | None = None
) -> AsyncIterator[Observability]:
    """Observability with every service running (metrics server on an ephemeral port)."""
    bus = Bus()
    obs = Observability(bus, cfg or obs_config(), log_dir, notifiers=notifiers)
    bus.start()
    task = asyncio.create_task(obs.run())  # every service, as one
    try:
        await asyncio.wait_for(obs.server.ready.wait(), 30)
        yield obs
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bus.close()


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Observability]:
    async with serving(tmp_path) as obs:
        yield obs
