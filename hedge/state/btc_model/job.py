"""The BTC model job: at each 4h and daily close, one reading of BTCUSDT sent to the notifiers, once.

Owns: noticing closes (every ``btc_model.check_s`` on the engine's clock: the last closed bar of an
interval ends at the current bar's open, bars aligned to the epoch in UTC as Binance's), reading
the closed klines and the premium index (``market``), building the reading and its message
(``model``), publishing it as one info ``Alert`` on the bus (the ``AlertRouter`` hands it to the
non-blocking ``AlertDispatcher``: Telegram, webhook), and remembering the last reading per
interval in ``<log_dir>/btc_model.json`` (written before the alert is published: a close is sent
at most once, across restarts too). A close whose bars are not all there yet (the venue lags) is
tried again at the next check; after a long stop only the latest close is sent (no backfill).

Must never: block the event loop (REST and the file write are awaited off the tick path), send a
close twice, or send anything but the model's message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import msgspec

from hedge.config import BtcModelConfig
from hedge.events import Alert
from hedge.model.clock import Clock
from hedge.state.atomic import atomic_write
from hedge.state.btc_model.market import Market, MarketError
from hedge.state.btc_model.model import INTERVAL_MS, PARAMS, Reading, message, read, title

log = logging.getLogger(__name__)

STATE_FILE = "btc_model.json"
_LOG_EVERY_S = 300.0


class BtcModelJob:
    """A service (``name`` + ``run()``)."""

    name = "btc-model"

    def __init__(self, market: Market, publish: Callable[[Alert], None], cfg: BtcModelConfig, log_dir: str | Path,
                 clock: Clock) -> None:
        self.market = market
        self.publish = publish
        self.cfg = cfg
        self.path = Path(log_dir) / STATE_FILE
        self.clock = clock
        self.last: dict[str, Reading] = self._load()
        self.sent = 0
        self._last_log = -_LOG_EVERY_S

    def _load(self) -> dict[str, Reading]:
        try:
            return msgspec.json.decode(self.path.read_bytes(), type=dict[str, Reading])
        except FileNotFoundError:
            return {}
        except (OSError, msgspec.DecodeError) as exc:
            log.warning("btc model: %s unreadable (%s): starting afresh", self.path, exc)
            return {}

    async def run(self) -> None:
        try:
            while True:
                await self.check()
                await asyncio.sleep(self.cfg.check_s)
        finally:
            await self.market.aclose()

    async def check(self) -> int:
        """Send the reading of every interval whose last close has not been sent; how many were sent."""
        now = self.clock.now_ms()
        n = 0
        for interval in self.cfg.intervals:
            close_ms = now // INTERVAL_MS[interval] * INTERVAL_MS[interval]
            prev = self.last.get(interval)
            if prev is not None and prev.close_ms >= close_ms:
                continue
            try:
                reading = await self._read(interval, close_ms)
            except MarketError as exc:
                self._warn(f"{interval} close not read ({exc}); trying again in {self.cfg.check_s:g} s")
                continue
            if reading is None:
                continue
            self.last[interval] = reading
            await asyncio.to_thread(atomic_write, self.path, msgspec.json.encode(self.last))
            self.publish(Alert(severity="info", title=title(reading), text=message(reading, prev, PARAMS[interval]),
                               ts_ms=now))
            self.sent += 1
            n += 1
        return n

    async def _read(self, interval: str, close_ms: int) -> Reading | None:
        p = PARAMS[interval]
        bars = await self.market.closes(self.cfg.symbol, interval, close_ms, p.bars_needed)
        if len(bars) < p.bars_needed or bars[-1][0] != close_ms:
            self._warn(f"{interval} close {close_ms}: {len(bars)} closed bars of {p.bars_needed} so far")
            return None
        mark, index, funding = await self.market.premium(self.cfg.symbol)
        return read(self.cfg.symbol, interval, [c for _, c in bars], close_ms, p, funding_rate=funding, mark=mark,
                    index=index)

    def _warn(self, what: str) -> None:
        now = self.clock.now_s()
        if now - self._last_log >= _LOG_EVERY_S:
            self._last_log = now
            log.warning("btc model: %s", what)
