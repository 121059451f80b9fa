"""``hedge dashboard [--log-dir DIR ...] [--port 8501]``: the operator dashboard (Streamlit) on 127.0.0.1.

Owns: the options and their checks (the dashboard extra installed, a positive port and refresh),
and the Streamlit command line that serves ``hedge/dashboard/app.py`` on loopback only, headless,
without usage statistics, file watching or error details (the app shows its own error lines).
The process becomes the dashboard's server (``exec`` of ``hedge.dashboard.serve``: it reads the
journals the first page shows, then runs Streamlit's own command line in-process): Ctrl-C and
SIGTERM stop it as they stop Streamlit.

Must never: import the dashboard package's panels or Streamlit itself (it only locates the app
file), bind anything but 127.0.0.1, or write into a log dir.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

from hedge.commands.common import add_config_arg

HOST = "127.0.0.1"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--log-dir", metavar="DIR", action="append", default=None,
                   help="a log dir to show (repeat to compare runs; default: logs)")
    p.add_argument("--port", type=int, default=8501, help="port on 127.0.0.1 (default 8501)")
    p.add_argument("--refresh", type=float, default=3.0, metavar="SECONDS",
                   help="re-read the files every SECONDS (default 3; 0: off)")
    add_config_arg(p)


def streamlit_argv(app: str, args: argparse.Namespace) -> list[str]:
    argv = [
        sys.executable, "-m", "hedge.dashboard.serve", "run", app,
        "--server.address", HOST, "--server.port", str(args.port), "--server.headless", "true",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none",
        "--client.toolbarMode", "viewer", "--global.developmentMode", "false",
        "--", "--refresh", str(args.refresh),
    ]
    for d in args.log_dir or ["logs"]:
        argv += ["--log-dir", os.path.abspath(d)]
    if args.config:
        argv += ["--config", os.path.abspath(args.config)]
    return argv


def main(args: argparse.Namespace) -> int:  # noqa: RET503 - ends in exec
    if importlib.util.find_spec("streamlit") is None:
        print("hedge dashboard: Streamlit is not installed: pip install 'hedge[dashboard]'", file=sys.stderr)
        return 2
    if not 0 < args.port < 65536:
        print(f"hedge dashboard: --port must be 1..65535, got {args.port}", file=sys.stderr)
        return 2
    if args.refresh < 0:
        print("hedge dashboard: --refresh must be >= 0", file=sys.stderr)
        return 2
    missing = [d for d in args.log_dir or ["logs"] if not os.path.isdir(d)]
    if missing:
        print(f"hedge dashboard: no such log dir: {', '.join(missing)}", file=sys.stderr)
        return 2
    spec = importlib.util.find_spec("hedge.dashboard")
    assert spec is not None and spec.submodule_search_locations
    app = os.path.join(next(iter(spec.submodule_search_locations)), "app.py")
    print(f"hedge dashboard: http://{HOST}:{args.port} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    os.execv(sys.executable, streamlit_argv(app, args))  # replaces this process: never returns
