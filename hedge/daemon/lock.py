"""The log dir's owner: one daemon per log dir, and ``daemon.json`` naming the running one.

Owns: ``LOCK_FILE`` (``<log_dir>/daemon.lock``, an exclusive ``flock`` held for the process's
lifetime) and ``RUNTIME_FILE`` (``<log_dir>/daemon.json``: pid, venue, the local exchange's URL and
the absolute path of the kill flag the daemon watches, for operators, ``hedge kill`` and tests;
the exchange's port is chosen at start), and reading from it the running daemon's local exchange
URL and the kill flag it watches.

Must never: import the engine or a venue (``hedge kill`` reads these before anything else), or
trust a ``daemon.json`` whose daemon no longer holds the lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

import msgspec

from hedge.daemon.errors import SetupError
from hedge.state.atomic import atomic_write

log = logging.getLogger(__name__)

RUNTIME_FILE = "daemon.json"
LOCK_FILE = "daemon.lock"  # held (flock) by the running daemon: one daemon per log dir


def lock_log_dir(log_dir: Path) -> int:
    """One daemon per log dir: an exclusive ``flock`` on ``<log_dir>/daemon.lock`` for the process's
    lifetime (released by the kernel even after a crash). Two daemons on one log dir would write
    the same journals, ledger and pending orders (and trade the same account twice)."""
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(log_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SetupError(f"log dir {log_dir} is not usable: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise SetupError(f"another hedge daemon is running on the log dir {log_dir} (see {log_dir / RUNTIME_FILE}): "
                         "stop it first, or give this one another --log-dir") from None
    return fd


def log_dir_locked(log_dir: Path) -> bool:
    """Whether a running daemon holds ``log_dir``'s lock (see ``lock_log_dir``)."""
    try:
        fd = os.open(log_dir / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock just taken
    return False


def running_exchange_url(log_dir: str | Path) -> str:
    """The URL of the local exchange inside the daemon that writes ``<log_dir>/daemon.json``."""
    if not log_dir_locked(Path(log_dir)):  # daemon.json outlives its daemon: its URL would be dead
        raise SetupError(f"no running daemon's local exchange found in {log_dir} (no daemon holds its lock)")
    path = Path(log_dir) / RUNTIME_FILE
    try:
        url = str(msgspec.json.decode(path.read_bytes()).get("exchange_url", ""))
    except (OSError, msgspec.DecodeError, AttributeError) as e:
        raise SetupError(f"no running daemon's local exchange found in {path} ({e})") from None
    if not url:
        raise SetupError(f"{path} names no local exchange")
    return url


def watched_kill_flag(log_dir: str | Path) -> str:
    """The kill flag the daemon of ``log_dir`` watches (absolute, from its daemon.json), or ""."""
    try:
        flag = msgspec.json.decode(Path(log_dir, RUNTIME_FILE).read_bytes()).get("kill_flag", "")
    except (OSError, msgspec.DecodeError, AttributeError):
        return ""
    return flag if isinstance(flag, str) else ""


def write_runtime_file(log_dir: Path, *, venue: str, dry_run: bool, exchange_url: str, kill_flag: str,
                       started_ns: int) -> None:
    """``<log_dir>/daemon.json`` for this process (``kill_flag``: the absolute path ``hedge kill`` must write)."""
    info = {"pid": os.getpid(), "venue": venue, "dry_run": dry_run, "exchange_url": exchange_url,
            "kill_flag": kill_flag, "started_ns": started_ns}
    log_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(log_dir / RUNTIME_FILE, msgspec.json.encode(info))
    if exchange_url:
        log.info("daemon: local exchange at %s (see %s)", exchange_url, log_dir / RUNTIME_FILE)
