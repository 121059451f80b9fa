"""Strategy plugins, selected by name from strategy.yaml ``strategies: [{name, enabled, params}]``.

Owns: the registry (name -> parameter Struct and implementation) and the validation of each
entry's params against its typed Struct, with errors that name the file, the entry and the key.

Must never: import an engine stage; a new strategy is one file here plus one registry line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from hedge.config import ConfigError, ConfigErrors, StrategyConfig
from hedge.signals.strategies.base import Strategy, StrategyParams
from hedge.signals.strategies.micro_scalper import MicroScalper, MicroScalperParams
from hedge.signals.strategies.vol_trend import VolTrend, VolTrendParams

REGISTRY: dict[str, tuple[type[StrategyParams], Callable[[Any], Strategy]]] = {
    MicroScalper.name: (MicroScalperParams, MicroScalper),
    VolTrend.name: (VolTrendParams, VolTrend),
}

def build_strategies(cfg: StrategyConfig, file: str = "strategy.yaml") -> list[Strategy]:
    """Instantiate every enabled strategy; raise ``ConfigErrors`` naming ``file`` and each bad entry."""
    out: list[Strategy] = []
    errors: list[ConfigError] = []
    seen: set[str] = set()
    for i, entry in enumerate(cfg.strategies):
        where = f"strategies[{i}]"
        spec = REGISTRY.get(entry.name)
        if spec is None:
            errors.append(
                ConfigError(file, f"{where}.name", f"unknown strategy {entry.name!r}; known: {sorted(REGISTRY)}")
            )
            continue
        if entry.name in seen:
            errors.append(ConfigError(file, f"{where}.name", f"strategy {entry.name!r} is listed twice"))
            continue
        seen.add(entry.name)
        ptype, factory = spec
        try:
            params = msgspec.convert(entry.params, ptype)
        except msgspec.ValidationError as exc:
            msg = str(exc)
            key, _, expected = msg.partition(" - at `$")
            path = expected.rstrip("`").lstrip(".")
            if "unknown field" in key.lower():
                field = key.split("`")[1] if "`" in key else ""
                errors.append(
                    ConfigError(
                        file,
                        f"{where}.params.{field}",
                        f"unknown parameter of {entry.name!r}; known: {sorted(ptype.__struct_fields__)}",
                    )
                )
            else:
                errors.append(ConfigError(file, f"{where}.params{'.' + path if path else ''}", key))
            continue
        except ValueError as exc:
            errors.append(ConfigError(file, f"{where}.params", str(exc)))
            continue
        if entry.enabled:
            out.append(factory(params))
    if errors:
        raise ConfigErrors(errors)
    return out
