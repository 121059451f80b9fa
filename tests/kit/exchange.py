"""The in-process local exchange for tests: started on a free loopback port, a ccxt client and the
engine's venue on it, and a service (the user stream) running in the background."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

from hedge.config import HttpConfig
from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.exchange.server import LocalExchange
from hedge.venue.binance import BinanceVenue, point_ccxt_at


@contextlib.asynccontextmanager
async def running_exchange(**kw: Any) -> AsyncIterator[LocalExchange]:
    """A LocalExchange on a free loopback port for the length of the block (``kw`` as LocalExchange takes them)."""
    ex = LocalExchange(port=0, **kw)
    await ex.start()
    try:
        yield ex
    finally:
        await ex.stop()


def ccxt_client(port: int, key: str = DEFAULT_API_KEY, secret: str = DEFAULT_API_SECRET) -> Any:
    """The real async ccxt binanceusdm pointed at the local exchange (protocol reference section 5)."""
    import ccxt.async_support as ccxt

    ex = ccxt.binanceusdm({"apiKey": key, "secret": secret, "options": {"fetchCurrencies": False}})
    point_ccxt_at(ex, f"http://127.0.0.1:{port}")
    return ex


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


@contextlib.asynccontextmanager
async def ccxt_session(port: int, key: str = DEFAULT_API_KEY, secret: str = DEFAULT_API_SECRET) -> AsyncIterator[Any]:
    """``ccxt_client`` for the length of the block, closed on the way out."""
    client = ccxt_client(port, key, secret)
    try:
        yield client
    finally:
        await client.close()
