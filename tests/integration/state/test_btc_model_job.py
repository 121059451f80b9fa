"""The BTC model job against the local exchange's klines, with a real HTTP server on loopback playing
the Telegram Bot API: one message per 4h and daily close, the model's values, never a close twice
(a restarted job included), and nothing else sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hedge.bus import Bus
from hedge.config import BtcModelConfig
from hedge.model.clock import EventClock
from hedge.state.alerts.dispatcher import AlertDispatcher
from hedge.state.alerts.router import AlertRouter
from hedge.state.alerts.telegram import TelegramNotifier
from hedge.state.btc_model.job import STATE_FILE, BtcModelJob
from hedge.state.btc_model.market import Market
from hedge.state.btc_model.model import INTERVAL_MS, PARAMS, Reading, message, read, title
from tests.integration.state.notify_server import NotifyServer
from tests.kit.exchange import running_exchange
from tests.kit.wait import wait_for

DAY, H4 = INTERVAL_MS["1d"], INTERVAL_MS["4h"]
TOKEN = "123456:SECRET-bot-token"


async def test_one_message_per_close_with_the_models_values_and_never_twice(tmp_path: Path) -> None:
    async with running_exchange() as ex, NotifyServer().running() as tg:
        await wait_for(lambda: ex.trades.bars("BTCUSDT").bars, 60, what="a first trade played")
        first = ex.trades.bars("BTCUSDT").bars[0].open_ms
        start_ms = (first // DAY - 150) * DAY + 60_000  # a minute after a daily close, deep in the synthetic past
        clock = EventClock(start_ms * 1_000_000)
        bus = Bus()
        dispatcher = AlertDispatcher([TelegramNotifier(f"{tg.url}/ok", "42", token=TOKEN)], clock=clock)
        AlertRouter(bus, dispatcher, daily_dd_limit=0.1, clock=clock).attach()
        drain = asyncio.create_task(dispatcher.run())
        rest = f"http://127.0.0.1:{ex.port}"
        job = BtcModelJob(Market(rest), bus.publish, BtcModelConfig(), tmp_path, clock)
        try:
            assert await job.check() == 2  # the last 4h and daily closes
            assert await job.check() == 0  # nothing new
            sent = 2
            for _ in range(7 * 4):  # a day and a bit in hours: 6 or 7 four-hour closes, one daily close
                clock.advance_s(3600)
                sent += await job.check()
            assert sent == 2 + 7 + 1
            # a restart: the same log dir remembers what was sent
            await job.market.aclose()
            job = BtcModelJob(Market(rest), bus.publish, BtcModelConfig(), tmp_path, clock)
            assert await job.check() == 0
            clock.advance_s(4 * 3600)
            assert await job.check() == 1
            sent += 1
            await wait_for(lambda: len(tg.received) >= sent, 30, what=f"{sent} messages at the Bot API")
            assert dispatcher.stats.sent == sent and dispatcher.stats.failed == 0
        finally:
            drain.cancel()
            await asyncio.gather(drain, return_exceptions=True)
            await job.market.aclose()
        paths = {p for p, _ in tg.received}
        assert paths == {f"/ok/bot{TOKEN}/sendMessage"}
        texts = [body["text"] for _, body in tg.received]
        titles = [t.splitlines()[0] for t in texts]
        assert len(set(titles)) == len(titles) == sent  # one message per close, none twice
        assert sum(" 1d close " in t for t in titles) == 2 and sum(" 4h close " in t for t in titles) == sent - 2
        # each message carries the model's values on the exchange's klines up to its close
        market = Market(rest)
        try:
            prev: dict[str, Reading] = {}
            for text in texts:
                head = text.splitlines()[0]
                interval = "1d" if " 1d close " in head else "4h"
                p = PARAMS[interval]
                stamps = [c for c in range(start_ms // H4 * H4 - DAY, clock.now_ms() + 1, H4)
                          if c % INTERVAL_MS[interval] == 0]
                close_ms = next(c for c in stamps if head.endswith(title_tail(c, interval)))
                bars = await market.closes("BTCUSDT", interval, close_ms, p.bars_needed)
                mark, index, funding = await market.premium("BTCUSDT")
                r = read("BTCUSDT", interval, [c for _, c in bars], close_ms, p, funding_rate=funding, mark=mark,
                         index=index)
                assert text == f"\u2139\ufe0f [INFO] {title(r)}\n{message(r, prev.get(interval), p)}"
                prev[interval] = r
        finally:
            await market.aclose()
        assert (tmp_path / STATE_FILE).exists()


def title_tail(close_ms: int, interval: str) -> str:
    from datetime import UTC, datetime

    return f"{interval} close " + datetime.fromtimestamp(close_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
