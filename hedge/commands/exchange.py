"""``hedge exchange``: run the local Binance USD-M exchange on loopback until SIGINT/SIGTERM.

Exit codes: 0 stopped by SIGTERM, 1 cannot listen, 2 bad usage or configuration, 130 stopped by
Ctrl-C (SIGINT).

Owns: the command line of the local exchange (address and port, the port checked as the config
checks a ``Port``; market source, speed, fault plan, rate limits, API key pairs incl.
``HEDGE_EXCHANGE_ACCOUNTS``) mapped onto
``LocalExchange.from_config``, and its start/stop on signals.

Must never: implement exchange behaviour (that is ``hedge.exchange``), or print a secret (only
the API keys are printed).
"""

from __future__ import annotations

import argparse
import os

from hedge.commands.common import add_config_arg


def listen_port(text: str) -> int:
    """An argparse ``type`` for a port to listen on: 1-65535, or 0 = any free port (the bound one is printed)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port {value} is out of range (1-65535, or 0 = any free port)")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arg(p)
    p.add_argument("--host", default=None, help="listen address (default: runtime.local_exchange.host, 127.0.0.1)")
    p.add_argument("--port", type=listen_port, default=None,
                   help="listen port, 1-65535 (default: runtime.local_exchange.port; 0 = any free port)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--market", nargs="+", metavar="FILE", help="recordings to loop: hftbacktest gz or Parquet")
    src.add_argument("--synthetic", metavar="SYMBOLS", help="comma-separated symbols with a synthetic order flow")
    p.add_argument("--speed", type=float, default=None, help="replay speed factor (default 1.0 = real time)")
    p.add_argument(
        "--faults", default="", metavar="SPEC", help="fault plan, e.g. order_503=0.05,depth_gap=0.001,seed=7"
    )
    p.add_argument("--limits", choices=["binance", "off"], default=None, help="rate limits (default: config)")
    p.add_argument(
        "--account",
        action="append",
        default=[],
        metavar="KEY:SECRET",
        help="API key pair (repeatable; also HEDGE_EXCHANGE_ACCOUNTS=k1:s1,k2:s2); default: the built-in test pair",
    )


def _accounts(args: argparse.Namespace) -> dict[str, str] | None:
    items = list(args.account) + [x for x in os.environ.get("HEDGE_EXCHANGE_ACCOUNTS", "").split(",") if x]
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, secret = item.partition(":")
        if not sep or not key or not secret:
            raise ValueError("an account is KEY:SECRET")
        pairs[key] = secret
    return pairs or None


def main(args: argparse.Namespace) -> int:
    import sys

    from hedge.app import run_async
    from hedge.commands.common import SignalStop, load_config_or_report
    from hedge.exchange.faults import FaultSpecError
    from hedge.exchange.limits import UNLIMITED, Limits
    from hedge.exchange.server import LocalExchange

    cfg = load_config_or_report(args.config)
    if cfg is None:
        return 2
    try:
        accounts = _accounts(args)
        synthetic = [s.strip().upper() for s in args.synthetic.split(",") if s.strip()] if args.synthetic else []
        overrides: dict[str, object] = {"accounts": accounts}
        if args.host:
            overrides["host"] = args.host
        if args.port is not None:
            overrides["port"] = args.port
        if args.market:
            overrides["market"], overrides["synthetic"] = args.market, []
        if synthetic:
            overrides["synthetic"], overrides["market"] = synthetic, []
        if args.speed is not None:
            if args.speed <= 0:
                raise ValueError("--speed must be > 0")
            overrides["speed"] = args.speed
        if args.faults is not None:
            overrides["faults"] = args.faults
        if args.limits is not None:
            overrides["limits"] = UNLIMITED if args.limits == "off" else Limits()
        exchange = LocalExchange.from_config(cfg.runtime.local_exchange, **overrides)
    except (ValueError, FaultSpecError, OSError) as exc:
        print(f"hedge exchange: {exc}", file=sys.stderr)
        return 2

    async def serve() -> int:
        stop = SignalStop()
        try:
            try:
                port = await exchange.start()
            except OSError as exc:
                print(f"hedge exchange: cannot listen on {exchange.host}:{exchange.port}: {exc}", file=sys.stderr)
                return 1
            print(f"local exchange on http://{exchange.host}:{port} (ws://{exchange.host}:{port}/stream)", flush=True)
            print(f"api keys: {', '.join(exchange.keys.api_keys())}", flush=True)
            try:
                await stop.event.wait()
            finally:
                await exchange.stop()
        finally:
            stop.close()
        print(f"local exchange stopped ({stop.signal})", flush=True)
        return stop.exit_code

    return run_async(serve())
