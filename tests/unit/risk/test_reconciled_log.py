"""The operator's log line at the first reconciliation says whether orders may really be sent."""

from __future__ import annotations

import logging

import pytest

from hedge.bus import Bus
from hedge.events import Reconciled
from hedge.risk.stage import RiskStage
from tests.unit.risk.helpers import risk_config


def test_the_first_reconciliation_line_names_a_halt(caplog: pytest.LogCaptureFixture) -> None:
    stage = RiskStage(Bus(), risk_config())
    stage.attach()
    stage.halt("kill switch: drill")
    with caplog.at_level(logging.INFO, logger="hedge.risk.stage"):
        stage.bus.publish(Reconciled(trigger="start"))
    lines = [r for r in caplog.records if "first reconciliation" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    msg = lines[0].getMessage()
    assert "HALTED (kill switch: drill)" in msg and "only cancels pass" in msg and "orders may be sent" not in msg


def test_the_first_reconciliation_line_when_active(caplog: pytest.LogCaptureFixture) -> None:
    stage = RiskStage(Bus(), risk_config())
    stage.attach()
    with caplog.at_level(logging.INFO, logger="hedge.risk.stage"):
        stage.bus.publish(Reconciled(trigger="start"))
    assert [r.getMessage() for r in caplog.records if "first reconciliation" in r.getMessage()] == [
        "risk: first reconciliation done (start); orders may be sent"
    ]
