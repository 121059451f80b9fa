"""The doctor's checks of the machine and the configuration (no network).

Owns: Python and the installed dependencies against ``hedge``'s requirements, the build (compiled or
pure), the log directory (writable, free disk), the metrics port (free to bind), the API keys
(present; only their length is ever shown), the calibrator (``calibrator_problems``: FAIL where
``refuses``, else WARN) and the enabled alert endpoints (a TCP connection to each, and the Telegram token present).

Must never: print or log a key or token, keep a file it wrote to test the log directory, hold a
port, or send an alert.
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import shutil
import socket
import sys
import tempfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

from hedge.config import Config
from hedge.config.calibration_check import calibrator_problems, refuses
from hedge.doctor.result import Check, Status, passed

MIN_PYTHON = (3, 11)
DISK_FAIL_BYTES = 100 * 1024 * 1024  # journals rotate at 50 MB a file: less than this is a stop soon
DISK_WARN_BYTES = 1024 * 1024 * 1024
_REQ = re.compile(r"^([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*([^;]*)(;.*)?$")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _meets(version: str, spec: str) -> bool:
    """Does ``version`` meet ``spec`` (comma-separated ``>=``/``<`` bounds, as hedge's requirements write them)?"""
    have = _version_tuple(version)
    for bound in filter(None, (b.strip() for b in spec.split(","))):
        op, want = re.match(r"([<>=!~]*)(.*)", bound).groups()  # type: ignore[union-attr]
        w = _version_tuple(want)
        if (op == ">=" and have < w) or (op == "<" and have >= w):
            return False
    return True


def python_and_dependencies(dist: str = "hedge") -> Check:
    py = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        return Check("python", "FAIL", f"Python {py}", f"hedge needs Python >= {'.'.join(map(str, MIN_PYTHON))}")
    bad, found = [], []
    for req in metadata.requires(dist) or []:
        m = _REQ.match(req)
        if m is None or (m.group(3) and "extra" in m.group(3)):
            continue
        name, spec, marker = m.group(1), m.group(2).strip(), m.group(3) or ""
        if "win32" in marker and sys.platform != "win32" and "!=" not in marker:
            continue
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            bad.append(f"{name} missing (needs {spec})")
            continue
        found.append(f"{name} {version}")
        if spec and not _meets(version, spec):
            bad.append(f"{name} {version} (needs {spec})")
    if bad:
        return Check("python", "FAIL", f"Python {py}; " + "; ".join(bad), "reinstall: make .venv/.installed-run")
    return passed("python", f"Python {py}; {len(found)} dependencies in range")


def build() -> Check:
    """Compiled hot path or pure Python (``hedge.native``): information, never a warning (both behave the same)."""
    from hedge import native

    return passed("build", native.status())


def log_dir(cfg: Config) -> Check:
    d = Path(cfg.runtime.log_dir)
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=".doctor-"):
            pass
    except OSError as e:
        return Check("log dir", "FAIL", f"{d}: not writable ({e.strerror})",
                     "fix its permissions or set runtime.log_dir")
    free = shutil.disk_usage(d).free
    detail = f"{d}: writable, {free / 2**30:.1f} GiB free"
    if free < DISK_FAIL_BYTES:
        return Check("log dir", "FAIL", detail, "free disk space: the journals need room to rotate")
    if free < DISK_WARN_BYTES:
        return Check("log dir", "WARN", detail, "less than 1 GiB free: the journals may fill it")
    return passed("log dir", detail)


def metrics_port(cfg: Config) -> Check:
    m = cfg.runtime.metrics
    if not m.enabled:
        return passed("metrics port", "metrics disabled")
    if m.port == 0:
        return passed("metrics port", f"{m.host}:0 (an ephemeral port)")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((m.host, m.port))
        except OSError as e:
            why = "in use" if e.errno == errno.EADDRINUSE else e.strerror
            return Check("metrics port", "FAIL", f"{m.host}:{m.port} {why}",
                         "another daemon running? (`hedge status`) or set runtime.metrics.port")
    return passed("metrics port", f"{m.host}:{m.port} free")


def api_keys(cfg: Config, env: Mapping[str, str] | None = None) -> Check:
    if cfg.runtime.venue == "local":
        return passed("api keys", "local exchange: its built-in test key")
    e = os.environ if env is None else env
    missing = [n for n in ("BINANCE_API_KEY", "BINANCE_API_SECRET") if not e.get(n)]
    if missing:
        return Check("api keys", "FAIL", f"{', '.join(missing)} not set",
                     "set them in the environment or in .env (see .env.example)")
    return passed("api keys", f"BINANCE_API_KEY set ({len(e['BINANCE_API_KEY'])} chars), BINANCE_API_SECRET set")


def calibrator(cfg: Config, now_ms: int) -> Check:
    problems = calibrator_problems(cfg, now_ms)
    if not problems:
        cal = cfg.strategy.calibrator
        return passed("calibrator", f"fitted on {cal.samples} samples up to {cal.data_to}")
    status: Status = "FAIL" if refuses(cfg) else "WARN"
    return Check("calibrator", status, "; ".join(problems),
                 "a real run refuses to start on it" if status == "FAIL" else "fine on the local exchange or a dry run")


async def alert_endpoints(cfg: Config, env: Mapping[str, str] | None = None) -> Check:
    a = cfg.runtime.alerts
    urls = {name: url for name, on, url in (("telegram", a.telegram.enabled, a.telegram.base_url),
                                              ("webhook", a.webhook.enabled, a.webhook.url)) if on}
    if not urls:
        return passed("alert endpoints", "none enabled")
    e = os.environ if env is None else env
    no_token = "telegram" in urls and not e.get("HEDGE_TELEGRAM_TOKEN")
    problems = ["telegram: HEDGE_TELEGRAM_TOKEN not set"] if no_token else []
    for name, url in urls.items():
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, port), a.timeout_s)
            writer.close()
        except (OSError, TimeoutError) as exc:
            problems.append(f"{name}: {parts.hostname}:{port} unreachable ({type(exc).__name__})")
    if problems:
        return Check("alert endpoints", "FAIL", "; ".join(problems), "fix runtime.alerts or the network")
    return passed("alert endpoints", f"{', '.join(urls)} reachable")
