"""The real thing: ``hedge dashboard`` on a replay's log dir, opened in headless Chromium (Debian's
``chromium`` through Playwright): every panel's title and a figure from the state files render;
a screenshot of each panel is saved (HEDGE_DASHBOARD_SHOTS=DIR keeps them, e.g. docs/img)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

import pytest

from hedge.dashboard.app import PANELS
from tests.kit.wait import wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _figure(log_dir: Path, title: str) -> str:
    """One figure per panel, as the state files hold it and the panel prints it."""
    state = {f.stem: json.loads(f.read_text()) for f in (log_dir / "state").glob("*.json")}
    return {
        "Equity": f"{state['nav_state']['nav']:,.2f}",
        "Execution": f"{state['diagnostics']['decisions_vetoed']} vetoed",
        "Risk": state["risk_snapshot"]["trading_state"],
        "Router health": f"{state['router_health']['requests_sent']:,}",
        "Positions": state["positions_ledger"]["positions"][0]["symbol"],
        "Scores and factors": state["symbol_scores"]["symbols"][0]["symbol"],
        "Health": "/health: OK" if state["diagnostics"]["healthy"] else "/health: UNHEALTHY",
    }[title]


async def test_dashboard_in_chromium(classic_replay: tuple[object, Path], tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    log_dir = classic_replay[1]
    port = _free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hedge", "dashboard", "--log-dir", str(log_dir), "--port", str(port), "--refresh", "0",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    shots = Path(os.environ.get("HEDGE_DASHBOARD_SHOTS") or tmp_path)
    try:
        await wait_for(lambda: _listening(port) or server.returncode is not None, timeout=60, interval=0.1)
        assert server.returncode is None, "hedge dashboard exited"
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = await browser.new_page(viewport={"width": 1400, "height": 1100})
            await page.goto(f"http://127.0.0.1:{port}", timeout=60_000)
            for panel in PANELS:
                await page.get_by_role("tab", name=panel.TITLE, exact=True).click()
                tab = page.get_by_role("tabpanel").filter(has=page.locator("h2").filter(has_text=panel.TITLE))
                # a table's cells are drawn on a canvas; their text is in the grid's accessible cells
                in_table = panel.TITLE in ("Positions", "Scores and factors")
                await tab.get_by_text(_figure(log_dir, panel.TITLE)).first.wait_for(
                    state="attached" if in_table else "visible", timeout=60_000)
                if panel.TITLE in ("Equity", "Risk", "Router health"):  # their charts are drawn
                    await tab.locator("[data-testid=stVegaLiteChart]").first.wait_for(timeout=60_000)
                assert await tab.locator("[data-testid=stException]").count() == 0
                await page.wait_for_load_state("networkidle")
                name = panel.TITLE.lower().replace(" ", "-")
                await page.screenshot(path=str(shots / f"dashboard-{name}.png"), full_page=True)
            await browser.close()
        assert (shots / "dashboard-equity.png").stat().st_size > 10_000
    finally:
        server.send_signal(signal.SIGTERM)
        await asyncio.wait_for(server.wait(), 30)
