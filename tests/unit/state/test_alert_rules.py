"""Alert rules: derived alerts, de-duplication, the daily-drawdown edge, a bounded non-blocking queue."""

from __future__ import annotations

from hedge.bus import Bus
from hedge.events import Alert, PositionDrift, RiskSnapshot, TradingState, TradingStateChange
from hedge.model.clock import EventClock
from hedge.state.alerts.dispatcher import AlertDispatcher
from hedge.state.alerts.router import AlertRouter


class Recorder:
    """A notifier that records what it is given (the dispatcher queue is inspected directly)."""

    name = "recorder"

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.sent.append(alert)

    async def aclose(self) -> None:
        return None


def setup(queue_size: int = 64) -> tuple[Bus, AlertDispatcher, EventClock]:
    bus, clock = Bus(), EventClock(100 * 1_000_000_000)
    d = AlertDispatcher([Recorder()], queue_size=queue_size)
    AlertRouter(bus, d, daily_dd_limit=0.10, dedup_s=60.0, clock=clock).attach()
    return bus, d, clock


def queued(d: AlertDispatcher) -> list[tuple[str, str]]:
    return [(a.severity, a.title) for a in d.lanes[0].queue]


def test_daily_drawdown_alerts_once_per_breach() -> None:
    bus, d, clock = setup()
    for dd in (0.05, 0.10, 0.12, 0.11):
        bus.publish(RiskSnapshot(nav=9_000.0, daily_drawdown=dd))
    assert queued(d) == [("critical", "daily drawdown limit")]
    bus.publish(RiskSnapshot(nav=9_500.0, daily_drawdown=0.04))
    clock.advance_s(61)
    bus.publish(RiskSnapshot(nav=8_900.0, daily_drawdown=0.105))
    assert queued(d) == [("critical", "daily drawdown limit")] * 2
    assert "10.50% >= limit 10.00%" in d.lanes[0].queue[-1].text


def test_same_title_within_dedup_window_is_counted_not_sent() -> None:
    bus, d, clock = setup()
    for _ in range(3):
        bus.publish(PositionDrift(symbol="BTCUSDT", local_qty=0.01, exchange_qty=0.0))
    bus.publish(PositionDrift(symbol="BTCUSDT", local_qty=0.01, exchange_qty=0.01, resolved=True))
    assert queued(d) == [("warning", "position drift BTCUSDT")]
    assert (d.stats.raised, d.stats.deduplicated) == (3, 2)
    clock.advance_s(61)
    bus.publish(PositionDrift(symbol="BTCUSDT", local_qty=0.02, exchange_qty=0.0))
    assert len(queued(d)) == 2


def test_trading_state_severities() -> None:
    bus, d, _ = setup()
    bus.publish(TradingStateChange(previous=TradingState.ACTIVE, state=TradingState.REDUCING, reason="dd"))
    bus.publish(TradingStateChange(previous=TradingState.REDUCING, state=TradingState.HALTED, reason="kill"))
    bus.publish(TradingStateChange(previous=TradingState.HALTED, state=TradingState.ACTIVE, reason="reset"))
    assert queued(d) == [("warning", "trading REDUCING"), ("critical", "trading HALTED"), ("info", "trading ACTIVE")]


def test_full_queue_drops_oldest_and_counts() -> None:
    bus, d, _ = setup(queue_size=3)
    for i in range(5):
        bus.publish(Alert(severity="info", title=f"t{i}", text=""))
    assert [t for _, t in queued(d)] == ["t2", "t3", "t4"]
    assert d.stats.dropped == 2


def test_misconfigured_notifiers_are_left_out_with_a_clear_log(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    from hedge.config import AlertsConfig, TelegramConfig, WebhookConfig
    from hedge.state.observability import notifiers_from_config

    monkeypatch.delenv("HEDGE_TELEGRAM_TOKEN", raising=False)
    cfg = AlertsConfig(telegram=TelegramConfig(enabled=True, chat_id="1"), webhook=WebhookConfig(enabled=True))
    assert notifiers_from_config(cfg) == []
    assert "HEDGE_TELEGRAM_TOKEN is not set" in caplog.text and "webhook.url is empty" in caplog.text
    monkeypatch.setenv("HEDGE_TELEGRAM_TOKEN", "tok-abcdef")
    assert [n.name for n in notifiers_from_config(cfg)] == ["telegram"]
    assert "tok-abcdef" not in caplog.text
