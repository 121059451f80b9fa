"""Secret masking for every text hedge writes: journal lines, alert messages, error strings.

Owns: the set of secret values (given explicitly, e.g. the Telegram token, plus every
environment variable whose name says it is a secret: ``*TOKEN*``, ``*SECRET*``, ``*API_KEY*``,
``*PASSWORD*``, ``*PASSPHRASE*``, ``*PRIVATE_KEY*``) and replacing each occurrence with ``***``
in text (``mask``) or in encoded JSON bytes (``mask_bytes``, which also catches the
JSON-escaped form). An aiohttp error can carry a request URL, and the Telegram URL carries the
bot token, so every error string on the alert path goes through ``mask`` before it is logged;
the journal passes every payload through ``mask_bytes`` (a few ``in`` checks per line, ~0.1 us).

Must never: log, return or store a secret value itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

import msgspec

SECRET_NAME = re.compile(r"TOKEN|SECRET|API_KEY|PASSWORD|PASSPHRASE|PRIVATE_KEY", re.IGNORECASE)
MIN_SECRET_LEN = 6  # shorter values would mask innocent text and are no real secret anyway
MASK = "***"
_MASK_BYTES = MASK.encode()


class Masker:
    def __init__(self, secrets: Iterable[str] = (), env: Mapping[str, str] | None = None) -> None:
        values = {v for v in secrets if v}
        source = os.environ if env is None else env
        values |= {v for k, v in source.items() if SECRET_NAME.search(k) and v}
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted((v for v in values if len(v) >= MIN_SECRET_LEN), key=len, reverse=True)
        forms: set[bytes] = set()
        for v in self._secrets:
            forms.add(v.encode())
            forms.add(msgspec.json.encode(v)[1:-1])
        self._bytes = sorted(forms, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def mask_bytes(self, data: bytes) -> bytes:
        for secret in self._bytes:
            if secret in data:
                data = data.replace(secret, _MASK_BYTES)
        return data
