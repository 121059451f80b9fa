"""A 418 ban, live: the daemon on its in-process local exchange, the exchange's ``rest_418`` fault.

The daemon's venue is banned for a few seconds while two orders rest at the exchange. Proven:
HALTED at once; /health 503 and ``hedge status`` say "banned until <ISO time>"; the kill switch
engaged during the ban queues its cancel-all and ``hedge kill --cancel`` refuses to call; the
exchange hears nothing from the daemon during the ban (its count of 418 answers stays put); the
cancel-all goes out the moment the ban ends (not before), and a reconciliation ("ban-end") follows.
"""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest

from hedge.daemon.cancel import direct_cancel_all
from hedge.daemon.errors import SetupError
from hedge.events import RateLimit, Reconciled, TradingState
from hedge.exchange.auth import DEFAULT_API_KEY
from hedge.exchange.faults import FaultSetting
from hedge.model.clock import iso_utc
from hedge.risk.kill_switch import write_flag
from hedge.state.manifest import state_dir
from hedge.state.status_view import StatusView
from hedge.venue.errors import RateLimited
from tests.integration.test_daemon_live import Live, config, start, stop
from tests.kit.wait import budget_s, wait_for

BAN_MS = 8000


def resting(live: Live) -> int:
    """Open BTCUSDT orders of the daemon's account, read inside the exchange (no request: the IP is banned)."""
    return len(live.exchange.engine.open_orders(DEFAULT_API_KEY, "BTCUSDT", algo=False))


@pytest.mark.slow
async def test_a_ban_halts_at_once_is_shown_and_the_queued_cancels_go_out_when_it_ends(tmp_path: Path) -> None:
    live = await start(config(tmp_path))
    try:
        engine, pipe = live.daemon.engine, live.daemon.pipeline
        assert engine is not None and pipe is not None and engine.observability is not None
        events: list[RateLimit | Reconciled] = []
        engine.bus.subscribe(RateLimit, events.append)
        engine.bus.subscribe(Reconciled, events.append)
        await live.rest_orders(2)
        assert resting(live) == 2

        live.exchange.faults.set("rest_418", FaultSetting(count=1, value=BAN_MS))
        with pytest.raises(RateLimited):
            await live.venue.open_orders("BTCUSDT")  # the daemon's venue: this request (or a concurrent one) is banned
        ban = next(e for e in events if isinstance(e, RateLimit))
        until, until_iso = ban.banned_until_ms, iso_utc(ban.banned_until_ms)
        assert ban.status == 418 and until > time.time() * 1000 + BAN_MS / 2

        # HALTED at once, and the router with it
        assert pipe.risk.machine.state is TradingState.HALTED
        assert pipe.risk.machine.reason == f"venue ban (418) until {until_iso}"
        assert pipe.router.halted.startswith("venue ban (418)")

        # /health and `hedge status` say until when
        async with aiohttp.ClientSession() as http, http.get(f"{engine.observability.server.url}/health") as r:
            assert r.status == 503
            body = await r.json(content_type=None)
        assert any(f"venue banned (418) until {until_iso}" in x for x in body["reasons"]), body
        view = StatusView(state_dir(tmp_path / "logs"))

        def status_shows_ban() -> bool:
            # the venue's ban and the trading state's reason come from two state files, each written on its
            # own schedule: the screen shows both once both are written
            screen = view.render(time.time_ns())
            return f"BANNED (418) until {until_iso}" in screen and f"venue ban (418) until {until_iso}" in screen

        await wait_for(status_shows_ban, 30, what="hedge status showing the ban and the trading state's reason",
                       interval=0.05)

        # the kill switch during the ban: its cancel-all is queued; `hedge kill --cancel` refuses to call
        write_flag(tmp_path / "KILL", "operator during the ban", ts_ns=time.time_ns())
        await wait_for(lambda: bool(pipe.router.halting.queued), 30, what="the cancel-all queued", interval=0.02)
        with pytest.raises(SetupError, match=f"bans this IP until {until_iso}"):
            await direct_cancel_all(live.daemon.cfg)()
        heard = live.exchange.limiter.banned_requests
        assert 1 <= heard <= 3  # the banning answer (and at most what was already in flight then)
        assert time.time() * 1000 < until, "the ban ended before the checks: raise BAN_MS"
        assert resting(live) == 2  # nothing could be cancelled yet

        # the moment the ban ends: the queued cancel-all, then a reconciliation
        await wait_for(lambda: resting(live) == 0, BAN_MS / 1000 + 10, what="the cancel-all after the ban",
                       interval=0.02)
        assert time.time() * 1000 >= until
        assert time.time() * 1000 - until < budget_s(5.0) * 1000, "the cancels went out late"
        await wait_for(lambda: any(isinstance(e, Reconciled) and e.trigger == "ban-end" for e in events), 30,
                       what="a reconciliation after the ban", interval=0.05)
        assert live.exchange.limiter.banned_requests == heard  # silent during the ban: it was not extended
        assert not pipe.router.halting.queued and pipe.router.cancel_all_errors == 0
        assert pipe.risk.machine.state is TradingState.HALTED  # sticky: an operator restart lifts it
    finally:
        await stop(live)
