"""The doctor's machine checks: a taken metrics port, missing keys (a key is never shown), the
dependency bounds, an unwritable log dir, and the exit code of a set of checks."""

from __future__ import annotations

import socket
from pathlib import Path

from hedge.doctor import host
from hedge.doctor.result import Check, exit_code
from tests.kit.config import make_config


def test_taken_metrics_port_fails(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        c = host.metrics_port(make_config(tmp_path, runtime__metrics__port=port))
    assert c.status == "FAIL" and "in use" in c.detail
    assert host.metrics_port(make_config(tmp_path, runtime__metrics__port=port)).status == "PASS"


def test_keys_missing_fail_and_present_keys_are_never_shown(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, runtime__venue="binance")
    c = host.api_keys(cfg, {"BINANCE_API_KEY": "k"})
    assert c.status == "FAIL" and c.detail == "BINANCE_API_SECRET not set"
    c = host.api_keys(cfg, {"BINANCE_API_KEY": "AKEYVALUE1234", "BINANCE_API_SECRET": "SECRETVALUE99"})
    assert c.status == "PASS" and "AKEYVALUE" not in c.line() and "SECRETVALUE" not in c.line()


def test_dependency_bounds() -> None:
    assert host._meets("4.5.90", ">=4.5.90,<5")
    assert not host._meets("4.5.8", ">=4.5.90,<5")
    assert not host._meets("5.0.0", ">=4.5.90,<5")
    assert host.python_and_dependencies().status == "PASS"


def test_unwritable_log_dir_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    c = host.log_dir(make_config(blocker / "logs"))
    assert c.status == "FAIL" and "not writable" in c.detail


def test_exit_code_is_the_worst_status() -> None:
    ok, warn, fail = Check("a", "PASS", ""), Check("b", "WARN", ""), Check("c", "FAIL", "")
    assert (exit_code([ok]), exit_code([ok, warn]), exit_code([warn, fail, ok]), exit_code([])) == (0, 1, 2, 0)


async def test_alert_endpoints_reachable_or_named(tmp_path: Path) -> None:
    import asyncio

    assert (await host.alert_endpoints(make_config(tmp_path))).detail == "none enabled"
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        up = make_config(tmp_path, runtime__alerts__webhook={"enabled": True, "url": f"http://127.0.0.1:{port}/hook"})
        assert (await host.alert_endpoints(up)).status == "PASS"
    down = await host.alert_endpoints(up)
    assert down.status == "FAIL" and f"webhook: 127.0.0.1:{port} unreachable" in down.detail
    tg = make_config(tmp_path, runtime__alerts__telegram={"enabled": True, "base_url": f"http://127.0.0.1:{port}"})
    c = await host.alert_endpoints(tg, {})
    assert c.status == "FAIL" and "HEDGE_TELEGRAM_TOKEN not set" in c.detail
