"""/metrics and /health over real HTTP on 127.0.0.1: counters move with the events, /health
turns 503 with the reason when a feed drops, goes stale or a book goes invalid, and back to 200."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from hedge.events import BookState, BookStatus, FeedStatus, Heartbeat, Nav, TradingState, TradingStateChange
from hedge.state.health import HealthMonitor, HealthRules
from hedge.state.observability import Observability
from hedge.state.server import MetricsServer
from hedge.state.telemetry import Telemetry
from tests.integration.state.conftest import obs_config, serving
from tests.integration.state.session import SYMBOL, market_event, publish_session, recorded_frames
from tests.kit.wait import wait_for


async def scrape(obs: Observability) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as http, http.get(f"{obs.server.url}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    out = {}
    for fam in text_string_to_metric_families(text):
        for sample in fam.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


async def health(obs: Observability) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(f"{obs.server.url}/health") as resp:
        return resp.status, await resp.json()


def live_inputs(obs: Observability) -> None:
    """Everything /health needs: market data, a valid book, the user stream, a fresh NAV."""
    now = time.time_ns()
    obs.bus.publish(FeedStatus(connection="market", connected=True, recv_ns=now))
    obs.bus.publish(FeedStatus(connection="user", connected=True, recv_ns=now))
    obs.bus.publish(BookStatus(symbol=SYMBOL, state=BookState.VALID, recv_ns=now))
    obs.bus.publish(Nav(nav=1.0, wallet_balance=1.0, unrealized_pnl=0.0, source="sim", recv_ns=now))
    frame, lag = recorded_frames(1)[0]
    obs.bus.publish(market_event(frame, lag))


async def test_metrics_counters_move_over_http(running: Observability) -> None:
    assert running.server.host == "127.0.0.1" and running.server.port > 0
    before = await scrape(running)
    assert before.get(("hedge_orders_total", (("outcome", "FILLED"),)), 0.0) == 0.0
    publish_session(running.bus)
    await running.bus.drain(5)
    after = await scrape(running)
    assert after[("hedge_messages_total", (("type", "BookTicker"),))] > 0
    assert after[("hedge_orders_total", (("outcome", "FILLED"),))] == 2
    assert after[("hedge_vetoes_total", (("reason", "spread"),))] == 1
    assert after[("hedge_parse_errors_total", (("connection", "market"),))] == 2
    assert after[("hedge_gaps_total", (("connection", "market"),))] == 1
    assert after[("hedge_feed_handler_errors_total", (("connection", "market"),))] == 3
    assert after[("hedge_reconnects_total", (("connection", "market"),))] == 1
    assert after[("hedge_rate_limits_total", (("status", "429"),))] == 1
    assert after[("hedge_feed_lag_seconds_count", ())] == before.get(("hedge_feed_lag_seconds_count", ()), 0) + 400
    assert after[("hedge_tick_to_decision_seconds_count", ())] == 3
    assert after[("hedge_decision_to_send_seconds_count", ())] == 2
    assert after[("hedge_order_ack_seconds_count", ())] == 2
    assert after[("hedge_nav_usdt", ())] == 10_003.5
    assert after[("hedge_gross_exposure", ())] == 0.064
    assert after[("hedge_trading_state", ())] == 1.0  # REDUCING
    assert after[("hedge_healthy", ())] == 1.0
    # Feed lag is observed from the recording's real lags (tens of ms), so it lands below 1 s.
    assert after[("hedge_feed_lag_seconds_bucket", (("le", "1.0"),))] == after[("hedge_feed_lag_seconds_count", ())]
    async def probed() -> bool:  # a few loop-lag probes at 50 ms
        return (await scrape(running))[("hedge_event_loop_lag_seconds_count", ())] >= 2

    await wait_for(probed, what="two loop-lag probes")
    running.bus.publish(TradingStateChange(previous=TradingState.REDUCING, state=TradingState.HALTED, reason="kill"))
    assert (await scrape(running))[("hedge_trading_state", ())] == 2.0


async def test_metrics_show_each_stage_inbox_depth(running: Observability) -> None:
    """Events waiting behind a stuck stage are a queue depth on /metrics (what the soak watches)."""
    gate = asyncio.Event()

    async def held(_e: Heartbeat) -> None:
        await gate.wait()

    running.bus.stage("held", Heartbeat, held, maxsize=16)
    for _ in range(5):
        running.bus.publish(Heartbeat(component="soak", ok=True))
    # the stage's consumer takes the first one and waits; four stay queued
    depth = await wait_for(lambda: _depth(running), what="the held inbox's depth")
    assert depth in (4.0, 5.0)
    gate.set()
    await running.bus.drain(5)
    assert (await scrape(running))[("hedge_bus_inbox_depth", (("inbox", "held"),))] == 0.0


async def _depth(obs: Observability) -> float | None:
    return (await scrape(obs)).get(("hedge_bus_inbox_depth", (("inbox", "held"),)))


async def test_health_follows_feed_book_user_stream_and_nav(tmp_path: Path) -> None:
    async with serving(tmp_path, obs_config(feed_stale_s=0.3)) as obs:
        status, body = await health(obs)
        assert status == 503
        assert set(body["reasons"]) >= {  # type: ignore[arg-type]
            f"no market data for {SYMBOL} yet", f"book {SYMBOL} not synced yet",
            "user stream not connected yet", "no NAV reading yet",
        }
        live_inputs(obs)
        status, body = await health(obs)
        assert (status, body["reasons"]) == (200, [])

        # The feed drops: 503 at once, with the feed's reason.
        obs.bus.publish(FeedStatus(connection="market", connected=False, reason="connection reset", recv_ns=time.time_ns()))
        status, body = await health(obs)
        assert status == 503 and body["reasons"] == ["feed market disconnected: connection reset"]
        live_inputs(obs)
        assert (await health(obs))[0] == 200

        # The book goes invalid on a gap, then resyncs.
        obs.bus.publish(BookStatus(symbol=SYMBOL, state=BookState.INVALID, reason="gap: pu != u", resyncs=1))
        status, body = await health(obs)
        assert status == 503 and body["reasons"] == [f"book {SYMBOL} INVALID: gap: pu != u"]
        obs.bus.publish(BookStatus(symbol=SYMBOL, state=BookState.VALID, resyncs=1))
        assert (await health(obs))[0] == 200

        # The feed goes quiet: stale after feed_stale_s, healthy again with the next frame.
        async def unhealthy() -> tuple[int, dict[str, object]] | None:
            answer = await health(obs)
            return answer if answer[0] == 503 else None

        status, body = await wait_for(unhealthy, 30, what="stale after feed_stale_s (0.3 s)")
        assert len(body["reasons"]) == 1  # type: ignore[arg-type]
        assert str(body["reasons"][0]).startswith(f"feed stale: no market data for {SYMBOL}")  # type: ignore[index]
        live_inputs(obs)
        assert (await health(obs))[0] == 200

        # The user stream dies; a component reports a failure.
        obs.bus.publish(FeedStatus(connection="user", connected=False, reason="listenKey expired"))
        obs.bus.publish(Heartbeat(component="router", ok=False, detail="crashed; restarting"))
        status, body = await health(obs)
        assert status == 503
        assert body["reasons"] == ["user stream down: listenKey expired", "component router failing: crashed; restarting"]
        obs.bus.publish(Heartbeat(component="router", ok=True))
        live_inputs(obs)
        assert (await health(obs)) [0] == 200
        assert (await scrape(obs))[("hedge_healthy", ())] == 1.0


async def test_a_port_in_use_is_said_once_and_served_once_free(caplog: pytest.LogCaptureFixture) -> None:
    """A second daemon on the same metrics port: one clear error (no traceback per retry), then it serves."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    server = MetricsServer(CollectorRegistry(), HealthMonitor(Telemetry(), HealthRules(symbols=())), "127.0.0.1", port,
                           bind_retry_s=0.05)
    task = asyncio.create_task(server.run())
    try:
        with caplog.at_level(logging.INFO, logger="hedge.state.server"):
            await asyncio.sleep(0.4)  # several retries at 50 ms: an absence (one error, not one per retry)
            assert not server.ready.is_set()
            errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(errors) == 1 and errors[0].exc_info is None
            assert f"cannot listen on 127.0.0.1:{port}" in errors[0].getMessage()
            holder.close()
            await asyncio.wait_for(server.ready.wait(), 30)
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/health") as resp:
            assert resp.status in (200, 503)
    finally:
        holder.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
