"""Fixtures: a local exchange started in-process on a free loopback port, and a ccxt client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.exchange.server import LocalExchange


def ccxt_client(port: int, key: str = DEFAULT_API_KEY, secret: str = DEFAULT_API_SECRET) -> Any:
    """The real async ccxt binanceusdm pointed at the local exchange (protocol reference section 5)."""
    import ccxt.async_support as ccxt

    ex = ccxt.binanceusdm({"apiKey": key, "secret": secret, "options": {"fetchCurrencies": False}})
    base = f"http://127.0.0.1:{port}"
    for name, path in (
        ("fapiPublic", "/fapi/v1"),
        ("fapiPublicV2", "/fapi/v2"),
        ("fapiPublicV3", "/fapi/v3"),
        ("fapiPrivate", "/fapi/v1"),
        ("fapiPrivateV2", "/fapi/v2"),
        ("fapiPrivateV3", "/fapi/v3"),
        ("fapiData", "/futures/data"),
    ):
        ex.urls["api"][name] = base + path
    ex.exceptions["exact"].update(ex.exceptions["linear"]["exact"])
    return ex


@pytest.fixture
async def exchange() -> AsyncIterator[LocalExchange]:
    ex = LocalExchange(port=0, speed=1.0)
    await ex.start()
    try:
        yield ex
    finally:
        await ex.stop()


@pytest.fixture
async def client(exchange: LocalExchange) -> AsyncIterator[Any]:
    ex = ccxt_client(exchange.port)
    try:
        yield ex
    finally:
        await ex.close()
