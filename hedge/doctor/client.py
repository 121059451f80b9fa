"""The doctor's REST client: plain and signed GET/POST on a Binance host, with the clock offset applied.

Owns: one aiohttp session, HMAC-SHA256 signing of ``query`` with the key pair it is given
(``timestamp`` corrected by the measured server-time offset, ``recvWindow`` from the config), the
server-time offset measurement (midpoint of the round trip) and the last
``X-MBX-USED-WEIGHT-1M`` seen.

Must never: log or return the secret or the key, or retry a request (a check reports what it saw).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

import aiohttp

from hedge.model.clock import LiveClock


class VenueAnswer(Exception):
    """A request that did not answer 2xx: the HTTP status and Binance's ``{"code", "msg"}`` when given."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"HTTP {status} {code}: {msg}" if code else f"HTTP {status}: {msg}")
        self.status, self.code, self.msg = status, code, msg


class DoctorClient:
    def __init__(self, api_key: str, api_secret: str, *, recv_window_ms: int, timeout_s: float) -> None:
        self._key = api_key
        self._secret = api_secret.encode()
        self.recv_window_ms = recv_window_ms
        self.offset_ms = 0  # server time - local time, once measured
        self.used_weight = 0  # the last X-MBX-USED-WEIGHT-1M header seen
        self._clock = LiveClock()  # the wall clock requests are signed with
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s))

    async def close(self) -> None:
        await self._session.close()

    async def measure_offset(self, base: str) -> int:
        t0 = self._clock.now_ms()
        body = await self.request("GET", base, "/fapi/v1/time")
        t1 = self._clock.now_ms()
        self.offset_ms = int(int(body["serverTime"]) - (t0 + t1) / 2)
        return self.offset_ms

    async def request(self, method: str, base: str, path: str, params: dict[str, Any] | None = None, *,
                      signed: bool = False, keyed: bool = False) -> Any:
        query = dict(params or {})
        headers = {"X-MBX-APIKEY": self._key} if signed or keyed else {}
        if signed:
            query.update(recvWindow=self.recv_window_ms, timestamp=self._clock.now_ms() + self.offset_ms)
            text = urlencode(query)
            query_text = f"{text}&signature={hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()}"
        else:
            query_text = urlencode(query)
        url = f"{base}{path}" + (f"?{query_text}" if query_text else "")
        async with self._session.request(method, url, headers=headers) as resp:
            if "X-MBX-USED-WEIGHT-1M" in resp.headers:
                self.used_weight = int(resp.headers["X-MBX-USED-WEIGHT-1M"])
            body = await resp.json(content_type=None)
            if resp.status >= 300:
                err = body if isinstance(body, dict) else {}
                raise VenueAnswer(resp.status, int(err.get("code", 0)), str(err.get("msg", body))[:200])
            return body
