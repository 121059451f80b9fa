"""Market-data websocket connections: URLs, and one self-healing connection per URL.

Owns:
- the endpoints per venue (production ``wss://fstream.binance.com``, testnet
  ``wss://fstream.binancefuture.com``, the local exchange ``ws://127.0.0.1:PORT``; all
  configurable in ``runtime.feeds``), the stream names, and the URL layout: Binance's 2026
  split paths (``/public/stream?streams=`` for depth, bookTicker and trade; ``/market/stream``
  for aggTrade and markPrice) or the legacy ``/stream?streams=`` path;
- ``WsConnection``: connect (``websockets``, ``compression=None``), receive frames as bytes and
  hand each to a synchronous callback with its local receive time; when that callback handed off
  urgent work (``hedge.handoff``: the router scheduled a venue call, e.g. an order to send), yield
  to the event loop once before the next frame, which ``websockets`` would otherwise hand over
  without suspending when a batch of frames arrived together; reconnect with exponential
  backoff 0.4 s -> 6.4 s with jitter, then keep retrying at the cap (the attempt counter
  resets once a connection has delivered data); a watchdog forces a reconnect when no frame
  arrived for ``watchdog_s`` (Binance's retired legacy paths still accept the handshake but
  send nothing) and reconnects proactively before the 24 h connection limit. Pings: the server
  pings every 3 min and ``websockets`` answers with pongs; our own keepalive ping every 20 s is
  well inside Binance's 10 incoming messages/s limit.

Must never: stop retrying (only cancellation ends ``run``), let one connection's failure reach
another, let a callback's exception kill the receive loop, or log per frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

from hedge.backoff import backoff_delays
from hedge.config import FeedsConfig
from hedge.events import FeedStatus
from hedge.handoff import HANDOFF, Handoff
from hedge.model.clock import Clock, LiveClock
from hedge.reach import REACH, Reach
from hedge.tasks import cancel_and_wait

log = logging.getLogger(__name__)

FrameFn = Callable[[bytes, int], None]
StatusFn = Callable[[FeedStatus], None]
DownFn = Callable[[str], None]

# Binance's 2026 split: these stream kinds live under /public, every other one under /market.
PUBLIC_KINDS = frozenset({"depth", "bookTicker", "trade"})
MAX_STREAMS_PER_CONNECTION = 200  # Binance allows 1024; smaller keeps URLs short and failures local
KEEPALIVE_PING_S = 20.0


class Endpoints(msgspec.Struct, frozen=True):
    ws_base: str  # e.g. wss://fstream.binance.com (no trailing slash)
    rest_base: str  # e.g. https://fapi.binance.com


def endpoints(venue: str, cfg: FeedsConfig, *, local_port: int = 0, local_host: str = "127.0.0.1") -> Endpoints:
    """Market-data endpoints of a venue (``local`` needs the local exchange's port)."""
    if venue == "binance":
        return Endpoints(cfg.ws_url_binance.rstrip("/"), cfg.rest_url_binance.rstrip("/"))
    if venue == "binance-testnet":
        return Endpoints(cfg.ws_url_testnet.rstrip("/"), cfg.rest_url_testnet.rstrip("/"))
    if venue == "local":
        if local_port <= 0:
            raise ValueError("the local exchange's port is needed for venue 'local'")
        return Endpoints(f"ws://{local_host}:{local_port}", f"http://{local_host}:{local_port}")
    raise ValueError(f"unknown venue {venue!r}")


def stream_names(symbols: Sequence[str], kinds: Sequence[str], depth_speed: str = "100ms") -> list[str]:
    """Binance stream names, e.g. ``btcusdt@depth@100ms``, ``btcusdt@bookTicker``."""
    out = []
    for sym in symbols:
        s = sym.lower()
        for kind in kinds:
            if kind == "depth":
                out.append(f"{s}@depth" if depth_speed == "250ms" else f"{s}@depth@{depth_speed}")
            else:
                out.append(f"{s}@{kind}")
    return out


def stream_kind(name: str) -> str:
    return name.split("@", 2)[1] if "@" in name else ""


def stream_urls(
    ws_base: str, names: Sequence[str], *, paths: str = "split", per_connection: int = MAX_STREAMS_PER_CONNECTION
) -> list[tuple[str, str, list[str]]]:
    """(connection name, URL, its streams) for every connection needed to carry ``names``."""
    base = ws_base.rstrip("/")
    groups: list[tuple[str, str, list[str]]] = []
    if paths == "legacy":
        groups.append(("stream", f"{base}/stream", list(names)))
    else:
        public = [n for n in names if stream_kind(n) in PUBLIC_KINDS]
        market = [n for n in names if stream_kind(n) not in PUBLIC_KINDS]
        groups += [("public", f"{base}/public/stream", public), ("market", f"{base}/market/stream", market)]
    out = []
    for label, path, group in groups:
        for i in range(0, len(group), per_connection):
            chunk = group[i : i + per_connection]
            suffix = f"-{i // per_connection + 1}" if len(group) > per_connection else ""
            out.append((f"{label}{suffix}", f"{path}?streams={'/'.join(chunk)}", chunk))
    return out


class WsConnection:
    """One websocket connection that keeps itself alive. See the module docstring."""

    def __init__(
        self,
        name: str,
        url: str,
        on_frame: FrameFn,
        *,
        watchdog_s: float = 10.0,
        reconnect_before_s: float = 23.5 * 3600,
        delays: Callable[[int], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_status: StatusFn | None = None,
        on_down: DownFn | None = None,
        open_timeout_s: float = 10.0,
        clock: Clock | None = None,
        reach: Reach = REACH,
        handoff: Handoff = HANDOFF,
    ) -> None:
        self.name = name
        self.url = url
        self.reach = reach
        self.handoff = handoff
        self.clock: Clock = clock or LiveClock()
        self._on_frame = on_frame
        self._watchdog_s = watchdog_s
        self._reconnect_before_s = reconnect_before_s
        self._delays = delays or backoff_delays(0.4, 6.4)
        self._sleep = sleep
        self._on_status = on_status
        self._on_down = on_down
        self._open_timeout_s = open_timeout_s
        self.connected = False
        self.connects = 0
        self.reconnects = 0
        self.frames = 0
        self.callback_errors = 0
        self.yields = 0  # times the receive loop yielded to a task a frame handed off
        self._last_rx_ns = 0  # when the last frame arrived (the clock's ns)
        self._close_reason = ""
        self._last_error_log = -1e9

    async def run(self) -> None:
        """Connect, receive, reconnect; forever (until cancelled)."""
        attempt = 0
        while True:
            self._close_reason = ""
            got_data = opened = False
            reason = ""
            error: Exception | None = None
            try:
                async with websockets.connect(
                    self.url,
                    compression=None,
                    max_size=1 << 24,
                    open_timeout=self._open_timeout_s,
                    ping_interval=KEEPALIVE_PING_S,
                    ping_timeout=KEEPALIVE_PING_S,
                    close_timeout=1.0,
                ) as ws:
                    opened = True
                    self.reach.reached(self.url)
                    self.connects += 1
                    self._status(True, "connected")
                    got_data = await self._pump(ws)
            except asyncio.CancelledError:
                self.connected = False
                raise
            except Exception as exc:
                reason, error = f"{type(exc).__name__}: {exc}"[:200], exc
            reason = self._close_reason or reason or "closed by server"
            if self.connected:
                self.connected = False
                self.reconnects += 1
                if self._on_down is not None:
                    self._on_down(reason)
            self._status(False, reason)
            if got_data:
                attempt = 0
            if self._close_reason.startswith("proactive"):
                wait = 0.0
            else:
                wait = self._delays(attempt)
                attempt += 1
            if opened:
                self._log(f"feeds: {self.name} disconnected ({reason}); reconnecting in {wait:.2f}s")
            else:  # never connected: one line per outage of the host, not per attempt
                self.reach.failed(self.url, reason, wait, exc=error)
            await self._sleep(wait)

    async def _pump(self, ws: ClientConnection) -> bool:
        """Receive until the connection ends; True if at least one frame arrived."""
        self.connected = True
        now_ns = self.clock.now_ns
        self._last_rx_ns = now_ns()
        watchdog = asyncio.get_running_loop().create_task(self._watchdog(ws, self._last_rx_ns))
        on_frame = self._on_frame
        recv = ws.recv
        handoff = self.handoff
        got = False
        try:
            while True:
                raw = await recv(decode=False)
                self._last_rx_ns = recv_ns = now_ns()
                got = True
                self.frames += 1
                try:
                    on_frame(raw, recv_ns)
                except Exception as exc:
                    self.callback_errors += 1
                    self._log(f"feeds: {self.name} frame handler raised {type(exc).__name__}: {exc}")
                if handoff.pending and handoff.take():  # an order to send: it goes before the next frame
                    self.yields += 1
                    await asyncio.sleep(0)
        except websockets.ConnectionClosed as exc:
            if not self._close_reason:
                self._close_reason = f"connection closed ({exc})"[:200]
            return got
        finally:
            await cancel_and_wait(watchdog)

    async def _watchdog(self, ws: ClientConnection, opened_ns: int) -> None:
        check = max(0.01, min(1.0, self._watchdog_s / 4))
        while True:
            await asyncio.sleep(check)
            now_ns = self.clock.now_ns()
            silent_s, open_s = (now_ns - self._last_rx_ns) / 1e9, (now_ns - opened_ns) / 1e9
            if silent_s > self._watchdog_s:
                self._close_reason = f"stalled: no data for {silent_s:.1f}s"
            elif open_s > self._reconnect_before_s:
                self._close_reason = f"proactive: connection open {open_s:.0f}s"
            else:
                continue
            with contextlib.suppress(Exception):
                ws.transport.abort()  # a stalled peer may never answer a close handshake
            return

    def _status(self, connected: bool, reason: str) -> None:
        if self._on_status is not None:
            self._on_status(
                FeedStatus(
                    recv_ns=self.clock.now_ns(),
                    connection=self.name,
                    connected=connected,
                    reason=reason,
                    reconnects=self.reconnects,
                )
            )

    def _log(self, msg: str) -> None:
        """Connection events are rare, but a flapping peer must not flood the log: one line per 5 s."""
        now = self.clock.now_s()
        if now - self._last_error_log >= 5.0:
            self._last_error_log = now
            log.warning(msg)
