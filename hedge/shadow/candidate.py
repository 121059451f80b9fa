"""The shadow pipeline's candidate configuration: a config directory and/or an overlay over the live one.

Owns: ``candidate_config`` — ``runtime.shadow.config_dir`` loaded like ``--config`` (empty: the live
configuration itself), then ``runtime.shadow.overlay`` (a YAML file ``{runtime|risk|strategy|symbols:
{key: value, ...}}``) merged over it, mappings key by key, anything else replaced; validated like any
configuration. The candidate's own shadow feature is off (a shadow never starts a shadow).

Must never: change the live configuration (it returns a new one).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import yaml

from hedge.config import Config, load_config
from hedge.config.errors import ConfigError, ConfigErrors
from hedge.config.model import SECTION_TYPES


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


def overlay_config(cfg: Config, overlay: Mapping[str, Any], where: str = "overlay") -> Config:
    """``cfg`` with ``overlay`` (section -> keys) merged over it; ``ConfigErrors`` naming ``where`` if invalid."""
    sections: dict[str, Any] = {}
    for name, over in overlay.items():
        if name not in SECTION_TYPES or not isinstance(over, Mapping):
            raise ConfigErrors([ConfigError(where, name, f"expected one of {sorted(SECTION_TYPES)} with a mapping")])
        raw = _merge(msgspec.to_builtins(getattr(cfg, name)), over)
        try:
            sections[name] = msgspec.convert(raw, SECTION_TYPES[name], strict=False)
        except msgspec.ValidationError as e:
            raise ConfigErrors([ConfigError(where, name, str(e))]) from None
    return msgspec.structs.replace(cfg, **sections)


def candidate_config(cfg: Config, env: Mapping[str, str] | None = None) -> Config:
    """The shadow's candidate for the live ``cfg`` (see the module docstring)."""
    sh = cfg.runtime.shadow
    cand = load_config(sh.config_dir, env) if sh.config_dir else cfg
    if sh.overlay:
        try:
            data = yaml.safe_load(Path(sh.overlay).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigErrors([ConfigError(sh.overlay, "", f"cannot read the shadow overlay: {e}")]) from None
        if not isinstance(data, Mapping):
            raise ConfigErrors([ConfigError(sh.overlay, "", "expected a mapping of sections")])
        cand = overlay_config(cand, data, sh.overlay)
    features = msgspec.structs.replace(cand.runtime.features, shadow_pipeline=False)
    return msgspec.structs.replace(cand, runtime=msgspec.structs.replace(cand.runtime, features=features))
