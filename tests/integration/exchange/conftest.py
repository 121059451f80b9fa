"""Fixtures: a local exchange started in-process on a free loopback port, and a ccxt client on it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.exchange.server import LocalExchange
from hedge.venue.binance import point_ccxt_at


def ccxt_client(port: int, key: str = DEFAULT_API_KEY, secret: str = DEFAULT_API_SECRET) -> Any:
    """The real async ccxt binanceusdm pointed at the local exchange (protocol reference section 5)."""
    import ccxt.async_support as ccxt

    ex = ccxt.binanceusdm({"apiKey": key, "secret": secret, "options": {"fetchCurrencies": False}})
    point_ccxt_at(ex, f"http://127.0.0.1:{port}")
    return ex


@contextlib.asynccontextmanager
async def running_exchange(**kw: Any) -> AsyncIterator[LocalExchange]:
    """A LocalExchange on a free loopback port for the length of the block (``kw`` as LocalExchange takes them)."""
    ex = LocalExchange(port=0, **kw)
    await ex.start()
    try:
        yield ex
    finally:
        await ex.stop()


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    async with running_exchange(speed=1.0) as ex:
        yield ex


@pytest.fixture
async def client(exchange: LocalExchange) -> AsyncIterator[Any]:
    ex = ccxt_client(exchange.port)
    try:
        yield ex
    finally:
        await ex.close()
