"""Websocket fan-out of the local exchange: market streams and user-data streams to clients.

Owns: one ``Subscriber`` per websocket connection (its stream names, combined or raw framing, an
outgoing queue drained by its own sender task), the synchronous ``publish`` that fans a frame out
to every subscriber of a stream, SUBSCRIBE/UNSUBSCRIBE/LIST_SUBSCRIPTIONS control messages, and the
connection faults (drop every connection, stall sending).

A subscriber that falls ``MAX_BACKLOG`` frames behind is disconnected, as Binance does with slow
consumers; publishing never waits for a socket.

Clock: the stalled-stream fault is timed on ``time.monotonic()``: the local exchange keeps its own
clock, apart from the engine's (tests/unit/model/test_clock_usage.py).

Must never: block the publisher on a client, or parse what it forwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

import orjson
from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

MAX_BACKLOG = 100_000
PING_INTERVAL_S = 180.0


class Subscriber:
    def __init__(self, ws: web.WebSocketResponse, combined: bool, streams: set[str]) -> None:
        self.ws = ws
        self.combined = combined
        self.streams = streams
        self.queue: deque[str] = deque()
        self.wake = asyncio.Event()
        self.closed = False
        self.closing = False  # close once the queue is sent
        self.stalled_until = 0.0
        self.restalled = asyncio.Event()  # the stall was changed (shortened, ended): look again

    def push(self, frame: str) -> None:
        if self.closed:
            return
        self.queue.append(frame)
        if len(self.queue) > MAX_BACKLOG:
            self.closed = True
            log.warning("websocket subscriber %d frames behind: disconnecting", len(self.queue))
        self.wake.set()

    def close(self) -> None:
        """Close now, dropping what is queued (a dropped connection)."""
        self.closed = True
        self.wake.set()

    def finish(self) -> None:
        """Close after sending what is queued (e.g. after listenKeyExpired)."""
        self.closing = True
        self.wake.set()

    async def send_loop(self) -> None:
        """Send queued frames until closed; a failed send (client gone) closes the connection."""
        ws = self.ws
        try:
            while not self.closed:
                await self.wake.wait()
                self.wake.clear()
                while (delay := self.stalled_until - time.monotonic()) > 0:
                    self.restalled.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.restalled.wait(), delay)
                while self.queue and not self.closed:
                    await ws.send_str(self.queue.popleft())
                if self.closing:
                    break
        except (ConnectionError, RuntimeError) as exc:
            log.debug("websocket send failed: %s", exc)
        finally:
            self.closed = True
            self.queue.clear()
            with contextlib.suppress(Exception):
                await ws.close()


class Hub:
    """Stream name (kept lower-case, e.g. ``btcusdt@bookticker``) -> subscribers."""

    def __init__(self, ping_interval_s: float = PING_INTERVAL_S) -> None:
        self.ping_interval_s = ping_interval_s  # server ping frames (Binance: every 3 minutes)
        self.subs: dict[str, set[Subscriber]] = {}
        self.all: set[Subscriber] = set()
        self.frames_sent = 0

    def has(self, stream: str) -> bool:
        return bool(self.subs.get(stream.lower()))

    def publish(self, stream: str, data: bytes) -> None:
        """Send ``data`` to the subscribers of ``stream`` (Binance's casing, used in combined frames)."""
        subs = self.subs.get(stream.lower())
        if not subs:
            return
        raw: str | None = None
        combined: str | None = None
        for sub in subs:
            if sub.combined:
                if combined is None:
                    combined = '{"stream":"' + stream + '","data":' + data.decode() + "}"
                sub.push(combined)
            else:
                if raw is None:
                    raw = data.decode()
                sub.push(raw)
            self.frames_sent += 1

    def _add(self, sub: Subscriber, streams: list[str]) -> None:
        for s in streams:
            sub.streams.add(s)
            self.subs.setdefault(s, set()).add(sub)

    def _remove(self, sub: Subscriber, streams: list[str]) -> None:
        for s in streams:
            sub.streams.discard(s)
            subs = self.subs.get(s)
            if subs is not None:
                subs.discard(sub)

    def drop_all(self) -> int:
        n = len(self.all)
        for sub in list(self.all):
            sub.close()
        return n

    def stall_all(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        for sub in self.all:
            sub.stalled_until = until
            sub.restalled.set()

    async def serve(self, request: web.Request, streams: list[str], combined: bool) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=self.ping_interval_s, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        sub = Subscriber(ws, combined, set())
        self.all.add(sub)
        self._add(sub, [s.lower() for s in streams])
        sender = asyncio.create_task(sub.send_loop())
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                self._control(sub, msg.data)
                if sub.closed:
                    break
        finally:
            sub.close()
            self.all.discard(sub)
            self._remove(sub, list(sub.streams))
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        return ws

    def _control(self, sub: Subscriber, text: str) -> None:
        try:
            msg = orjson.loads(text)
            method, req_id = msg.get("method"), msg.get("id")
            params = [str(p).lower() for p in msg.get("params") or []]
        except (orjson.JSONDecodeError, AttributeError):
            sub.push(orjson.dumps({"error": {"code": 3, "msg": "Invalid JSON"}}).decode())
            return
        if method == "SUBSCRIBE":
            self._add(sub, params)
            sub.push(orjson.dumps({"result": None, "id": req_id}).decode())
        elif method == "UNSUBSCRIBE":
            self._remove(sub, params)
            sub.push(orjson.dumps({"result": None, "id": req_id}).decode())
        elif method == "LIST_SUBSCRIPTIONS":
            sub.push(orjson.dumps({"result": sorted(sub.streams), "id": req_id}).decode())
        else:
            sub.push(
                orjson.dumps(
                    {"error": {"code": 2, "msg": f"Invalid request: unknown method {method}"}, "id": req_id}
                ).decode()
            )
