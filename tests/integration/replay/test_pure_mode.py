"""``HEDGE_PURE=1`` (the standard library's gzip instead of isal / zlib-ng) replays to the same fingerprint.

The suite's in-process replays (``bundled_replay``) read with the fastest inflater installed; this
one runs ``hedge replay`` in a subprocess with ``HEDGE_PURE=1``, so both reading paths are held to
``BUNDLED_FINGERPRINT``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hedge.feeds import recording
from hedge.feeds.recording import bundled_btcusdt
from hedge.replay.summary import ReplaySummary
from tests.kit.replay import BUNDLED_FINGERPRINT


@pytest.mark.slow
def test_pure_mode_replays_to_the_fingerprint_of_the_fast_reader(
    tmp_path: Path, bundled_replay: tuple[ReplaySummary, Path]
) -> None:
    assert recording._INFLATER[0] != "gzip"  # ccxt brings zlib-ng, the dev extra isal: the suite reads fast
    assert bundled_replay[0].fingerprint == BUNDLED_FINGERPRINT
    env = {**os.environ, "HEDGE_PURE": "1"}
    probe = "from hedge.feeds import recording; print(recording._INFLATER[0])"
    assert subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                          check=True, timeout=120).stdout.strip() == "gzip"
    files = [str(p) for p in bundled_btcusdt()]
    out = subprocess.run([sys.executable, "-m", "hedge", "replay", *files, "--log-dir", str(tmp_path / "logs")],
                         env=env, capture_output=True, text=True, check=True, timeout=300).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["fingerprint"] == BUNDLED_FINGERPRINT and summary["events"] == bundled_replay[0].events
