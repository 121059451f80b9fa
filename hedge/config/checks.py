"""Cross-file checks: references between the four config files that no single schema can check.

Owns: every check that needs two files (or two sections) at once: the strategy's universe and
the risk caps name defined symbols, groups and buckets exist, the book and the signals agree on
the imbalance depth, HTTP backoff bounds are ordered. Each error names what set the offending
value (its file, or the environment variable that overrode it).

Must never: read a file or the environment, or change a value.
"""

from __future__ import annotations

from hedge.config.errors import ConfigError
from hedge.config.model import Config
from hedge.config.sources import Sources


def cross_checks(cfg: Config, sources: Sources) -> list[ConfigError]:
    errors: list[ConfigError] = []
    known = cfg.symbols.symbols
    for i, sym in enumerate(cfg.strategy.universe):
        if sym not in known:
            errors.append(sources.error(
                "strategy", f"universe[{i}]", f"symbol {sym!r} is not defined in symbols.yaml (known: {sorted(known)})"
            ))
    for sym, info in known.items():
        if info.group and info.group not in cfg.symbols.correlation_groups:
            errors.append(sources.error("symbols", f"symbols.{sym}.group", f"unknown correlation group {info.group!r}"))
        if info.liquidity not in cfg.symbols.liquidity_buckets:
            errors.append(
                sources.error("symbols", f"symbols.{sym}.liquidity", f"unknown liquidity bucket {info.liquidity!r}")
            )
    for sym in cfg.risk.symbol_caps:
        if sym not in known:
            errors.append(sources.error("risk", f"symbol_caps.{sym}", "symbol not defined in symbols.yaml"))
    rt = cfg.runtime
    if cfg.strategy.signals.imbalance_levels != rt.feeds.imbalance_levels:
        errors.append(sources.error(
            "strategy",
            "signals.imbalance_levels",
            f"must equal runtime.yaml feeds.imbalance_levels ({rt.feeds.imbalance_levels}, "
            f"from {sources.where('runtime', 'feeds.imbalance_levels')}): the book computes it",
        ))
    if rt.http.backoff_initial_s > rt.http.backoff_max_s:
        bound = f"{rt.http.backoff_max_s}, from {sources.where('runtime', 'http.backoff_max_s')}"
        errors.append(sources.error("runtime", "http.backoff_initial_s", f"must be <= http.backoff_max_s ({bound})"))
    return errors
