"""What the BTC model reads from the venue's public REST API: closed klines and the premium index.

Owns: ``GET /fapi/v1/klines`` (Binance's wire format: ``[open time, open, high, low, close, volume,
close time, ...]``, prices as strings) up to a close time, keeping only bars closed by then, and
``GET /fapi/v1/premiumIndex`` (mark, index, last funding rate). One aiohttp session, a timeout per
request; any failure is a ``MarketError`` (the job tries again at its next check).

Must never: send a signed request (public data only) or retry by itself.
"""

from __future__ import annotations

from typing import Any

import aiohttp


class MarketError(Exception):
    pass


class Market:
    def __init__(self, rest_base: str, *, timeout_s: float = 10.0) -> None:
        self.rest_base = rest_base.rstrip("/")
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def _get(self, path: str, params: dict[str, str]) -> Any:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        try:
            async with self._session.get(f"{self.rest_base}{path}", params=params) as resp:
                if resp.status != 200:
                    raise MarketError(f"GET {path}: HTTP {resp.status}: {(await resp.text())[:200]}")
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise MarketError(f"GET {path}: {type(exc).__name__}: {exc}") from None

    async def closes(self, symbol: str, interval: str, close_ms: int, count: int) -> list[tuple[int, float]]:
        """The last ``count`` bars of ``interval`` closed by ``close_ms``: (close time + 1 ms, close) each."""
        rows = await self._get("/fapi/v1/klines", {"symbol": symbol, "interval": interval,
                                                   "endTime": str(close_ms - 1), "limit": str(min(1500, count + 1))})
        out = [(int(r[6]) + 1, float(r[4])) for r in rows if int(r[6]) + 1 <= close_ms]
        return out[-count:]

    async def premium(self, symbol: str) -> tuple[float, float, float]:
        """(mark, index, last funding rate)."""
        d = await self._get("/fapi/v1/premiumIndex", {"symbol": symbol})
        return float(d["markPrice"]), float(d["indexPrice"]), float(d["lastFundingRate"])

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
