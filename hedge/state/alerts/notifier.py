"""The notifier interface, and the HTTP plumbing shared by the notifiers that POST JSON.

Owns: what a notifier is (``name``, ``async send(alert)``, ``async aclose()``) and
``HttpNotifier``, the abstract base of the HTTP ones: one lazily created aiohttp session, a
per-request timeout, non-2xx answers turned into ``NotifierError`` with a masked message.

A notifier may be slow or fail: the ``AlertDispatcher`` is what guarantees the engine never
waits on one or sees its exceptions. Implementations live one per file (telegram.py, webhook.py).

Must never: put a secret into an exception message (everything goes through ``Masker``).
"""

from __future__ import annotations

import abc
from typing import Any, Protocol

import aiohttp

from hedge.events import Alert
from hedge.state.masking import Masker


class NotifierError(Exception):
    """A notifier could not deliver an alert (the message is already masked)."""


class Notifier(Protocol):
    name: str

    async def send(self, alert: Alert) -> None: ...

    async def aclose(self) -> None: ...


class HttpNotifier(abc.ABC):
    """POSTs one JSON document per alert; subclasses say where and what."""

    name = "http"

    def __init__(self, *, timeout_s: float = 5.0, masker: Masker | None = None) -> None:
        self.timeout_s = timeout_s
        self.masker = masker or Masker()
        self._session: aiohttp.ClientSession | None = None

    @abc.abstractmethod
    def url(self) -> str: ...

    @abc.abstractmethod
    def payload(self, alert: Alert) -> dict[str, Any]: ...

    async def send(self, alert: Alert) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        try:
            async with self._session.post(self.url(), json=self.payload(alert)) as resp:
                if resp.status >= 300:
                    body = (await resp.text())[:200]
                    raise NotifierError(self.masker.mask(f"{self.name}: HTTP {resp.status}: {body}"))
        except aiohttp.ClientError as exc:
            raise NotifierError(self.masker.mask(f"{self.name}: {type(exc).__name__}: {exc}")) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
