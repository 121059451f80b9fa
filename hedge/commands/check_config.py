"""``hedge check-config [DIR]``: validate a configuration directory; exit 2 with every error.

Owns: reporting every configuration error (file: key: expected) and the one-line OK summary.

Must never: start a service, touch the network or write a file; it only loads and validates.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", default="configs", help="configuration directory (default: configs)")


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hedge.config import ConfigErrors, load_config
    from hedge.signals.strategies import build_strategies

    try:
        cfg = load_config(Path(args.dir))
        build_strategies(cfg.strategy, f"{args.dir}/strategy.yaml")  # each strategy's params, typed
    except ConfigErrors as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        print(f"{len(exc.errors)} error(s) in {args.dir}", file=sys.stderr)
        return 2
    rt = cfg.runtime
    print(
        f"{args.dir}: OK (venue={rt.venue}, dry_run={rt.dry_run}, universe={','.join(cfg.strategy.universe)}, "
        f"strategies={','.join(s.name for s in cfg.strategy.strategies if s.enabled)})"
    )
    return 0
