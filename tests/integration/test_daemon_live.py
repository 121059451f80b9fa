"""The daemon's safety surfaces, live against its in-process local exchange (real sockets, real ccxt).

- ``hedge kill --cancel``'s direct path (``direct_cancel_all``, found through ``daemon.json``) and
  the kill flag: every open order at the exchange is cancelled in under 2 s.
- The dead man's switch: once the daemon's heartbeat stops, the exchange's countdownCancelAll
  cancels every open order by itself.
- /health turns 503 naming the market feed when the exchange stalls it, and 200 again after.

The strategy is disabled: the only orders are the ones the test rests at the exchange itself.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import msgspec
import pytest

from hedge.commands import kill as kill_cmd
from hedge.config import Config
from hedge.daemon.cancel import direct_cancel_all
from hedge.daemon.errors import SetupError
from hedge.daemon.wiring import Daemon
from hedge.events import KillSwitch, OrderRequest, OrderType, Side, TimeInForce, TradingState
from hedge.risk.dead_man import DeadManSwitch
from hedge.risk.kill_switch import write_flag
from hedge.venue.binance import BinanceVenue
from tests.kit.config import make_config, repo_config
from tests.kit.wait import budget_s, wait_for

ROOT = Path(__file__).resolve().parents[2]


def config(tmp: Path, **changes: object) -> Config:
    """configs/ with every strategy off, logs and the kill flag under ``tmp``, metrics on any port."""
    cfg = repo_config()
    return make_config(
        tmp / "logs", base=cfg,
        strategy__strategies=[msgspec.structs.replace(e, enabled=False) for e in cfg.strategy.strategies],
        runtime__metrics={"port": 0, "feed_stale_s": 1.0},
        risk__kill_switch__flag_file=str(tmp / "KILL"),
        **changes,
    )


class Live:
    def __init__(self, daemon: Daemon, task: asyncio.Task[int]) -> None:
        self.daemon = daemon
        self.task = task
        assert daemon.exchange is not None and daemon.setup is not None
        self.exchange = daemon.exchange
        venue = daemon.setup.venue
        assert isinstance(venue, BinanceVenue)
        self.venue = venue

    async def rest_orders(self, n: int) -> None:
        """``n`` resting buy orders far below the market, placed at the exchange under the daemon's account."""
        assert self.daemon.pipeline is not None
        books = self.daemon.pipeline.router.books
        await wait_for(lambda: "BTCUSDT" in books, 30, what="a BTCUSDT book", interval=0.05)
        price = round(books["BTCUSDT"].mid * 0.95, 1)
        for i in range(n):
            await self.venue.place(OrderRequest(
                client_order_id=f"rest-{i}-{time.time_ns()}", intent_id="test", symbol="BTCUSDT", side=Side.BUY,
                type=OrderType.LIMIT, tif=TimeInForce.GTC, qty=0.002, price=price,
            ))

    async def open_orders(self) -> int:
        return len(await self.venue.open_orders("BTCUSDT"))


async def nothing_open(live: Live) -> bool:
    return await live.open_orders() == 0


async def start(cfg: Config) -> Live:
    daemon = Daemon(cfg)
    task = asyncio.get_running_loop().create_task(daemon.run(install_signals=False))

    def started() -> bool:
        assert not task.done(), task
        return daemon.pipeline is not None and bool(daemon.pipeline.filters)

    await wait_for(started, 20, what="the daemon's start", interval=0.05)
    return Live(daemon, task)


async def stop(live: Live) -> None:
    assert live.daemon.engine is not None
    live.daemon.engine.request_stop("test")
    assert await asyncio.wait_for(live.task, 30) == 0


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    lv = await start(config(tmp_path))
    yield lv
    await stop(lv)


async def test_direct_cancel_and_kill_flag_cancel_everything_at_the_exchange(live: Live, tmp_path: Path) -> None:
    await live.rest_orders(3)
    assert await live.open_orders() == 3
    # hedge kill --cancel's path: a separate venue client, the exchange found through daemon.json
    t0 = time.monotonic()
    assert await direct_cancel_all(live.daemon.cfg)() == 3
    assert await live.open_orders() == 0 and time.monotonic() - t0 < budget_s(2.0)
    # the flag: the daemon halts and cancels through its router
    await live.rest_orders(2)
    t0 = time.monotonic()
    engaged: list[KillSwitch] = []
    assert live.daemon.engine is not None
    live.daemon.engine.bus.subscribe(KillSwitch, engaged.append)
    write_flag(tmp_path / "KILL", "test", ts_ns=time.time_ns())
    await wait_for(lambda: nothing_open(live), 30, what="no open order after the kill flag", interval=0.05)
    assert time.monotonic() - t0 < budget_s(2.0)
    assert [(e.engaged, e.reason) for e in engaged] == [(True, "kill switch: test")]  # journaled and alerted


