"""First render time and memory of ``hedge dashboard`` on a log dir whose journals hold 1 million lines.

Generates the dir with scripts/make_big_logdir.py (unless ``--log-dir`` is given), starts the real
``hedge dashboard`` on a free loopback port, opens it in headless Chromium (Debian's ``chromium``,
through Playwright) and times navigation -> every panel drawn (the first panel, Equity: its title,
figures and NAV chart; the app runs only the open tab), then each other panel's switch time. Memory: the dashboard
server's peak RSS (VmHWM) after the render. Goals (issue 17): first render <= 3 s, memory <= 300 MB.
Also reported: how long the server took to listen (``server_ready_s``; it reads the journals before it
listens: ``server_warm_s``), the server-side time of each script run (``server_script_s``, from the
app's log: one per page load and panel switch) and the load average at the start and the end (the
browser's times swing with it on this shared 2-core machine).

    python scripts/bench_dashboard.py [--log-dir DIR] [--lines 1000000] [--renders 3]
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PANELS = ("Equity", "Execution", "Risk", "Router health", "Positions", "Scores and factors", "Health")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def render_once(page: Any, url: str) -> tuple[float, float]:
    """Navigation -> the first panel (Equity) drawn: (its title and figures, its charts too)."""
    t0 = time.perf_counter()
    page.goto(url, timeout=60_000)
    page.locator("h2").filter(has_text=PANELS[0]).first.wait_for(timeout=120_000)
    page.get_by_text("NAV (USDT)").first.wait_for(timeout=120_000)
    figures = time.perf_counter() - t0
    page.locator("[data-testid=stVegaLiteChart]").nth(3).wait_for(timeout=120_000)
    return figures, time.perf_counter() - t0


def switch_times(page: Any) -> dict[str, float]:
    """Click -> each other panel's title and content drawn (the app runs only the open tab)."""
    out = {}
    for title in PANELS[1:]:
        t0 = time.perf_counter()
        page.get_by_role("tab", name=title, exact=True).click()
        panel = page.get_by_role("tabpanel").filter(has=page.locator("h2").filter(has_text=title))
        panel.locator("[data-testid=stCaptionContainer]").first.wait_for(timeout=120_000)
        out[title] = round(time.perf_counter() - t0, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log-dir", type=Path)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--renders", type=int, default=3, help="page loads after the first (fresh sessions)")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = None
    log_dir = args.log_dir
    if log_dir is None:
        tmp = tempfile.mkdtemp(prefix="hedge-bigdir-")
        log_dir = Path(tmp)
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_big_logdir.py"), str(log_dir),
                        "--lines", str(args.lines)], check=True, stdout=subprocess.DEVNULL)
    lines = sum(p.read_bytes().count(b"\n") for p in log_dir.glob("*.jsonl*"))
    port = free_port()
    err = tempfile.NamedTemporaryFile(prefix="hedge-dash-", suffix=".err", delete=False)  # noqa: SIM115
    t_start = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "hedge", "dashboard", "--log-dir", str(log_dir),
                               "--port", str(port), "--refresh", "0"],
                              stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        ready = time.perf_counter() - t_start
        load = os.getloadavg()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            first = render_once(page, url)
            rss_first = peak_rss_mb(server.pid)
            switches = switch_times(page)
            again = [render_once(browser.new_page(), url) for _ in range(args.renders)]
            browser.close()
        rss = peak_rss_mb(server.pid)
        load_end = os.getloadavg()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    log = Path(err.name).read_text()
    os.unlink(err.name)
    scripts = [float(x) for x in re.findall(r"dashboard: script run in ([0-9.]+) s", log)]
    warm = re.findall(r"modules imported in ([0-9.]+) s", log)
    print(json.dumps({"journal_lines": lines, "server_ready_s": round(ready, 3),
                      "server_warm_s": float(warm[0]) if warm else None,
                      "server_script_s": scripts, "loadavg_start": [round(x, 2) for x in load],
                      "loadavg_end": [round(x, 2) for x in load_end], "first_render_s": round(first[1], 3),
                      "first_figures_s": round(first[0], 3), "next_renders_s": [round(x[1], 3) for x in again],
                      "panel_switch_s": switches, "peak_rss_mb_after_first": round(rss_first, 1),
                      "peak_rss_mb": round(rss, 1), "goal_render_s": 3.0, "goal_rss_mb": 300.0,
                      "ok": first[1] <= 3.0 and rss <= 300.0}))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
