"""Raw HTTP to the local exchange for tests of bad input: requests sent byte for byte as written
(no client re-encoding), signed with Binance's rule when asked, and the shape check of an error
answer (Binance JSON: ``{"code": <negative int>, "msg": <str>}``)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from yarl import URL

from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET, sign


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)

    def error(self) -> tuple[int, str]:
        """(code, msg) of a Binance error answer; AssertionError if it is not one."""
        assert self.content_type == "application/json", (self.status, self.content_type, self.body[:200])
        doc = self.json()
        assert isinstance(doc, dict) and set(doc) == {"code", "msg"}, doc
        assert isinstance(doc["code"], int) and doc["code"] < 0 and isinstance(doc["msg"], str), doc
        return doc["code"], doc["msg"]


class RawRest:
    """Requests to ``base_url`` through one aiohttp session, the query string and body as given."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str,
                 key: str = DEFAULT_API_KEY, secret: str = DEFAULT_API_SECRET) -> None:
        self.session = session
        self.base_url = base_url
        self.key = key
        self.secret = secret

    async def send(self, method: str, path: str, query: str = "", body: bytes = b"",
                   headers: dict[str, str] | None = None) -> Answer:
        url = URL(self.base_url + path + (f"?{query}" if query else ""), encoded=True)
        hdrs = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        async with self.session.request(method, url, data=body or None, headers=hdrs) as resp:
            return Answer(resp.status, resp.content_type, await resp.read())

    def signed(self, query: str, body: str = "") -> tuple[str, str]:
        """(query, body) with Binance's signature appended to the body (or to the query when no body)."""
        sig = sign(self.secret, query + body)
        if body:
            return query, f"{body}&signature={sig}"
        return (f"{query}&signature={sig}" if query else f"signature={sig}"), body

    async def call(self, method: str, path: str, params: dict[str, str] | None = None, *,
                   signed: bool = False, in_body: bool = False) -> Answer:
        """A request with url-encoded ``params`` (with ``timestamp`` and a signature when ``signed``)."""
        p = dict(params or {})
        if signed:
            p.setdefault("timestamp", str(int(time.time() * 1000)))
        text = urlencode(p)
        query, body = ("", text) if in_body else (text, "")
        if signed:
            query, body = self.signed(query, body)
        return await self.send(method, path, query, body.encode(), {"X-MBX-APIKEY": self.key})


async def raw_http(port: int, data: bytes, timeout_s: float = 30.0) -> bytes:
    """Send ``data`` over a fresh connection to 127.0.0.1:``port``; everything received until EOF."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout_s)
    finally:
        writer.close()
