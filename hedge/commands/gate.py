"""``hedge gate``: serve the pre-trade gate over HTTP (``/pretrade/check``, ``/posttrade/log``,
``/health``, ``/metrics``, ``/openapi.json``) until SIGINT/SIGTERM.

Exit codes: 0 stopped by SIGTERM, 2 bad usage or configuration (incl. a non-loopback ``--host``
without ``HEDGE_GATE_TOKEN``, or a venue that cannot be built), 130 stopped by Ctrl-C.

Owns: the gate's command line (address, port, venue, log dir) mapped onto ``StandaloneGate``.

Must never: print the token, or implement the gate (``hedge.gate``, wired by ``hedge.daemon.gate``).
"""

from __future__ import annotations

import argparse
import sys

from hedge.commands.common import add_config_arg
from hedge.commands.exchange import listen_port


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arg(p)
    p.add_argument("--host", default=None,
                   help="listen address (default: runtime.gate.host, 127.0.0.1; any other needs HEDGE_GATE_TOKEN)")
    p.add_argument("--port", type=listen_port, default=None,
                   help="listen port (default: runtime.gate.port, 8000; 0 = any free port)")
    p.add_argument("--venue", choices=["local", "binance-testnet", "binance"],
                   help="the account the gate decides with (default: runtime.venue; local = a running "
                        "`hedge exchange` on runtime.local_exchange.port)")
    p.add_argument("--log-dir", metavar="DIR", help="override runtime.log_dir")


def main(args: argparse.Namespace) -> int:
    import msgspec

    from hedge.app import run_async
    from hedge.commands.common import EXIT_INTERRUPTED, load_config_or_report
    from hedge.daemon.errors import SetupError
    from hedge.daemon.gate import StandaloneGate

    cfg = load_config_or_report(args.config)
    if cfg is None:
        return 2
    overrides: dict[str, object] = {"dry_run": False}
    if args.venue:
        overrides["venue"] = args.venue
    if args.log_dir:
        overrides["log_dir"] = args.log_dir
    cfg = msgspec.structs.replace(cfg, runtime=msgspec.structs.replace(cfg.runtime, **overrides))

    async def serve() -> tuple[int, str]:
        g = cfg.runtime.gate
        gate = StandaloneGate(cfg, host=args.host or g.host, port=g.port if args.port is None else args.port)
        rc = await gate.run()
        return rc, gate.engine.stop_reason

    try:
        rc, why = run_async(serve())
    except (SetupError, ValueError) as exc:
        print(f"hedge gate: {exc}", file=sys.stderr)
        return 2
    return EXIT_INTERRUPTED if rc == 0 and why == "SIGINT" else rc
