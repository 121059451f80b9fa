"""Environment overrides of the config files.

Owns: ``DRY_RUN``, ``BINANCE_TESTNET`` (venue binance-testnet), ``EXECUTOR_ONCE``,
``HEDGE_LOG_LEVEL``, ``HEDGE_FEATURE_<NAME>=0|1``, the seed's flag names (``SEED_FLAGS``, strictly
``0|1|true|false``; ``RISK_ENGINE_V6_ENABLED`` may only say on: the typed RiskDecision is always on
in hedge), and ``HEDGE_<FILE>__<KEY>__<SUBKEY>=<yaml value>``
applied to the raw files before validation, each recorded in ``Sources`` as the origin of its
key (so that an invalid or normalised value is reported against the variable, not the file).

Must never: read a secret (API keys are read by the venue adapter only) or validate a value.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Annotated, Any, get_args, get_origin, get_type_hints

import msgspec
import yaml

from hedge.config.errors import ConfigError
from hedge.config.model import CONFIG_FILES, SECTION_TYPES
from hedge.config.runtime import Features
from hedge.config.sources import Sources

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

# The seed's environment names of the feature flags -> ``runtime.features.<name>``. When the same flag
# is also given as ``HEDGE_FEATURE_<NAME>``, hedge's own name wins (a warning names both).
SEED_FLAGS = {
    "INTEL_V6_ENABLED": "intel",
    "PIPELINE_V6_SHADOW_ENABLED": "shadow_pipeline",
    "ROUTER_AUTOTUNE_V6_ENABLED": "router_autotune",
    "ROUTER_AUTOTUNE_V6_APPLY_ENABLED": "router_autotune_apply",
    "FEEDBACK_ALLOCATOR_V6_ENABLED": "feedback_allocator",
}
RISK_ENGINE_FLAG = "RISK_ENGINE_V6_ENABLED"  # always on in hedge: 0 is a configuration error
_STRICT = {"1": True, "true": True, "0": False, "false": False}


def _env_bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"environment {name}", "", f"expected 0/1/true/false, got {value!r}")


def _strict_bool(name: str, value: str) -> bool:
    v = _STRICT.get(value.strip().lower())
    if v is None:
        raise ConfigError(f"environment {name}", "", f"expected 0, 1, true or false, got {value!r}")
    return v


def _seed_flags(env: Mapping[str, str]) -> dict[str, tuple[bool, str]]:
    """The seed's flag variables present in ``env``: flag -> (value, variable)."""
    if RISK_ENGINE_FLAG in env and not _strict_bool(RISK_ENGINE_FLAG, env[RISK_ENGINE_FLAG]):
        raise ConfigError(
            f"environment {RISK_ENGINE_FLAG}", "",
            "the typed RiskDecision (risk engine v6) is always on in hedge and cannot be turned off: "
            "unset the variable or set it to 1",
        )
    return {flag: (_strict_bool(var, env[var]), var) for var, flag in SEED_FLAGS.items() if var in env}


def _set_path(tree: dict[str, Any], keys: list[str], value: Any) -> None:
    node = tree
    for k in keys[:-1]:
        child = node.get(k)
        if not isinstance(child, dict):
            child = {}
            node[k] = child
        node = child
    node[keys[-1]] = value


def apply_env(raw: dict[str, dict[str, Any]], env: Mapping[str, str], sources: Sources) -> None:
    """Apply the environment overrides to the raw files, recording each variable in ``sources`` as
    the origin of the key it set."""
    rt = raw["runtime"]

    def set_runtime(keys: list[str], value: Any, name: str) -> None:
        _set_path(rt, keys, value)
        sources.set_by("runtime", ".".join(keys), f"environment {name}")

    if "DRY_RUN" in env:
        set_runtime(["dry_run"], _env_bool("DRY_RUN", env["DRY_RUN"]), "DRY_RUN")
    if "BINANCE_TESTNET" in env and _env_bool("BINANCE_TESTNET", env["BINANCE_TESTNET"]):
        set_runtime(["venue"], "binance-testnet", "BINANCE_TESTNET")
    if "EXECUTOR_ONCE" in env:
        set_runtime(["once"], _env_bool("EXECUTOR_ONCE", env["EXECUTOR_ONCE"]), "EXECUTOR_ONCE")
    if "HEDGE_LOG_LEVEL" in env:
        set_runtime(["log_level"], env["HEDGE_LOG_LEVEL"].upper(), "HEDGE_LOG_LEVEL")
    flags = {f for f in Features.__struct_fields__}
    seed = _seed_flags(env)
    for flag, (on, var) in seed.items():
        own = f"HEDGE_FEATURE_{flag.upper()}"
        if own in env:
            if _env_bool(own, env[own]) != on:
                log.warning("config: %s=%s and %s=%s disagree: %s wins", var, env[var], own, env[own], own)
            continue
        set_runtime(["features", flag], on, var)
    for name, value in env.items():
        if name.startswith("HEDGE_FEATURE_"):
            flag = name[len("HEDGE_FEATURE_") :].lower()
            if flag not in flags:
                raise ConfigError(f"environment {name}", "", f"unknown feature flag {flag!r}; known: {sorted(flags)}")
            set_runtime(["features", flag], _env_bool(name, value), name)
        elif name.startswith("HEDGE_") and "__" in name:
            parts = name[len("HEDGE_") :].split("__")
            section, keys = parts[0].lower(), parts[1:]
            if section not in raw or not all(keys):
                raise ConfigError(
                    f"environment {name}",
                    "",
                    f"expected HEDGE_<{'|'.join(s.upper() for s in CONFIG_FILES)}>__<KEY>[__<SUBKEY>...]",
                )
            keys = _env_keys(SECTION_TYPES[section], keys)
            _set_path(raw[section], keys, yaml.safe_load(value) if value != "" else "")
            sources.set_by(section, ".".join(keys), f"environment {name}")


def _env_keys(tp: Any, keys: list[str]) -> list[str]:
    """Map upper-case env segments onto schema keys: struct fields by name, dict keys verbatim."""
    out: list[str] = []
    for key in keys:
        base = get_args(tp)[0] if get_origin(tp) is Annotated else tp
        if isinstance(base, type) and issubclass(base, msgspec.Struct):
            fields = {f.encode_name.lower().replace("-", "_"): f for f in msgspec.structs.fields(base)}
            f = fields.get(key.lower())
            if f is None:
                out.append(key.lower())  # unknown: let validation name it
                tp = Any
                continue
            out.append(f.encode_name)
            tp = get_type_hints(base, include_extras=True)[f.name]
        elif get_origin(base) is dict:
            out.append(key)
            tp = get_args(base)[1]
        else:
            out.append(key.lower())
            tp = Any
    return out
