"""``hedge check-config [DIR | --config DIR]``: validate a configuration directory; exit 2 with every error.

Owns: the directory argument (positional or ``--config DIR``, as every other command takes it);
reporting every configuration error (file: key: expected) and the one-line OK summary.

Must never: start a service, touch the network or write a file; it only loads and validates.
"""

from __future__ import annotations

import argparse
import sys

from hedge.commands.common import add_config_arg


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", default=None, help="configuration directory (default: configs)")
    add_config_arg(p)


def main(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hedge.config import ConfigErrors, load_config
    from hedge.signals.strategies import build_strategies

    if args.dir is not None and args.config is not None and Path(args.dir) != Path(args.config):
        print(f"hedge check-config: two directories given ({args.dir} and --config {args.config}): give one",
              file=sys.stderr)
        return 2
    directory = args.dir or args.config or "configs"
    try:
        cfg = load_config(Path(directory))
        build_strategies(cfg.strategy, f"{directory}/strategy.yaml")  # each strategy's params, typed
    except ConfigErrors as exc:
        for err in exc.errors:
            print(f"config error: {err}", file=sys.stderr)
        print(f"{len(exc.errors)} error(s) in {directory}", file=sys.stderr)
        return 2
    rt = cfg.runtime
    print(
        f"{directory}: OK (venue={rt.venue}, dry_run={rt.dry_run}, universe={','.join(cfg.strategy.universe)}, "
        f"strategies={','.join(s.name for s in cfg.strategy.strategies if s.enabled)})"
    )
    return 0
