"""Reachability of network endpoints: one log line per outage, not one per failed attempt.

Owns: ``Reach``, per endpoint (``scheme://host:port``, never a path or query: signed requests
carry signatures) whether it is failing now. The first failure of an outage logs one WARNING
line ``cannot reach HOST: reason, retrying in N s``; later failures of the same outage log at
DEBUG only (with the traceback), and a reminder at WARNING every ``remind_s``; the first
success after an outage logs ``reached HOST again after N s (K failed attempts)`` at INFO.
``Unreachable`` marks an error that has been reported this way, so whoever sees it next (a
service supervisor, a poller, a reconciliation) logs it at DEBUG instead of repeating it, and
``reported(exc)`` tells them so. ``REACH`` is the process's one table (endpoints are shared by
the venue's REST calls and the market-data connections).

Must never: sleep, retry or decide anything (callers own their retries), or log a path or a
query string.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from hedge.model.clock import Clock, LiveClock

log = logging.getLogger(__name__)

REMIND_S = 300.0  # an outage that goes on is said again this often


class Unreachable(ConnectionError):
    """An endpoint gave no answer at all (refused, DNS, timeout, reset); ``Reach`` has said so."""


def reported(exc: BaseException) -> bool:
    """True if ``exc`` (or what caused it) is an outage ``Reach`` has already reported."""
    seen: BaseException | None = exc
    for _ in range(8):  # a short cause chain; never loop on a cycle
        if seen is None:
            return False
        if isinstance(seen, Unreachable):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def level_for(exc: BaseException, default: int = logging.WARNING) -> int:
    """The log level for a failure: DEBUG when ``Reach`` has reported its outage, else ``default``."""
    return logging.DEBUG if reported(exc) else default


def endpoint_of(url: str) -> str:
    """``scheme://host:port`` of a URL (nothing of its path or query)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url.split("?", 1)[0]


class _Outage:
    __slots__ = ("failures", "last_said", "since")

    def __init__(self, now: float) -> None:
        self.since = now
        self.last_said = now
        self.failures = 1


class Reach:
    """Outages by endpoint (see the module docstring), timed on ``clock``."""

    def __init__(self, *, remind_s: float = REMIND_S, clock: Clock | None = None) -> None:
        self.remind_s = remind_s
        self._now = (clock or LiveClock()).now_s
        self._outages: dict[str, _Outage] = {}

    def failed(self, endpoint: str, reason: str, retry_in_s: float | None = None,
               exc: BaseException | None = None) -> None:
        """One failed attempt to reach ``endpoint``; said once per outage (and every ``remind_s``)."""
        key, now = endpoint_of(endpoint), self._now()
        retry = f", retrying in {retry_in_s:.1f} s" if retry_in_s is not None else ""
        outage = self._outages.get(key)
        if outage is None:
            self._outages[key] = _Outage(now)
            log.warning("cannot reach %s: %s%s", key, reason, retry)
        else:
            outage.failures += 1
            if now - outage.last_said >= self.remind_s:
                outage.last_said = now
                log.warning("still cannot reach %s (for %.0f s, %d failed attempts): %s%s",
                            key, now - outage.since, outage.failures, reason, retry)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %s%s", key, reason, retry, exc_info=exc)

    def reached(self, endpoint: str) -> None:
        """A successful exchange with ``endpoint``: ends its outage, if any (said at INFO)."""
        if not self._outages:
            return
        outage = self._outages.pop(endpoint_of(endpoint), None)
        if outage is not None:
            log.info("reached %s again after %.1f s (%d failed attempts)",
                     endpoint_of(endpoint), self._now() - outage.since, outage.failures)


REACH = Reach()
