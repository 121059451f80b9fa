"""Secret masking for every text an alert path can emit (errors, log lines, messages).

Owns: the set of secret values (the Telegram token and every environment variable whose name
says it is a secret: ``*TOKEN*``, ``*SECRET*``, ``*API_KEY*``, ``*PASSWORD*``) and replacing each
occurrence with ``***``. An aiohttp error can carry the request URL, and the Telegram URL
carries the bot token, so every error string passes through ``mask`` before it is logged,
counted or stored.

Must never: log, return or store a secret value itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

SECRET_NAME = re.compile(r"TOKEN|SECRET|API_KEY|PASSWORD|PASSPHRASE|PRIVATE_KEY", re.IGNORECASE)
MIN_SECRET_LEN = 6  # shorter values would mask innocent text and are no real secret anyway
MASK = "***"


class Masker:
    def __init__(self, secrets: Iterable[str] = (), env: Mapping[str, str] | None = None) -> None:
        values = {v for v in secrets if v}
        source = os.environ if env is None else env
        values |= {v for k, v in source.items() if SECRET_NAME.search(k) and v}
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted((v for v in values if len(v) >= MIN_SECRET_LEN), key=len, reverse=True)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text
