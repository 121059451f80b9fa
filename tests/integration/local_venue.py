"""Set-up shared by the integration tests that trade on the in-process local exchange: the real
ccxt venue pointed at it, a service (the user stream) running in the background, and waiting for
a condition to come true."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from hedge.config import HttpConfig
from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.exchange.server import LocalExchange
from hedge.venue.binance import BinanceVenue


def local_venue(
    exchange: LocalExchange, http: HttpConfig | None = None, *, name: str = "local", **kw: Any
) -> BinanceVenue:
    """A BinanceVenue (real ccxt) on ``exchange`` with its default key; ``kw`` as BinanceVenue takes them."""
    return BinanceVenue(exchange.base_url, http or HttpConfig(), api_key=DEFAULT_API_KEY,
                        api_secret=DEFAULT_API_SECRET, name=name, **kw)


class Service(Protocol):
    async def run(self) -> None: ...


@contextlib.asynccontextmanager
async def in_background(service: Service) -> AsyncIterator[asyncio.Task[None]]:
    """``service.run()`` as a task for the length of the block, cancelled (and awaited) on the way out."""
    task = asyncio.get_running_loop().create_task(service.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_for(pred: Callable[[], bool], within_s: float = 5.0, interval_s: float = 0.01) -> None:
    """Return once ``pred()`` holds; AssertionError if it does not within ``within_s``."""
    deadline = time.monotonic() + within_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval_s)
