"""Telegram Bot API notifier: ``POST {base_url}/bot{token}/sendMessage``.

Owns: the Telegram message format (severity, title, text) and where the token comes from:
the environment variable ``HEDGE_TELEGRAM_TOKEN`` only (never a config file). The base URL is
configurable (runtime.alerts.telegram.base_url) so tests and proxies can point it elsewhere.

Must never: log or raise a text containing the token (the URL holds it; every error is masked).
"""

from __future__ import annotations

import os
from typing import Any

from hedge.events import Alert
from hedge.state.alerts.notifier import HttpNotifier
from hedge.state.masking import Masker

TOKEN_ENV = "HEDGE_TELEGRAM_TOKEN"
_ICON = {"critical": "\U0001f6a8", "warning": "\u26a0\ufe0f", "info": "\u2139\ufe0f"}


class TelegramNotifier(HttpNotifier):
    name = "telegram"

    def __init__(self, base_url: str, chat_id: str, *, token: str | None = None, timeout_s: float = 5.0) -> None:
        self._token = token if token is not None else os.environ.get(TOKEN_ENV, "")
        if not self._token:
            raise ValueError(f"telegram alerts are enabled but {TOKEN_ENV} is not set")
        if not chat_id:
            raise ValueError("telegram alerts are enabled but runtime.alerts.telegram.chat_id is empty")
        super().__init__(timeout_s=timeout_s, masker=Masker([self._token]))
        self.base_url = base_url.rstrip("/")
        self.chat_id = chat_id

    def url(self) -> str:
        return f"{self.base_url}/bot{self._token}/sendMessage"

    def payload(self, alert: Alert) -> dict[str, Any]:
        icon = _ICON.get(alert.severity, "")
        text = f"{icon} [{alert.severity.upper()}] {alert.title}\n{alert.text}".strip()
        return {"chat_id": self.chat_id, "text": self.masker.mask(text), "disable_web_page_preview": True}

    def __repr__(self) -> str:
        return f"TelegramNotifier(base_url={self.base_url!r}, chat_id={self.chat_id!r}, token=***)"
