"""Joining an existing Ray cluster for a sweep: the address forms, the cluster's token, one-line errors.

Owns: the address forms (``auto``; ``HOST:PORT``, the head's GCS port, joining as a driver;
``ray://HOST:PORT``, the head's Ray client server), ``probe`` (the form, and something listening
there, before Ray is asked: Ray itself waits 20-30 s on a dead address), ``join`` (use the
cluster's token when one is available, then ``ray.init`` it); every failure is a ``ClusterError``
whose text is one line naming the address and what to do.

The token (Ray >= 2.5x enables token authentication on a cluster started where a token exists):
Ray looks for it in ``RAY_AUTH_TOKEN``, else the file ``RAY_AUTH_TOKEN_PATH``, else
``~/.ray/auth_token``, but only *sends* it when ``RAY_AUTH_MODE=token`` — which Ray turns on by
itself for ``auto`` and never for an explicit address. ``join`` does for an explicit address what
Ray does for ``auto``: token mode when a token is available and ``RAY_AUTH_MODE`` is unset (a
cluster without authentication accepts a driver that sends one; measured with Ray 2.60).

Must never: log or print the token, or start a cluster (``hedge.research.sweep`` starts the local one).
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

AUTO = "auto"
CLIENT_SCHEME = "ray://"
CLIENT_INIT_RETRY_S = (2.0, 5.0)  # pauses before the 2nd and 3rd try of a ray:// join (see _init)
PROBE_TIMEOUT_S = 10.0  # a TCP connect to the head; generous for a loaded or distant head
TOKEN_HINT = ("a cluster with token authentication needs its token here: RAY_AUTH_TOKEN=<token> or "
              "RAY_AUTH_TOKEN_PATH=<file> (`ray get-auth-token` on the head prints it)")


log = logging.getLogger(__name__)


class ClusterError(Exception):
    """Ray could not be joined at the address; the text is the one line to show the user."""


def host_port(address: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``ray://HOST:PORT`` -> (host, port); ``ClusterError`` for any other form."""
    rest = address.removeprefix(CLIENT_SCHEME)
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(f"--address {address!r}: expected auto, HOST:PORT (the head's GCS port, "
                           "ray start --port) or ray://HOST:PORT (its Ray client server, ray start "
                           "--ray-client-server-port)")
    return host.strip("[]"), int(port)


def _what(address: str) -> str:
    return ("the head's Ray client server (ray start --head --ray-client-server-port PORT)"
            if address.startswith(CLIENT_SCHEME) else "the head's GCS port (ray start --head --port PORT)")


def probe(address: str) -> None:
    """Something listens at ``address`` (not ``auto``), else ``ClusterError`` naming it."""
    host, port = host_port(address)
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClusterError(f"no Ray cluster at {address} ({reason}): start one there or give the address "
                           f"of {_what(address)}") from None


def _use_token_if_available() -> None:
    """Ray's own rule for ``auto`` (token mode when a token exists and RAY_AUTH_MODE is unset), here too."""
    try:
        from ray._private.authentication.authentication_token_setup import (
            maybe_enable_token_auth_if_token_available,
        )
    except ImportError:  # a Ray without token authentication
        return
    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def _init(ray: Any, address: str) -> None:
    """``ray.init``, again after a pause when the client server's worker failed to start (transient).

    Ray's client server starts one server process per driver; on a loaded head it can fail to come
    up in time and the driver sees ``ConnectionAbortedError: Initialization failure from server``
    (seen on this 2-core machine during the test suite). That one is retried; any other error is not."""
    for pause_s in (*CLIENT_INIT_RETRY_S, None):
        try:
            ray.init(address=address, log_to_driver=False)
            return
        except ConnectionAbortedError as exc:
            if pause_s is None or "Initialization failure" not in str(exc):
                raise
            log.warning("ray client server at %s failed to start this driver's server; retrying in %.0f s",
                        address, pause_s)
            time.sleep(pause_s)


def join(address: str) -> None:
    """``ray.init`` the cluster at ``address`` (``probe`` it first); ``ClusterError`` when it fails."""
    import ray

    if address != AUTO:
        _use_token_if_available()
    try:
        _init(ray, address)
    except Exception as exc:  # ray's own errors: no cluster found, refused, timed out
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if address == AUTO:
            raise ClusterError(f"no Ray cluster found from this node (--address auto: {first}): start one "
                               "(ray start --head) or give its address, HOST:PORT or ray://HOST:PORT") from None
        refused = "auth" in f"{exc} {exc.__cause__}".lower()
        raise ClusterError(f"cannot join the Ray cluster at {address} ({type(exc).__name__}: {first}): "
                           + ("it refused this driver's token (missing or wrong)" if refused
                              else f"the port answers; is it {_what(address)}?") + f" {TOKEN_HINT}") from None
