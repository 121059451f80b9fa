"""Configurations for tests: the built-in defaults with exactly the changes a test names.

``make_config(log_dir, runtime__router__maker_timeout_s=0.5, risk={"gross_exposure_max": 3.0})``:
a keyword is a path into ``Config`` with ``__`` between the levels; a dict value changes only
the named fields of the section it lands on (recursively), any other value replaces the field.
``repo_configs(tmp)`` is a private copy of the repository's configs/ for tests that load files.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import msgspec

from hedge.config import Config, default_config, load_config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"


def _changed(obj: Any, path: list[str], value: Any) -> Any:
    head, rest = path[0], path[1:]
    current = getattr(obj, head)
    if rest:
        value = _changed(current, rest, value)
    elif isinstance(value, dict) and isinstance(current, msgspec.Struct):
        for key, v in value.items():
            current = _changed(current, [key], v)
        value = current
    return msgspec.structs.replace(obj, **{head: value})


def make_config(log_dir: Path | str | None = None, *, base: Config | None = None, **changes: Any) -> Config:
    """``base`` (default: the built-in defaults) with ``runtime.log_dir`` = ``log_dir`` and ``changes``."""
    cfg = base if base is not None else default_config()
    if log_dir is not None:
        changes = {"runtime__log_dir": str(log_dir), **changes}
    for key, value in changes.items():
        cfg = _changed(cfg, key.split("__"), value)
    return cfg


def repo_config(**changes: Any) -> Config:
    """The repository's configs/ (without the environment), with ``changes`` as ``make_config`` takes them."""
    return make_config(base=load_config(CONFIGS, env={}), **changes)


def repo_configs(tmp: Path) -> Path:
    """configs/ copied to ``tmp/configs``, to change freely."""
    d = tmp / "configs"
    shutil.copytree(CONFIGS, d)
    return d
