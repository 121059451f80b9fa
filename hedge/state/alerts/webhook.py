"""Generic webhook notifier: ``POST url`` with ``{"severity", "title", "text", "ts_ms"}``.

Owns: the webhook's JSON document.

Must never: include anything but the alert's own fields, or
show its URL in an error (webhook URLs often carry a token; it is masked like one).
"""

from __future__ import annotations

from typing import Any

from hedge.events import Alert
from hedge.state.alerts.notifier import HttpNotifier
from hedge.state.masking import Masker


class WebhookNotifier(HttpNotifier):
    name = "webhook"

    def __init__(self, url: str, *, timeout_s: float = 5.0, masker: Masker | None = None) -> None:
        if not url:
            raise ValueError("webhook alerts are enabled but runtime.alerts.webhook.url is empty")
        super().__init__(timeout_s=timeout_s, masker=masker or Masker([url]))  # a webhook URL often holds a token
        self._url = url

    def url(self) -> str:
        return self._url

    def payload(self, alert: Alert) -> dict[str, Any]:
        return {
            "severity": alert.severity,
            "title": self.masker.mask(alert.title),
            "text": self.masker.mask(alert.text),
            "ts_ms": alert.ts_ms or alert.recv_ns // 1_000_000,
        }
