"""Request signing of the local exchange: API keys, HMAC-SHA256 signatures, timestamp windows.

Owns: the key -> secret table (a default test pair unless others are configured), Binance's
signature rule (hex HMAC-SHA256 of ``query_string + body`` with ``signature`` as the last
parameter; anything but 64 hex digits is -1022) and its timestamp rule (``timestamp < serverTime +
1000`` and ``serverTime - timestamp <= recvWindow``, recvWindow default 5000, max 60000; both
integers by the parameter rules of ``params``, so ``recvWindow=abc`` is -1100).

Must never: log or echo a secret, or accept a request whose signature it did not check.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from hedge.exchange import errors
from hedge.exchange.params import parse_int

DEFAULT_API_KEY = "hedgeLocalTestApiKey000000000000000000000000000000000000000000001"
DEFAULT_API_SECRET = "hedgeLocalTestSecret00000000000000000000000000000000000000000001"
MAX_RECV_WINDOW_MS = 60_000
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}", re.ASCII)


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def split_signature(query: str, body: str) -> tuple[str, str]:
    """(signed payload, signature): payload = query string + body with the trailing signature removed."""
    for in_body, text in ((True, body), (False, query)):
        idx = text.rfind("signature=")
        if idx < 0 or (idx > 0 and text[idx - 1] != "&"):
            continue
        sig = text[idx + len("signature=") :]
        if "&" in sig:
            raise errors.invalid_signature()
        stripped = text[: max(0, idx - 1)]
        return (query + stripped if in_body else stripped + body), sig
    raise errors.missing_param("signature")


class Keys:
    def __init__(self, pairs: dict[str, str] | None = None) -> None:
        self._secrets = dict(pairs) if pairs else {DEFAULT_API_KEY: DEFAULT_API_SECRET}

    def __contains__(self, key: str) -> bool:
        return key in self._secrets

    def api_keys(self) -> list[str]:
        return list(self._secrets)

    def verify(self, api_key: str, payload: str, signature: str) -> None:
        secret = self._secrets.get(api_key)
        if secret is None:
            raise errors.bad_api_key()
        sig = signature.lower()  # "The signature is not case sensitive."
        if not _HEX_SIGNATURE.fullmatch(sig) or not hmac.compare_digest(sign(secret, payload), sig):
            raise errors.invalid_signature()


def check_timestamp(timestamp: str | None, recv_window: str | None, server_ms: int) -> None:
    if not timestamp:
        raise errors.missing_param("timestamp")
    ts = parse_int("timestamp", timestamp)
    window = parse_int("recvWindow", recv_window) if recv_window else 5000
    if window <= 0 or window > MAX_RECV_WINDOW_MS:
        raise errors.bad_param("recvWindow", str(window))
    if not (ts < server_ms + 1000 and server_ms - ts <= window):
        raise errors.invalid_timestamp()
