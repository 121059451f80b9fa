"""``hedge doctor`` against the local exchange: every check passes on a sound set-up, and a
withdrawal-enabled key, a skewed clock and an unknown symbol each fail the right check (exit 2)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from hedge.config import Config
from hedge.doctor.result import Check, exit_code
from hedge.doctor.run import diagnose
from hedge.exchange.auth import DEFAULT_API_KEY, DEFAULT_API_SECRET
from hedge.exchange.server import LocalExchange
from tests.kit.config import repo_config
from tests.kit.exchange import running_exchange

ROOT = Path(__file__).resolve().parents[3]


def sound_config(tmp: Path, **changes: Any) -> Config:
    """The repository's configuration, on an ephemeral metrics port, its calibrator's age not checked."""
    return repo_config(runtime__log_dir=str(tmp / "logs"), runtime__metrics__port=0,
                       strategy__calibrator__max_age_days=0.0, **changes)


async def run_doctor(ex: LocalExchange, cfg: Config) -> dict[str, Check]:
    checks = await diagnose(cfg, rest=ex.base_url, spot=ex.base_url, api_key=DEFAULT_API_KEY,
                            api_secret=DEFAULT_API_SECRET, now_ms=int(time.time() * 1000), env={})
    return {c.name: c for c in checks}


def failed(checks: dict[str, Check]) -> set[str]:
    return {name for name, c in checks.items() if c.status != "PASS"}


async def test_all_pass_on_the_local_exchange(tmp_path: Path) -> None:
    async with running_exchange() as ex:
        checks = await run_doctor(ex, sound_config(tmp_path))
    assert failed(checks) == set(), [c.line() for c in checks.values()]
    assert {"python", "log dir", "metrics port", "api keys", "calibrator", "clock skew", "key permissions",
            "symbols", "position mode", "margin/leverage", "listen key", "rate limits", "alert endpoints"} <= set(checks)
    assert exit_code(checks.values()) == 0
    assert "withdrawals disabled" in checks["key permissions"].detail


async def test_withdrawal_enabled_key_fails(tmp_path: Path) -> None:
    async with running_exchange() as ex, aiohttp.ClientSession() as http:
        url = f"{ex.base_url}/_hedge/actions/api_restrictions?enableWithdrawals=true"
        async with http.post(url) as r:
            assert (await r.json())["enableWithdrawals"] is True
        checks = await run_doctor(ex, sound_config(tmp_path))
    assert failed(checks) == {"key permissions"}
    assert "withdrawals are ENABLED" in checks["key permissions"].detail
    assert exit_code(checks.values()) == 2


async def test_skewed_clock_fails_beyond_half_the_recv_window(tmp_path: Path) -> None:
    async with running_exchange(faults="clock_skew_ms=4000") as ex:
        checks = await run_doctor(ex, sound_config(tmp_path))
    assert failed(checks) == {"clock skew"}, [c.line() for c in checks.values()]
    assert checks["clock skew"].status == "FAIL" and "recvWindow" in checks["clock skew"].hint
    assert exit_code(checks.values()) == 2


async def test_skew_over_500ms_warns(tmp_path: Path) -> None:
    async with running_exchange(faults="clock_skew_ms=1500") as ex:
        checks = await run_doctor(ex, sound_config(tmp_path))
    assert failed(checks) == {"clock skew"} and checks["clock skew"].status == "WARN"
    assert exit_code(checks.values()) == 1


async def test_unknown_symbol_fails(tmp_path: Path) -> None:
    async with running_exchange() as ex:
        checks = await run_doctor(ex, sound_config(tmp_path, strategy__universe=["BTCUSDT", "NOSUCHUSDT"]))
    assert failed(checks) == {"symbols"}
    assert checks["symbols"].detail == "NOSUCHUSDT not listed"
    assert exit_code(checks.values()) == 2


async def test_command_prints_json_and_exits_2(tmp_path: Path) -> None:
    async with running_exchange() as ex, aiohttp.ClientSession() as http:
        async with http.post(f"{ex.base_url}/_hedge/actions/api_restrictions?enableWithdrawals=true") as r:
            assert r.status == 200
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hedge", "doctor", "--config", str(ROOT / "configs"), "--rest-url", ex.base_url,
            "--json", cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "HEDGE_RUNTIME__METRICS__PORT": "0",
                 "HEDGE_RUNTIME__LOG_DIR": str(tmp_path / "logs"), "BINANCE_API_SECRET": "s3cr3t-never-shown"},
        )
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 2, err.decode()[-2000:]
    checks = {c.name: c for c in msgspec.json.decode(out, type=list[Check])}
    assert checks["key permissions"].status == "FAIL" and checks["config"].status == "PASS"
    assert b"s3cr3t" not in out + err
