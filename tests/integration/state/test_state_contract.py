"""The state-file contract after a realistic run: manifest <-> schemas <-> files, both ways,
and the figures in the files match the events that were published."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
import orjson
import pytest

from hedge.state import schemas as s
from hedge.state.manifest import MANIFEST_FILE, SURFACES, read_manifest, read_surface, schema_fields
from hedge.state.observability import Observability
from tests.integration.state.session import SYMBOL, publish_session
from tests.kit.wait import wait_for


def _kpis_written(d: Path) -> bool:
    try:
        k = read_surface(d, s.KpisState)
    except msgspec.DecodeError:
        return False
    return k is not None and k.fills == 2


async def test_every_surface_parses_after_a_run(running: Observability) -> None:
    figures = publish_session(running.bus)
    await running.bus.drain(5)
    d = running.state_dir
    await wait_for(lambda: _kpis_written(d) and (d / "diagnostics.json").exists())
    running.publisher.flush()

    manifest = read_manifest(d)
    files = {p.name for p in d.iterdir()} - {MANIFEST_FILE}
    # Both ways: every listed surface has a file, every file is listed, and nothing else is there.
    assert {e.file for e in manifest.surfaces} == files
    assert {e.name for e in manifest.surfaces} == {x.name for x in SURFACES}
    by_name = {x.name: x for x in SURFACES}
    for entry in manifest.surfaces:
        schema = by_name[entry.name].schema
        assert entry.schema == schema.__name__
        assert entry.schema_version == schema.SCHEMA_VERSION
        assert entry.fields == schema_fields(schema)
        assert entry.json_schema == msgspec.json.schema(schema)
        raw = (d / entry.file).read_bytes()
        obj = msgspec.json.decode(raw, type=schema, strict=True)  # parses with its schema
        assert obj.schema_version == entry.schema_version
        assert sorted(orjson.loads(raw)) == sorted(entry.fields)  # the file has exactly the manifest's fields
        assert obj.updated_ns > 0

    nav = read_surface(d, s.NavState)
    assert nav is not None and nav.nav == 10_003.5 and nav.peak_nav == 10_003.5 and nav.readings == 2
    k = read_surface(d, s.KpisState)
    assert k is not None
    assert (k.fills, k.maker_fills, k.closing_fills, k.wins) == (2, 1, 1, 1)
    assert k.maker_ratio == 0.5 and k.win_rate == 1.0 and k.realized_pnl == pytest.approx(0.4)
    px = figures["last_px"]
    assert k.turnover == pytest.approx(0.01 * px + 0.01 * (px + 40.0), rel=1e-3)
    assert k.total_pnl == pytest.approx(k.realized_pnl - k.fees + 0.5)
    pos = read_surface(d, s.PositionsState)
    assert pos is not None and [p.symbol for p in pos.positions] == [SYMBOL] and pos.gross_notional > 0
    ledger = read_surface(d, s.PositionsLedger)
    assert ledger is not None and ledger.positions[0].tp_price > ledger.positions[0].entry_price
    risk = read_surface(d, s.RiskSnapshotState)
    assert risk is not None and risk.trading_state == "REDUCING" and risk.reason == "cvar" and risk.cvar == 0.003
    router = read_surface(d, s.RouterHealthState)
    assert router is not None
    assert router.orders_by_outcome == {"FILLED": 2, "NEW": 2} and router.requests_sent == 2
    assert router.throttled_429 == 1
    assert [(r.symbol, r.orders, r.fallback_rate) for r in router.symbols] == [(SYMBOL, 3, 0.5)]
    assert 2.5 <= router.ack_latency_ms_p50 <= 10.0  # the NEW answers came 3 ms after the requests
    scores = read_surface(d, s.SymbolScores)
    assert scores is not None and [r.symbol for r in scores.symbols] == ["BTCUSDT", "ETHUSDT"]
    hybrid = read_surface(d, s.HybridScores)
    assert hybrid is not None and [r.symbol for r in hybrid.ranking] == ["ETHUSDT", "BTCUSDT"]
    assert hybrid.ranking[1].signals == {"micro_scalper": 0.42}
    funding = read_surface(d, s.FundingSnapshot)
    assert funding is not None and funding.symbols[0].annualized == pytest.approx(0.0001 * 3 * 365)
    basis = read_surface(d, s.BasisSnapshot)
    assert basis is not None and basis.symbols[0].basis_bps == pytest.approx(3.2 / (basis.symbols[0].index_price) * 1e4)

    diag = read_surface(d, s.Diagnostics)
    assert diag is not None
    assert diag.vetoes == {"gross_exposure": 1, "spread": 1}
    assert (diag.decisions_allowed, diag.decisions_vetoed) == (2, 1)
    assert diag.exits.intents == 1 and diag.exits.by_reason == {"take_profit": 1}
    assert diag.exits.orders_sent == 1 and diag.exits.fills == 1
    market = next(f for f in diag.feeds if f.connection == "market")
    assert (market.parse_errors, market.gaps, market.reconnects, market.connected) == (2, 1, 1, True)
    assert market.messages == int(figures["market"])
    assert [(b.symbol, b.state) for b in diag.books] == [(SYMBOL, "VALID")]
    assert 0.0 <= diag.books[0].last_data_age_s < 5.0
    bt = diag.messages["BookTicker"] + diag.messages["Trade"]
    assert bt == int(figures["market"])
    assert 0.0 <= diag.last_event_age_s["Trade"] < 5.0
    assert diag.alerts.raised == 2  # the session's own alert + the derived "trading REDUCING"
    assert diag.state_writes > 0 and diag.state_write_errors == 0
    assert diag.healthy and diag.health_reasons == []


async def test_a_surface_is_rewritten_at_most_once_per_interval(tmp_path: Path) -> None:
    from hedge.bus import Bus
    from hedge.events import Nav
    from tests.integration.state.conftest import obs_config

    bus = Bus()
    cfg = obs_config(min_interval_s=0.3)
    obs = Observability(bus, cfg, tmp_path)
    task = asyncio.create_task(obs.publisher.run())
    try:
        await wait_for(lambda: (obs.state_dir / "nav_state.json").exists())
        writes = []
        t0 = time.monotonic()
        i = 0
        last_mtime = 0
        # ~1 s of events, and until 2 writes are seen (a loaded machine may run the writer late)
        while time.monotonic() < t0 + 1.0 or (len(writes) < 2 and time.monotonic() < t0 + 30):
            i += 1
            bus.publish(Nav(nav=1000.0 + i, wallet_balance=1000.0, unrealized_pnl=0.0, source="sim",
                            recv_ns=time.time_ns()))
            m = (obs.state_dir / "nav_state.json").stat().st_mtime_ns
            if m != last_mtime:
                writes.append(m)
                last_mtime = m
            await asyncio.sleep(0.002)  # the events' pace (~500/s), not a wait
        # ~1 s of events at ~500/s -> about 1/0.3 + 1 writes (one per 0.3 s of the time taken), never one per event.
        assert 2 <= len(writes) <= (time.monotonic() - t0) / 0.3 + 2, writes
        assert i > 100
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # On shutdown the newest value is on disk.
    nav = read_surface(obs.state_dir, s.NavState)
    assert nav is not None and nav.nav == 1000.0 + i
