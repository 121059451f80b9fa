"""``hedge doctor [--venue V] [--json]``: is this machine, configuration, key and account fit to run?

Owns: the command's options, printing one line per check (PASS / WARN / FAIL, what was found, a
hint) or a JSON list, and the exit code: 0 all pass, 1 warnings, 2 a failure (an invalid
configuration is a failure; the other checks then do not run).

Must never: print a secret, or start the daemon.
"""

from __future__ import annotations

import argparse
import sys

from hedge.commands.common import add_config_arg


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_arg(p)
    p.add_argument("--venue", choices=("local", "binance-testnet", "binance"), default=None,
                   help="the venue to check (default: runtime.venue)")
    p.add_argument("--rest-url", default="", metavar="URL",
                   help="the venue's REST host (default: from the configuration; with --venue local: a running "
                        "local exchange instead of an in-process one)")
    p.add_argument("--json", action="store_true", help="print the checks as a JSON list")


def main(args: argparse.Namespace) -> int:
    import asyncio
    import os

    import msgspec

    from hedge.config import ConfigErrors, load_config
    from hedge.doctor.result import Check, exit_code
    from hedge.doctor.run import doctor
    from hedge.model.clock import LiveClock

    env = dict(os.environ)
    if args.venue:
        env["HEDGE_RUNTIME__VENUE"] = args.venue
    try:
        cfg = load_config(args.config, env=env)
    except ConfigErrors as exc:
        checks = [Check("config", "FAIL", f"{len(exc.errors)} error(s): {exc.errors[0]}",
                        f"`hedge check-config {args.config or 'configs'}` lists them")]
    else:
        first = Check("config", "PASS", f"{args.config or 'configs'}: valid (venue {cfg.runtime.venue})")
        checks = [first, *asyncio.run(doctor(cfg, now_ms=LiveClock().now_ms(), env=env, rest_url=args.rest_url))]
    if args.json:
        sys.stdout.write(msgspec.json.encode(checks).decode() + "\n")
    else:
        for c in checks:
            print(c.line())
        counts = {s: sum(c.status == s for c in checks) for s in ("PASS", "WARN", "FAIL")}
        print(f"doctor: {counts['PASS']} passed, {counts['WARN']} warnings, {counts['FAIL']} failed")
    return exit_code(checks)
