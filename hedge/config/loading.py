"""Loading: configs/*.yaml read, overlaid, normalised, validated and cross-checked into a ``Config``.

Owns: reading the four files (a missing file means its defaults) and calibrator.yaml (written by
``hedge calibrate``: its keys override strategy.yaml's ``calibrator``), refusing any other YAML
file in the directory (``risk.yml``, ``risks.yaml``: a misnamed file must not silently mean
defaults), applying the environment (``hedge.config.env``), normalising fractions, converting each
file to its section with every problem collected into one ``ConfigErrors``, then the cross-file
checks; every message names what set the value (``hedge.config.sources``).

Must never: hold a secret, or report only the first of several problems of a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import yaml

from hedge.config.checks import cross_checks
from hedge.config.env import apply_env
from hedge.config.errors import ConfigError, ConfigErrors, first_problem, locate, problems
from hedge.config.model import CALIBRATOR_FILE, CONFIG_FILES, DEFAULT_CONFIG_DIR, FILLPROB_FILE, SECTION_TYPES, Config
from hedge.config.normalise import normalize_fractions
from hedge.config.runtime import FillModel
from hedge.config.sources import Sources
from hedge.config.strategy import EXIT_PROFILES, CalibratorParams
from hedge.config.types import Section

YAML_SUFFIXES = (".yaml", ".yml")


def _convert(section: str, data: dict[str, Any], sources: Sources) -> Section:
    """``data`` as the section's Struct; ``ConfigErrors`` naming every invalid key (and what set it)."""
    tp = SECTION_TYPES[section]
    data = normalize_fractions(data, msgspec.inspect.type_info(tp), "", lambda key: sources.where(section, key))
    try:
        return msgspec.convert(data, tp, strict=True)
    except msgspec.ValidationError as exc:
        found = list(problems(data, tp, ""))
        if not found:  # msgspec's own words, with its path (e.g. a required key is missing)
            found = [first_problem(exc)]
        raise ConfigErrors([sources.error(section, *f) for f in found]) from None


def _unknown_files(d: Path) -> list[ConfigError]:
    """A YAML file in the config directory that hedge does not read is an error, never ignored: a
    misnamed ``risk.yml`` or ``risks.yaml`` would otherwise mean the defaults without a word."""
    known = [f"{name}.yaml" for name in CONFIG_FILES] + [CALIBRATOR_FILE, FILLPROB_FILE]
    errors = []
    for path in sorted(d.iterdir()) if d.is_dir() else []:
        if path.name.startswith(".") or path.suffix.lower() not in YAML_SUFFIXES or path.name in known:
            continue
        if f"{path.stem}.yaml" in known:
            expected = f"not read: hedge reads {path.stem}.yaml (rename the file; .yml is not an alias)"
        else:
            expected = f"unknown config file: hedge reads only {', '.join(known)}"
        errors.append(ConfigError(str(path), "", expected))
    return errors


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(path), where, f"invalid YAML: {problem}") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror}") from None


def _merge_fitted(section: dict[str, Any], keys: tuple[str, ...], path: Path, tp: type, sources: Sources,
                  section_name: str) -> None:
    """Overlay a fitted file (``calibrator.yaml`` by ``hedge calibrate``, ``fillprob.yaml`` by ``hedge
    calibrate-fills``) on the keys at ``keys`` inside ``section``."""
    if not path.exists():
        return
    data = _read_yaml(path)
    if data is None:
        return
    if not isinstance(data, dict):
        raise ConfigError(str(path), "", f"expected a mapping of keys, got {type(data).__name__}")
    found = locate(data, tp, "")
    if found is not None:
        raise ConfigError(str(path), *found)
    node = section
    for key in keys[:-1]:
        child = node.get(key)
        node[key] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    base = node.get(keys[-1])
    node[keys[-1]] = {**(base if isinstance(base, dict) else {}), **data}
    for key in data:
        sources.set_by(section_name, ".".join((*keys, key)), str(path))


def _apply_exit_profile(strategy: dict[str, Any]) -> None:
    """``exits.profile`` names the base of the section: its values, then the keys given next to it."""
    exits = strategy.get("exits")
    if isinstance(exits, dict) and exits.get("profile") in EXIT_PROFILES:
        strategy["exits"] = {**EXIT_PROFILES[exits["profile"]], **exits}


def load_config(directory: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate ``directory``/{runtime,risk,strategy,symbols}.yaml, then apply ``env``.

    A missing file means that section's defaults. Raises ``ConfigErrors`` listing every problem.
    """
    d = Path(directory) if directory is not None else DEFAULT_CONFIG_DIR
    env = os.environ if env is None else env
    sources = Sources(d)
    raw: dict[str, dict[str, Any]] = {}
    if directory is not None and not d.is_dir():
        raise ConfigErrors([ConfigError(str(d), "", "config directory does not exist")])
    errors = _unknown_files(d)
    for name in CONFIG_FILES:
        path = d / f"{name}.yaml"
        data: Any = {}
        if path.exists():
            try:
                data = _read_yaml(path)
            except ConfigError as e:
                errors.append(e)
                data = {}
        if data is None:
            data = {}
        if not isinstance(data, dict):
            errors.append(ConfigError(str(path), "", f"expected a mapping of keys, got {type(data).__name__}"))
            data = {}
        raw[name] = data
    try:
        _merge_fitted(raw["strategy"], ("calibrator",), d / CALIBRATOR_FILE, CalibratorParams, sources, "strategy")
    except ConfigError as e:
        errors.append(e)
    try:
        _merge_fitted(raw["runtime"], ("router", "auto", "model"), d / FILLPROB_FILE, FillModel, sources, "runtime")
    except ConfigError as e:
        errors.append(e)
    try:
        apply_env(raw, env, sources)
    except ConfigError as e:
        errors.append(e)
    _apply_exit_profile(raw["strategy"])
    sections: dict[str, Section] = {}
    for name in CONFIG_FILES:
        try:
            sections[name] = _convert(name, raw[name], sources)
        except ConfigErrors as e:
            errors.extend(e.errors)
    if errors:
        raise ConfigErrors(errors)
    cfg = Config(
        runtime=sections["runtime"],  # type: ignore[arg-type]
        risk=sections["risk"],  # type: ignore[arg-type]
        strategy=sections["strategy"],  # type: ignore[arg-type]
        symbols=sections["symbols"],  # type: ignore[arg-type]
        source=str(d),
    )
    errors = cross_checks(cfg, sources)
    if errors:
        raise ConfigErrors(errors)
    return cfg
