"""A failing disk never stops the publisher: errors are counted, the surface retried; and the
journal masks secrets that slipped into an event's text."""

from __future__ import annotations

import asyncio
import errno
from pathlib import Path

import pytest

from hedge.bus import Bus
from hedge.config import Config, RuntimeConfig, StateConfig
from hedge.events import Alert, Nav
from hedge.state import publisher as pub
from hedge.state import schemas as s
from hedge.state.journal import JournalWriter, read_journal
from hedge.state.manifest import read_surface
from hedge.state.masking import Masker
from hedge.state.observability import Observability
from tests.kit.wait import wait_for


async def test_write_errors_are_counted_and_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bus = Bus()
    obs = Observability(bus, Config(runtime=RuntimeConfig(state=StateConfig(min_interval_s=0.05))), tmp_path,
                        notifiers=[])
    real = pub.atomic_write
    failing = {"on": True}

    def flaky(path: Path, data: bytes, *, fsync: bool = True) -> None:
        if failing["on"] and path.name == "nav_state.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data, fsync=fsync)

    monkeypatch.setattr(pub, "atomic_write", flaky)
    task = asyncio.create_task(obs.publisher.run())
    bus.publish(Nav(nav=123.0, wallet_balance=123.0, unrealized_pnl=0.0, source="sim", recv_ns=1))
    await wait_for(lambda: obs.model.write_stats.errors >= 2, what="two failed writes")
    assert obs.model.write_stats.errors >= 2  # retried, and counted each time
    assert not (obs.state_dir / "nav_state.json").exists()
    assert (obs.state_dir / "kpis.json").exists()  # the other surfaces were not held up
    failing["on"] = False
    await wait_for((obs.state_dir / "nav_state.json").exists, what="nav_state.json once the disk works")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    nav = read_surface(obs.state_dir, s.NavState)
    assert nav is not None and nav.nav == 123.0
    diag = read_surface(obs.state_dir, s.Diagnostics)
    assert diag is not None and diag.state_write_errors >= 2


def test_journal_masks_secrets_in_payloads(tmp_path: Path) -> None:
    w = JournalWriter(tmp_path / "events.jsonl", masker=Masker(env={"BINANCE_API_SECRET": "s3cr3t-value-xyz"}))
    w.write("Alert", Alert(severity="critical", title="rejected", text="signature for s3cr3t-value-xyz invalid"))
    w.close()
    raw = (tmp_path / "events.jsonl").read_text()
    assert "s3cr3t-value-xyz" not in raw
    rec = next(read_journal(tmp_path / "events.jsonl")).decode()
    assert rec["text"] == "signature for *** invalid"