@pytest.mark.slow
async def test_the_exchange_cancels_everything_when_the_dead_man_heartbeat_stops(tmp_path: Path) -> None:
    live = await start(config(tmp_path, risk__dead_man={"countdown_ms": 5000, "heartbeat_s": 0.5}))
    try:
        engine = live.daemon.engine
        assert engine is not None
        dead_man = next(s for s in engine.services if isinstance(s, DeadManSwitch))
        await wait_for(lambda: dead_man.beats >= 2, 30, what="armed, and re-armed at least once")
        await live.rest_orders(2)
        heartbeat = next(t for t in engine._tasks if t.get_name() == "service:dead-man")
        heartbeat.cancel()
        t0 = time.monotonic()
        await wait_for(lambda: nothing_open(live), 30, what="the exchange's cancel after the countdown",
                       interval=0.1)
        assert time.monotonic() - t0 > 4.0, "cancelled before the countdown ran out"
    finally:
        await stop(live)


async def test_health_turns_503_when_the_market_feed_stalls_and_recovers(tmp_path: Path) -> None:
    live = await start(config(tmp_path))
    try:
        obs = live.daemon.engine.observability if live.daemon.engine else None
        assert obs is not None
        async with aiohttp.ClientSession() as http:
            async def health() -> tuple[int, dict[str, object]]:
                async with http.get(f"{obs.server.url}/health") as r:
                    return r.status, await r.json(content_type=None)

            async def answering(status: int) -> dict[str, object] | None:
                code, body = await health()
                return body if code == status else None

            async def until(status: int, within_s: float) -> dict[str, object]:
                return await wait_for(lambda: answering(status), within_s, what=f"/health {status}", interval=0.1)

            await until(200, 15)
            async with http.post(f"{live.exchange.base_url}/_hedge/actions/ws_stall", params={"seconds": "4"}) as r:
                assert r.status == 200
            body = await until(503, 4)
            reasons = " ".join(str(x) for x in body.get("reasons", []))  # type: ignore[union-attr]
            assert "BTCUSDT" in reasons or "feed" in reasons, body
            await until(200, 10)
    finally:
        await stop(live)


@pytest.mark.parametrize(("venue", "dry_run", "carried"), [
    ("local", False, False),  # a fresh paper account at every start
    ("binance-testnet", True, False),  # a dry run's paper account: the live run's files stay untouched
    ("binance-testnet", False, True),  # the account outlives the process: risk memory and ledger are read back
])
async def test_what_a_start_carries_over_depends_on_whose_account_it_is(
    tmp_path: Path, venue: str, dry_run: bool, carried: bool
) -> None:
    cfg = config(tmp_path, runtime__venue=venue, runtime__dry_run=dry_run)
    state = tmp_path / "logs" / "state"
    state.mkdir(parents=True)
    risk_file, ledger_file = state / "risk_state.json", state / "portfolio_ledger.json"
    risk_file.write_bytes(b"{not json: a live run's file")
    ledger_file.write_bytes(b'{"version": 1, "entries": {}}')
    daemon = Daemon(cfg, env={"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s"})
    try:
        await daemon.start()
        assert daemon.pipeline is not None
        assert (daemon.pipeline.risk.store is not None) is carried
        assert daemon.pipeline.portfolio.persist is carried
    finally:
        await daemon.close()
        if daemon.engine is not None:
            daemon.engine.journals.close()
    # Read back (an unusable risk file is moved aside) only when the account is the same one.
    assert risk_file.exists() is not carried
    assert ledger_file.read_bytes() == b'{"version": 1, "entries": {}}'


async def test_one_daemon_per_log_dir(live: Live, tmp_path: Path) -> None:
    """A second `hedge run` on a running daemon's log dir (journals, ledger, pending orders) is refused."""
    second = Daemon(config(tmp_path))
    with pytest.raises(SetupError, match="another hedge daemon is running on the log dir"):
        await second.start()
    await second.close()
    assert second.exchange is None and second.engine is None  # refused before anything started
    await stop(live)
    # daemon.json is still there, but nobody runs: `kill --cancel` says so at once (exit 3), no dead URL retried
    assert (tmp_path / "logs" / "daemon.json").exists()
    with pytest.raises(SetupError, match="no running daemon's local exchange"):
        direct_cancel_all(config(tmp_path))
    third = Daemon(config(tmp_path))  # the lock went with the first daemon
    try:
        await third.start()
    finally:
        await third.close()
        if third.engine is not None:
            third.engine.journals.close()


async def test_hedge_kill_from_another_directory_reaches_the_daemon(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hedge kill --log-dir DIR` run from elsewhere writes the flag the daemon watches (daemon.json),
    not a relative `logs/KILL` of its own working directory that no daemon reads."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("BINANCE_TESTNET", raising=False)
    args = argparse.Namespace(config=None, flag_file=None, reason="drill", cancel=False, clear=False,
                              log_dir=str(tmp_path / "logs"))
    assert kill_cmd.main(args) == 0
    assert (tmp_path / "KILL").exists() and not (elsewhere / "logs" / "KILL").exists()
    assert live.daemon.pipeline is not None
    risk = live.daemon.pipeline.risk
    await wait_for(lambda: risk.machine.state is TradingState.HALTED, 30, what="the daemon's halt", interval=0.05)
