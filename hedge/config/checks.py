"""Cross-file checks: references between the four config files that no single schema can check.

Owns: every check that needs two files (or two sections) at once: the strategy's universe and
the risk caps name defined symbols, groups and buckets exist, the book and the signals agree on
the imbalance depth, HTTP backoff bounds are ordered.

Must never: read a file or the environment, or change a value.
"""

from __future__ import annotations

from hedge.config.errors import ConfigError
from hedge.config.model import Config


def cross_checks(cfg: Config, dirname: str) -> list[ConfigError]:
    errors: list[ConfigError] = []
    sym_file = f"{dirname}/symbols.yaml"
    known = cfg.symbols.symbols
    for i, sym in enumerate(cfg.strategy.universe):
        if sym not in known:
            errors.append(
                ConfigError(
                    f"{dirname}/strategy.yaml",
                    f"universe[{i}]",
                    f"symbol {sym!r} is not defined in symbols.yaml (known: {sorted(known)})",
                )
            )
    for sym, info in known.items():
        if info.group and info.group not in cfg.symbols.correlation_groups:
            errors.append(ConfigError(sym_file, f"symbols.{sym}.group", f"unknown correlation group {info.group!r}"))
        if info.liquidity not in cfg.symbols.liquidity_buckets:
            errors.append(
                ConfigError(sym_file, f"symbols.{sym}.liquidity", f"unknown liquidity bucket {info.liquidity!r}")
            )
    for sym in cfg.risk.symbol_caps:
        if sym not in known:
            errors.append(
                ConfigError(f"{dirname}/risk.yaml", f"symbol_caps.{sym}", "symbol not defined in symbols.yaml")
            )
    rt = cfg.runtime
    if cfg.strategy.signals.imbalance_levels != rt.feeds.imbalance_levels:
        errors.append(
            ConfigError(
                f"{dirname}/strategy.yaml",
                "signals.imbalance_levels",
                f"must equal runtime.yaml feeds.imbalance_levels ({rt.feeds.imbalance_levels}): the book computes it",
            )
        )
    if rt.http.backoff_initial_s > rt.http.backoff_max_s:
        errors.append(ConfigError(f"{dirname}/runtime.yaml", "http.backoff_initial_s", "must be <= http.backoff_max_s"))
    return errors
