"""The user-data stream service: listenKey, its websocket, keepalive and renewal, decoded events on the bus.

Owns: the lifecycle of the listenKey (created with ``POST /fapi/v1/listenKey``, kept alive with
``PUT`` every ``keepalive_s`` (30-50 min; Binance expires a key after 60 min), renewed when the
keepalive answers -1125 or the stream sends ``listenKeyExpired``), one ``WsConnection`` per key
(``/private/ws?listenKey=..&events=ORDER_TRADE_UPDATE/ACCOUNT_UPDATE`` on Binance's 2026 split
paths, ``/ws/<key>`` on the legacy ones), and publishing what ``UserStreamDecoder`` makes of
each frame: ``OrderUpdate``, ``Fill``, ``Position``, ``Balance``, ``Nav``. Its ``FeedStatus``
(connection ``user``) tells risk whether the stream is alive: a dead user stream halts new orders.

Design: a disconnect triggers an immediate keepalive, so a key that expired while the socket was
down is renewed at once instead of at the next keepalive. A renewal closes the old key's
connection and publishes ``FeedStatus(connected=False)`` before the new one connects: events
between the expiry and the new connection are lost, so consumers must see the stream as down
(the router re-queries its live orders when it comes back). The stream may be silent for a long
time, so the connection's no-data watchdog is long (``watchdog_s``).

Must never: log the listenKey or a secret, or stop retrying (only cancellation ends ``run``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from hedge.backoff import backoff_delays
from hedge.events import Event, FeedStats, FeedStatus
from hedge.feeds.connection import WsConnection
from hedge.model.clock import Clock, LiveClock
from hedge.reach import level_for
from hedge.tasks import cancel_and_wait
from hedge.venue.binance_wire import ListenKeyExpired, UserStreamDecoder
from hedge.venue.errors import INVALID_LISTEN_KEY, VenueError

log = logging.getLogger(__name__)

KEEPALIVE_S = 30 * 60.0
EVENTS = "ORDER_TRADE_UPDATE/ACCOUNT_UPDATE"


class ListenKeys(Protocol):
    async def new_listen_key(self) -> str: ...

    async def keepalive_listen_key(self) -> None: ...


class UserStream:
    name = "user-stream"

    def __init__(
        self,
        keys: ListenKeys,
        ws_base: str,
        publish: Callable[[Event], None],
        *,
        paths: str = "split",
        keepalive_s: float = KEEPALIVE_S,
        watchdog_s: float = 2 * 3600.0,
        connection: str = "user",
        delays: Callable[[int], float] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.keys = keys
        self.clock: Clock = clock or LiveClock()
        self.ws_base = ws_base.rstrip("/")
        self.publish = publish
        self.paths = paths
        self.keepalive_s = keepalive_s
        self.watchdog_s = watchdog_s
        self.connection = connection
        self._delays = delays or backoff_delays(0.4, 6.4)
        self.decoder = UserStreamDecoder()
        self.renewals = 0
        self.keepalives = 0
        self._wake = asyncio.Event()
        self._expired = False
        self.conn: WsConnection | None = None

    def url(self, key: str) -> str:
        if self.paths == "legacy":
            return f"{self.ws_base}/ws/{key}"
        return f"{self.ws_base}/private/ws?listenKey={key}&events={EVENTS}"

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                key = await self.keys.new_listen_key()
            except VenueError as e:
                wait = self._delays(attempt)
                attempt += 1
                log.log(level_for(e), "user stream: cannot create a listenKey (%s); retry in %.2fs", e, wait)
                self.publish(FeedStatus(connection=self.connection, connected=False, reason=f"listenKey: {e}",
                                        recv_ns=self.clock.now_ns()))
                await asyncio.sleep(wait)
                continue
            attempt = 0
            await self._session(key)
            # The old key's connection is closed: down until the new key's connection is up, so that
            # whoever relies on the stream (the router re-queries its live orders, risk stops new orders)
            # knows updates may have been missed in between.
            self.publish(FeedStatus(connection=self.connection, connected=False, reason="listenKey renewal",
                                    recv_ns=self.clock.now_ns()))
            self.renewals += 1
            log.info("user stream: renewing the listenKey")

    async def _session(self, key: str) -> None:
        """Run one key's connection until the key must be renewed."""
        self._expired = False
        self._wake.clear()
        self.conn = WsConnection(self.connection, self.url(key), self._on_frame, watchdog_s=self.watchdog_s,
                                 on_status=self._on_status, clock=self.clock)
        task = asyncio.get_running_loop().create_task(self.conn.run(), name="user-stream-ws")
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.keepalive_s)
                self._wake.clear()
                if self.expired:
                    return
                try:
                    await self.keys.keepalive_listen_key()
                    self.keepalives += 1
                except VenueError as e:
                    if e.code == INVALID_LISTEN_KEY:
                        return
                    log.log(level_for(e), "user stream: keepalive failed (%s)", e)
        finally:
            await cancel_and_wait(task)

    @property
    def expired(self) -> bool:
        """The stream said its key expired (set from the frame callback)."""
        return self._expired

    def _on_status(self, st: FeedStatus) -> None:
        self.publish(st)
        if not st.connected:
            self._wake.set()  # check the key now: it may have expired while we were away

    def _on_frame(self, raw: bytes, recv_ns: int) -> None:
        try:
            events = self.decoder.decode(raw, recv_ns)
        except ListenKeyExpired:
            self._expired = True
            self._wake.set()
            return
        for ev in events:
            self.publish(ev)
        # The operator's per-connection counters (status, diagnostics): a user frame is rare, never a tick.
        self.publish(FeedStats(connection=self.connection, messages=self.decoder.frames, recv_ns=recv_ns))
