"""The kill switch: a flag file, SIGUSR1 or ``hedge kill`` -> HALTED and every open order cancelled.

Owns: where the flag lives (``kill_flag_path``: ``risk.kill_switch.flag_file``, default ``KILL``,
relative to the daemon's log dir, so ``run``, ``kill`` and ``status`` of one ``--log-dir`` agree
whatever their working directory), the flag file's format (one JSON object: reason, ts_ns, pid;
written atomically), the operator's removal of it (``clear_flag``), what to say about a flag
found at start-up (``halted_notice``), and the service that watches for it and for SIGUSR1 in
the running daemon. The operator side is ``hedge kill`` (hedge/commands/kill.py): it writes the
flag (``--clear`` removes it) and, with ``--cancel``, awaits an injected ``CancelAllFn`` (the
venue adapter's cancel-everything call).

Design: the flag file is the single source of truth, so a halt survives a restart: a daemon
that starts with the flag present halts at once. SIGUSR1 writes the flag too. Engaging calls
``engage(reason)`` (the risk stage's ``halt``: HALTED plus a ``CancelAll`` request the venue
executes). The file is checked every ``poll_s`` (a stat; 0.25 s by default, well inside the 2 s
budget). Each engagement, and the flag's later removal, is published as a ``KillSwitch`` event
(journaled in events.jsonl, alerted): HALTED itself stays until the operator restarts.

Must never: remove the flag file from the daemon (only an operator does, e.g. ``hedge kill
--clear``), or import a venue.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import msgspec

from hedge.events import KillSwitch
from hedge.model.clock import Clock, LiveClock

log = logging.getLogger(__name__)

CancelAllFn = Callable[[], Coroutine[Any, Any, None]]


class KillFlag(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    ts_ns: int = 0
    pid: int = 0


def kill_flag_path(flag_file: str | Path, log_dir: str | Path) -> Path:
    """The flag of the daemon on ``log_dir``: ``flag_file`` relative to the log dir (an absolute path as is)."""
    return Path(log_dir) / flag_file


def write_flag(path: str | Path, reason: str, *, ts_ns: int) -> None:
    """Create (or replace) the flag file atomically: temp file, fsync, rename (``ts_ns``: the writer's clock)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    data = msgspec.json.encode(KillFlag(reason=reason, ts_ns=ts_ns, pid=os.getpid()))
    with open(tmp, "wb") as f:
        f.write(data + b"\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, p)


def read_flag(path: str | Path) -> KillFlag | None:
    """The flag, or None when there is none. A file that does not parse still means "halt"."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return KillFlag(reason=f"unreadable flag file ({exc.strerror})")
    try:
        return msgspec.json.decode(raw, type=KillFlag)
    except msgspec.DecodeError:
        return KillFlag(reason=raw.decode(errors="replace").strip()[:200] or "flag file present")


def clear_flag(path: str | Path) -> KillFlag | None:
    """Remove the flag (the operator's ``hedge kill --clear``); the flag it removed, or None if there was none."""
    flag = read_flag(path)
    if flag is not None:
        Path(path).unlink(missing_ok=True)
    return flag


def halted_notice(flag: KillFlag, path: Path, log_dir: str | Path, now_ns: int) -> str:
    """What an operator must read about a flag present: it halts the daemon, why, since when, and
    the command that clears it."""
    since = f", written {(now_ns - flag.ts_ns) / 60e9:.1f} min ago" if flag.ts_ns else ""
    return (f"kill flag {path} is present ({flag.reason}{since}): the daemon is HALTED and sends no order; "
            f"to resume: stop the daemon, `hedge kill --clear --log-dir {log_dir}`, start it again")


class KillSwitchService:
    """Watches the flag file and SIGUSR1 while the daemon runs; engages once per appearance."""

    name = "kill-switch"

    def __init__(
        self,
        flag_file: str | Path,
        engage: Callable[[str], None],
        *,
        poll_s: float = 0.25,
        signals: bool = True,
        publish: Callable[[KillSwitch], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.flag_file = Path(flag_file)
        self.clock: Clock = clock or LiveClock()
        self.engage = engage
        self.publish = publish
        self.poll_s = poll_s
        self.signals = signals
        self.engaged = 0  # how many times the switch fired
        self._armed = True  # re-armed when the flag disappears

    def check(self) -> bool:
        """Engage if the flag is present and has not fired yet; True when it fired now."""
        flag = read_flag(self.flag_file)
        if flag is None:
            if not self._armed:
                self._armed = True
                log.warning("kill switch: flag %s removed; trading stays HALTED until a restart", self.flag_file)
                self._publish(False, f"flag {self.flag_file} removed; HALTED until a restart")
            return False
        if not self._armed:
            return False
        self._armed = False
        self.fire(f"kill switch: {flag.reason}")
        return True

    def fire(self, reason: str) -> None:
        self.engaged += 1
        log.critical("%s -> HALTED, cancelling all open orders", reason)
        self.engage(reason)
        self._publish(True, reason)

    def _publish(self, engaged: bool, reason: str) -> None:
        if self.publish is not None:
            now = self.clock.now_ns()
            self.publish(KillSwitch(engaged=engaged, reason=reason, ts_ms=now // 1_000_000, recv_ns=now))

    def on_signal(self) -> None:
        reason = f"SIGUSR1 (pid {os.getpid()})"
        try:
            write_flag(self.flag_file, reason, ts_ns=self.clock.now_ns())  # the halt survives a restart
        except OSError as exc:
            log.error("kill switch: cannot write %s (%s); halting anyway", self.flag_file, exc.strerror)
        self._armed = False
        self.fire(f"kill switch: {reason}")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        use_signal = self.signals and threading.current_thread() is threading.main_thread()
        if use_signal:
            loop.add_signal_handler(signal.SIGUSR1, self.on_signal)
        try:
            while True:
                self.check()
                await asyncio.sleep(self.poll_s)
        finally:
            if use_signal:
                loop.remove_signal_handler(signal.SIGUSR1)
