"""``hedge replay`` over the real BTCUSDT recording: the daemon's pipeline on the simulated venue, deterministic."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from hedge.app import run_async
from hedge.config import Config
from hedge.feeds.recording import bundled_btcusdt, bundled_cryptofeed
from hedge.replay.runner import Replay
from hedge.replay.summary import ReplaySummary
from hedge.state.journal import read_journal
from tests.kit.config import make_config
from tests.kit.replay import BUNDLED_FINGERPRINT, CLASSIC_FINGERPRINT, classic_config, run_replay

ROOT = Path(__file__).resolve().parents[3]


def replay(log_dir: Path, cfg: Config | None = None, files: list[Path] | None = None) -> ReplaySummary:
    return run_replay(log_dir, cfg, files)[0]


def with_latency(ms: float) -> Config:
    return make_config(base=classic_config(), runtime__replay__latency_ms=ms)


def lines(path: Path) -> int:
    return sum(1 for _ in read_journal(path)) if path.exists() else 0


@pytest.fixture
def first(bundled_replay: tuple[ReplaySummary, Path]) -> tuple[ReplaySummary, Path]:
    return bundled_replay


@pytest.fixture(scope="module")
def classic(classic_replay: tuple[ReplaySummary, Path]) -> tuple[ReplaySummary, Path]:
    """The bundled recording with the classic exit profile and no fitted calibrator: it trades."""
    return classic_replay


def test_the_default_strategy_stays_out_where_the_gate_sees_no_edge(first: tuple[ReplaySummary, Path]) -> None:
    s, _ = first
    assert s.intents > 0 and s.approved == 0 and s.vetoes == {"expected_return": s.intents}
    assert s.orders == s.fills == 0 and s.pnl == 0.0
    assert s.calibration is not None and s.calibration.trades == 0
    assert s.fingerprint == BUNDLED_FINGERPRINT  # changed on purpose by issue 25 only


def test_the_classic_profile_trades_the_bundled_recording(classic: tuple[ReplaySummary, Path]) -> None:
    s, _ = classic
    assert s.events == s.lines == 71_984 and s.bad_lines == 0 and s.book_gaps == 0
    assert s.recorded_s == pytest.approx(479.784)
    assert s.intents > 0 and s.approved > 0 and s.orders > 0 and s.fills > 0
    assert s.intents == s.approved + s.vetoed
    assert sum(s.vetoes.values()) >= s.vetoed  # a veto may carry several reasons
    assert 0 < s.orders_filled <= s.orders and s.orders_filled <= s.fills
    assert 0 <= s.maker_fills <= s.fills and 0.0 <= s.maker_ratio <= 1.0
    assert s.fees > 0.0 and s.traded_notional > 0.0 and s.filled_qty > 0.0
    # The account adds up: NAV change = realized PnL - fees + what is still open.
    assert s.end_nav - s.start_nav == pytest.approx(s.realized_pnl - s.fees + s.unrealized_pnl, abs=1e-6)
    assert s.pnl == pytest.approx(s.end_nav - s.start_nav)
    assert 0.0 <= s.max_drawdown < 1.0
    assert s.fingerprint == CLASSIC_FINGERPRINT  # the pre-issue-25 defaults, exactly: the profile is faithful
    assert s.calibration is not None and s.calibration.trades >= 1
    money = (s.filled_qty, s.traded_notional, s.maker_ratio, s.fees, s.realized_pnl, s.unrealized_pnl, s.pnl,
             s.end_nav, *s.positions.values())
    assert all(len(repr(x).partition(".")[2]) <= 10 for x in money), money  # no binary float noise in the JSON


def test_journals_and_state_files_are_written_like_live(classic: tuple[ReplaySummary, Path]) -> None:
    s, d = classic
    assert lines(d / "orders_sent.jsonl") == s.orders
    assert lines(d / "risk_vetoes.jsonl") == s.vetoed
    assert lines(d / "orders_success.jsonl") + lines(d / "orders_failed.jsonl") == s.approved
    kinds = [r.kind for r in read_journal(d / "events.jsonl")]
    assert kinds[0] == "replay_started" and kinds[-1] == "replay_finished"
    assert kinds.count("Fill") == s.fills
    kpis = json.loads((d / "state" / "kpis.json").read_text())
    assert kpis["fills"] == s.fills
    assert (d / "state" / "manifest.json").exists() and (d / "state" / "nav_state.json").exists()
    # The state files end where the summary ends (not at the last periodic account snapshot).
    nav = json.loads((d / "state" / "nav_state.json").read_text())
    assert nav["nav"] == pytest.approx(s.end_nav, abs=1e-9)
    assert kpis["unrealized_pnl"] == pytest.approx(s.unrealized_pnl, abs=1e-9)
    assert kpis["realized_pnl"] == pytest.approx(s.realized_pnl, abs=1e-9)
    assert kpis["fees"] == pytest.approx(s.fees, abs=1e-9)
    positions = json.loads((d / "state" / "positions_state.json").read_text())["positions"]
    assert {p["symbol"]: p["qty"] for p in positions if p["qty"]} == {k: v for k, v in s.positions.items() if v}
    diag = json.loads((d / "state" / "diagnostics.json").read_text())
    assert diag["books"][0]["last_data_age_s"] < 1.0  # ages in event time, not against today's wall clock


def test_replaying_twice_gives_the_same_fingerprint(first: tuple[ReplaySummary, Path], tmp_path: Path) -> None:
    s1, _ = first
    s2 = replay(tmp_path)
    assert s2.fingerprint == s1.fingerprint
    strip = {"wall_s", "events_per_s"}

    def outcome(s: ReplaySummary) -> dict[str, object]:  # all but the speed and the trade list's path
        assert s.performance is not None
        d = {k: v for k, v in msgspec.structs.asdict(s).items() if k not in strip}
        return {**d, "performance": msgspec.structs.replace(s.performance, trades_csv="")}

    assert outcome(s2) == outcome(s1)


def test_cli_replay_in_another_process_agrees_and_writes_the_summary(
    first: tuple[ReplaySummary, Path], tmp_path: Path
) -> None:
    out = tmp_path / "summary.json"
    r = subprocess.run(
        [sys.executable, "-m", "hedge", "replay", "--out", str(out), "--log-dir", str(tmp_path / "logs"),
         "--config", str(ROOT / "configs")],
        cwd=ROOT, capture_output=True, text=True, timeout=90,
        env={**os.environ, "PYTHONHASHSEED": "12345"},  # another hash seed: no set/dict order may leak in
    )
    assert r.returncode == 0, r.stderr
    printed = msgspec.json.decode(r.stdout.strip().splitlines()[-1], type=ReplaySummary)
    written = msgspec.json.decode(out.read_bytes(), type=ReplaySummary)
    assert printed == written
    assert printed.fingerprint == first[0].fingerprint  # configs/ (and its fitted calibrator): no trade either
    assert (tmp_path / "logs" / "risk_vetoes.jsonl").exists()
    perf, same = printed.performance, first[0].performance
    assert perf is not None and same is not None and perf.trades_csv == str(tmp_path / "logs" / "trades.csv")
    assert msgspec.structs.replace(perf, trades_csv="") == msgspec.structs.replace(same, trades_csv="")
    assert f"trade list: {perf.trades_csv}" in r.stderr


def test_latency_is_deterministic_and_changes_the_outcome(classic: tuple[ReplaySummary, Path], tmp_path: Path) -> None:
    a = replay(tmp_path / "a", with_latency(50.0))
    b = replay(tmp_path / "b", with_latency(50.0))
    assert a.fingerprint == b.fingerprint and a.latency_ms == 50.0
    assert a.fingerprint != classic[0].fingerprint
    assert a.orders > 0


def test_cryptofeed_recordings_replay_too(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    s = replay(tmp_path, files=[bundled_cryptofeed()])
    assert s.lines > 1000 and s.bad_lines == 0 and s.events > 0 and s.book_gaps == 0
    assert len(s.fingerprint) == 64
    # The default universe (BTCUSDT) is not in this 2021 recording: said, not a silent "0 intents".
    assert s.intents == 0
    warned = [r.getMessage() for r in caplog.records if "no book data for" in r.getMessage()]
    assert len(warned) == 1 and "BTCUSDT" in warned[0] and "SUSHIUSDT" in warned[0]


def test_no_missing_symbol_warning_when_the_universe_is_recorded(
    first: tuple[ReplaySummary, Path], caplog: pytest.LogCaptureFixture
) -> None:
    s = replay(first[1] / "again", cfg=classic_config())
    assert s.fills > 0 and not [r for r in caplog.records if "no book data for" in r.getMessage()]


def test_cli_usage_errors_exit_2_and_failures_exit_1(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hedge", "replay", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)

    r = run("no/such/file.gz")
    assert r.returncode == 2 and "no such file" in r.stderr
    r = run("--speed", "0", "--log-dir", str(tmp_path))
    assert r.returncode == 2 and "--speed must be > 0" in r.stderr
    (tmp_path / "a-file").write_text("x")
    r = run("--log-dir", str(tmp_path / "a-file" / "logs"))  # cannot be created: a clear failure, exit 1
    assert r.returncode == 1 and "hedge replay: failed:" in r.stderr and "Traceback" not in r.stderr
    r = run("--log-dir", str(tmp_path / "logs"), "--out", str(tmp_path / "a-file" / "s.json"))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "cannot write --out" in r.stderr
    assert json.loads(r.stdout)["fingerprint"]  # the run's summary is not lost


def test_pacing_never_changes_the_outcome(tmp_path: Path) -> None:
    # The first 12,000 lines (~3 minutes of market, with trades) under the bundled file's name.
    cut = tmp_path / "btcusdt_20240718.gz"
    with gzip.open(bundled_btcusdt()[0], "rb") as src:
        head = [src.readline() for _ in range(12_000)]
    cut.write_bytes(gzip.compress(b"".join(head)))
    fast = replay(tmp_path / "fast", classic_config(), files=[cut])
    assert fast.fills > 0 and fast.orders > 0

    async def yield_once(_: float) -> None:
        await asyncio.sleep(0)  # the loop gets to run before EVERY line, as a slow wall clock would allow

    paced = Replay(classic_config(), [cut], log_dir=tmp_path / "paced", speed=1.0, wall_clock=lambda: 0.0,
                   sleep=yield_once)
    assert run_async(paced.run()).fingerprint == fast.fingerprint
