"""Ctrl-C (SIGINT) on the long commands: a clean stop, what was done so far, exit code 130.

Each test starts the real command in a subprocess, waits until its output shows it is working
(never a fixed sleep), sends SIGINT and checks the exit code and what it printed or wrote.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.kit.wait import wait_for_sync

ROOT = Path(__file__).resolve().parents[2]


class Proc:
    """A ``hedge`` subprocess whose stdout and stderr are collected by threads as they come."""

    def __init__(self, *args: str, cwd: Path = ROOT) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "hedge", *args], cwd=cwd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env={**os.environ})
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [threading.Thread(target=lambda s=s, d=d: d.extend(iter(s.readline, "")), daemon=True)
                         for s, d in ((self.proc.stdout, self.out), (self.proc.stderr, self.err))]
        for t in self._threads:
            t.start()

    def wait_for_output(self, text: str, timeout: float = 60) -> None:
        wait_for_sync(lambda: text in "".join(self.out + self.err) or self.proc.poll() is not None, timeout,
                      what=repr(text))
        assert self.proc.poll() is None, f"exited early ({self.proc.returncode}): {''.join(self.err)[-2000:]}"

    def interrupt(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=10)
        return rc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.slow
def test_ctrl_c_during_replay_writes_a_partial_summary_marked_interrupted(tmp_path: Path) -> None:
    out = tmp_path / "summary.json"
    # --speed 20: the bundled 8 minutes of market take ~24 s, so Ctrl-C lands in the middle
    p = Proc("replay", "--speed", "20", "--log-dir", str(tmp_path / "logs"), "--out", str(out))
    try:
        p.wait_for_output("replay: started")
        rc = p.interrupt()
    finally:
        p.kill()
    err = "".join(p.err)
    assert rc == 130, err[-2000:]
    assert "replay INTERRUPTED (Ctrl-C)" in err and "Traceback" not in err
    printed = json.loads(p.out[-1])
    written = json.loads(out.read_text())
    assert printed == written
    assert written["interrupted"] is True
    assert 0 < written["lines"] < 71_984  # the bundled recording has 71,984 lines: stopped part way


def test_ctrl_c_stops_the_local_exchange_with_130_and_sigterm_with_0() -> None:
    for sig, expected in ((signal.SIGINT, 130), (signal.SIGTERM, 0)):
        p = Proc("exchange", "--port", "0", "--synthetic", "BTCUSDT")
        try:
            p.wait_for_output("local exchange on http://")
            if sig is signal.SIGINT:
                rc = p.interrupt()
            else:
                p.proc.send_signal(sig)
                rc = p.proc.wait(timeout=60)
        finally:
            p.kill()
        assert rc == expected, "".join(p.err)[-2000:]


def test_ctrl_c_stops_record_with_its_summary_marked_interrupted(tmp_path: Path) -> None:
    out = tmp_path / "r.gz"
    p = Proc("record", "--symbols", "BTCUSDT", "--out", str(out), "--ws-url", "ws://127.0.0.1:1",
             "--rest-url", "http://127.0.0.1:1")
    try:
        p.wait_for_output("feeds: ")  # the feed is running (and retrying the closed port)
        rc = p.interrupt()
    finally:
        p.kill()
    assert rc == 130, "".join(p.err)[-2000:]
    summary = json.loads(p.out[-1])
    assert summary["interrupted"] is True and summary["out"] == str(out) and out.exists()
